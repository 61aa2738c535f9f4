/**
 * One published message, framed once (RFC 6455 section 5.2, a server's unmasked frame) and, where a
 * subscriber negotiated permessage-deflate without context takeover on its side, compressed once per
 * deflate profile (RFC 7692 section 7.1.1.1, through SharedDeflate). Every subscriber gets one of
 * these few Buffers: the same object for all that share a variant.
 *
 * The frame is header + payload in one Buffer of its own, copied once per publish whatever the number
 * of subscribers, so a slow subscriber may hold it (conflation) after the user's data changed. It is
 * not from the slab pool: a subscriber that stops reading would pin a shared slab indefinitely.
 *
 * A subscriber whose deflate keeps context between messages (no shareable profile) gets the message
 * uncompressed, which section 6 allows: RSV1 is per message.
 */
import { FIN_BIT, OPCODE_BINARY, OPCODE_TEXT, RSV1_BIT } from '../protocol/constants';
import { frameHeaderLength, writeFrameHeader } from '../protocol/frame-header';
import type { SendData } from '../protocol/sender';
import { PerMessageDeflate } from '../extensions/permessage-deflate';
import { DeflateProfile, SharedDeflate, deflateProfile, profileKey } from '../extensions/shared-compression';

/** A connection's shareable deflate profile and its key, worked out once per connection. */
interface ProfileEntry {
  readonly profile: DeflateProfile;
  readonly key: string;
}

const profiles = new WeakMap<PerMessageDeflate, ProfileEntry | null>();

function profileOf(extension: PerMessageDeflate): ProfileEntry | null {
  let entry = profiles.get(extension);
  if (entry === undefined) {
    const profile = deflateProfile(extension);
    entry = profile === null ? null : { profile, key: profileKey(profile) };
    // params are fixed once negotiated; before that there is nothing to remember.
    if (extension.params !== null) profiles.set(extension, entry);
  }
  return entry;
}

function frame(firstByte: number, bytes: Buffer | null, text: string | null, length: number): Buffer {
  const headerLength = frameHeaderLength(length, false);
  const out = Buffer.allocUnsafe(headerLength + length);
  writeFrameHeader(out, 0, firstByte, length, null);
  if (text !== null) out.write(text, headerLength, length);
  else if (bytes !== null) out.set(bytes, headerLength);
  return out;
}

/**
 * Reused for every publish (a publish runs to its end synchronously): no object per message beyond
 * the frames themselves.
 */
export class MessageFrames {
  private bytes: Buffer | null = null;
  private text: string | null = null;
  private length = 0;
  private opcode = OPCODE_TEXT;
  private compress = false;
  private plain: Buffer | null = null;
  private shared: SharedDeflate | null = null;
  private readonly compressed = new Map<string, Buffer>();

  load(data: SendData, binary: boolean, compress: boolean): void {
    if (typeof data === 'string') {
      this.text = data;
      this.length = Buffer.byteLength(data);
    } else {
      let bytes: Buffer;
      if (Buffer.isBuffer(data)) bytes = data;
      else if (data instanceof ArrayBuffer) bytes = Buffer.from(data);
      else if (ArrayBuffer.isView(data)) bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      else throw new TypeError('publish() data must be a string, a Buffer, an ArrayBuffer or a typed array');
      this.bytes = bytes;
      this.length = bytes.length;
    }
    this.opcode = binary ? OPCODE_BINARY : OPCODE_TEXT;
    this.compress = compress;
  }

  /** The frame for one subscriber, given its negotiated extensions. */
  frameFor(extensions: Record<string, unknown>): Buffer {
    if (this.compress) {
      const extension = extensions['permessage-deflate'];
      if (extension instanceof PerMessageDeflate && extension.shouldCompress(this.length)) {
        const entry = profileOf(extension);
        if (entry !== null) return this.compressedFor(entry);
      }
    }
    return (this.plain ??= frame(FIN_BIT | this.opcode, this.bytes, this.text, this.length));
  }

  /** Drops the references to the user's data and to this message's frames. */
  clear(): void {
    this.bytes = null;
    this.text = null;
    this.plain = null;
    this.shared = null;
    this.compressed.clear();
  }

  private compressedFor(entry: ProfileEntry): Buffer {
    let out = this.compressed.get(entry.key);
    if (out === undefined) {
      // Deflated on this thread: the frames must be ready before the tick's batch is written, in order.
      this.shared ??= new SharedDeflate((this.text ?? this.bytes) as Buffer | string);
      const payload = this.shared.compressSync(entry.profile);
      // RFC 7692 section 6: RSV1 on the first (here the only) frame marks a compressed message.
      out = frame(FIN_BIT | RSV1_BIT | this.opcode, payload, null, payload.length);
      this.compressed.set(entry.key, out);
    }
    return out;
  }
}
