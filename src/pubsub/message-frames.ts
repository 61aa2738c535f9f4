/**
 * One published message, framed once (RFC 6455 section 5.2, a server's unmasked frame) into its
 * topic's batch of this tick (topic-batch.ts), and, where a subscriber negotiated permessage-deflate
 * without context takeover on its side, compressed once per deflate profile (RFC 7692 section
 * 7.1.1.1, through SharedDeflate) into the batch of that profile. Every subscriber takes its frame
 * from one of these few batches, which it shares with all that take the same variant.
 *
 * The frame is a copy, made once per publish whatever the number of subscribers, so the user's data
 * may change after publish returns. A subscriber over maxBackpressure that holds the message
 * (conflation) gets a Buffer of its own instead, made once per variant: held messages outlive the tick,
 * so it is not a slice of Node's shared 8 KiB pool either (that would keep the whole pool alive).
 *
 * A subscriber whose deflate keeps context between messages (no shareable profile) gets the message
 * uncompressed, which section 6 allows: RSV1 is per message.
 */
import type { WebSocket } from '../websocket';
import { FIN_BIT, OPCODE_BINARY, OPCODE_TEXT, RSV1_BIT } from '../protocol/constants';
import { frameHeaderLength, writeFrameHeader } from '../protocol/frame-header';
import type { SendData } from '../protocol/sender';
import { PerMessageDeflate } from '../extensions/permessage-deflate';
import { DeflateProfile, SharedDeflate, deflateProfile, profileKey } from '../extensions/shared-compression';
import type { Topic } from './topic';
import type { TopicBatch } from './topic-batch';

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

/** Writes the frame at out[at..]: header, then the payload from `bytes` or `text`. */
function writeFrame(
  out: Buffer,
  at: number,
  firstByte: number,
  bytes: Buffer | null,
  text: string | null,
  length: number,
): void {
  const payloadAt = at + writeFrameHeader(out, at, firstByte, length, null);
  if (text !== null) out.write(text, payloadAt, length);
  else if (bytes !== null) out.set(bytes, payloadAt);
}

function frame(firstByte: number, bytes: Buffer | null, text: string | null, length: number): Buffer {
  const out = Buffer.allocUnsafeSlow(frameHeaderLength(length, false) + length);
  writeFrame(out, 0, firstByte, bytes, text, length);
  return out;
}

/**
 * Reused for every publish (a publish runs to its end synchronously): no object per message beyond
 * the frames themselves.
 */
export class MessageFrames {
  private topic: Topic | null = null;
  private bytes: Buffer | null = null;
  private text: string | null = null;
  private length = 0;
  private opcode = OPCODE_TEXT;
  private compress = false;
  /** The topic's plain batch once this message was framed into it. */
  private plainBatch: TopicBatch | null = null;
  /** The plain frame on its own, for subscribers that hold the message. */
  private plainFrame: Buffer | null = null;
  private shared: SharedDeflate | null = null;
  /** Compressed frames by profile key, each framed into its batch once. */
  private readonly compressed = new Map<string, Buffer>();
  /** The compressed batches this message was framed into. */
  private readonly compressedBatches: TopicBatch[] = [];

  load(topic: Topic, data: SendData, binary: boolean, compress: boolean): void {
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
    this.topic = topic;
    this.opcode = binary ? OPCODE_BINARY : OPCODE_TEXT;
    this.compress = compress;
  }

  /** The batch that holds the frame `ws` takes (framed into it on first need); its frameStart is the frame. */
  batchFor(ws: WebSocket): TopicBatch {
    const entry = this.profileFor(ws);
    if (entry !== null) return this.compressedBatch(entry);
    return this.plainBatch ?? this.framePlain();
  }

  /** The frame `ws` takes, as a Buffer of its own: to be held past the tick (conflation). */
  frameFor(ws: WebSocket): Buffer {
    const entry = this.profileFor(ws);
    if (entry !== null) return this.compressedFrame(entry);
    return (this.plainFrame ??= frame(FIN_BIT | this.opcode, this.bytes, this.text, this.length));
  }

  /** Drops the references to the user's data and this message's frames; the batches' frame in progress ends. */
  clear(): void {
    if (this.plainBatch !== null) this.plainBatch.frameStart = -1;
    for (const batch of this.compressedBatches) batch.frameStart = -1;
    this.compressedBatches.length = 0;
    this.topic = null;
    this.bytes = null;
    this.text = null;
    this.plainBatch = null;
    this.plainFrame = null;
    this.shared = null;
    this.compressed.clear();
  }

  /** The deflate profile this message is compressed with for `ws`; null: it takes the plain frame. */
  private profileFor(ws: WebSocket): ProfileEntry | null {
    const extension = ws._deflate;
    if (!this.compress || extension === null || !extension.shouldCompress(this.length)) return null;
    return profileOf(extension);
  }

  private framePlain(): TopicBatch {
    const batch = (this.topic as Topic).plainBatch();
    const at = batch.append(frameHeaderLength(this.length, false) + this.length);
    writeFrame(batch.buffer, at, FIN_BIT | this.opcode, this.bytes, this.text, this.length);
    this.plainBatch = batch;
    return batch;
  }

  private compressedBatch(entry: ProfileEntry): TopicBatch {
    const batch = (this.topic as Topic).compressedBatch(entry.key);
    if (batch.frameStart < 0) {
      const out = this.compressedFrame(entry);
      const at = batch.append(out.length);
      out.copy(batch.buffer, at);
      this.compressedBatches.push(batch);
    }
    return batch;
  }

  private compressedFrame(entry: ProfileEntry): Buffer {
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
