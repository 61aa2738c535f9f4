/**
 * The Sender frames outgoing messages (RFC 6455 section 5) for one connection and writes them to its
 * socket, with ws's Sender API (send, ping, pong, close) and callback semantics (the callback runs when
 * the socket has written the frame, with the error if it could not).
 *
 * Headers go into a shared slab (src/buffers/slab-pool.ts), not into a Buffer allocated per send,
 * unless the socket is behind (isBehind): then a frame must not keep a shared slab alive, and small
 * frames go into the connection's own backlog (src/buffers/backlog.ts), which writes a tick's worth at once.
 * A frame of at most SMALL_FRAME_MAX_BYTES (header included) is copied whole into the slab and leaves
 * in one write; a larger one leaves as header + payload in one corked write, so the payload is never
 * copied. Client frames are masked (section 5.3) with keys from a crypto-filled pool, through the
 * kernel's mask; a user's Buffer is never modified.
 */
import { kernel } from '../kernels/select';
import { MaskKeyPool, maskKeyPool } from '../buffers/mask-key-pool';
import { Slab, SlabPool, slabPool } from '../buffers/slab-pool';
import { Backlog } from '../buffers/backlog';
import { encodeCloseBody } from './close-frame';
import {
  FIN_BIT,
  MAX_CONTROL_PAYLOAD,
  OPCODE_BINARY,
  OPCODE_CLOSE,
  OPCODE_CONTINUATION,
  OPCODE_PING,
  OPCODE_PONG,
  OPCODE_TEXT,
  RSV1_BIT,
} from './constants';
import { frameHeaderLength, writeFrameHeader } from './frame-header';

/**
 * Frames up to this size (header + payload) are copied into the slab and written once; above it the
 * payload is written as it is, after its header, under one cork. From bench/sender-threshold.ts
 * (bench/RESULTS.md, "Sender: small-frame threshold"; 127.0.0.1, AMD EPYC, Node 20): uncorked,
 * copying was 10-50% faster at every size a slab takes (64 B-12 KiB) in every run; corked, the two
 * paths are within run-to-run noise from 512 B up (either ahead by up to 20% at some sizes, in
 * different runs). Splitting never wins both ways, so the
 * limit is half a slab, past which every copied frame would retire a slab of its own and a slow
 * socket would pin a whole slab per queued frame: an 8 KiB payload with the longest header a payload
 * below 64 KiB takes (4 length + 4 key bytes).
 */
export const SMALL_FRAME_MAX_BYTES = 8192 + 8;

/** What a socket must offer: net.Socket, tls.TLSSocket and any Duplex do. */
export interface SocketLike {
  write(chunk: Uint8Array, callback?: WriteCallback): boolean;
  cork(): void;
  uncork(): void;
  readonly writableEnded?: boolean;
  /** Every Writable's state (net.Socket, tls.TLSSocket, any Duplex); read by isBehind. */
  readonly _writableState?: { readonly writing: boolean };
}

/**
 * Whether an earlier write is still waiting for the OS to take it: the kernel's send buffer is full
 * because the peer reads slower than we send. A frame written now waits in the socket's queue; as a
 * slice of a shared slab it would keep that whole slab alive, 16 KiB for a 40-byte frame, slab after
 * slab, far beyond what bufferedAmount says (measured: 174 MB held for 0.7 MB queued, in
 * test/backpressure/stalled-socket-memory.test.ts). So a small frame goes into the connection's own
 * backlog and a large frame's header into a Buffer of its own, and a socket pins at most the slab of
 * the one write that found it full. Corking does not count: corked writes are buffered, not in flight,
 * and leave together on uncork.
 */
function isBehind(socket: SocketLike): boolean {
  return socket._writableState?.writing === true;
}

/** Called once the frame is written, or with the error that stopped it (@types/ws's `(err?: Error) => void`). */
export type WriteCallback = (error?: Error) => void;

/** What send, ping and pong accept, as ws's toBuffer: strings go out as UTF-8. */
export type SendData = string | Buffer | ArrayBuffer | ArrayBufferView;

/** ws's Sender#send options. */
export interface SendOptions {
  /** Binary (opcode 2) rather than text (opcode 1). Default false. */
  binary?: boolean;
  /** Last fragment of the message (section 5.4). Default false, as in ws's Sender; ws's WebSocket passes true. */
  fin?: boolean;
  /** Mask the frame: a client must (section 5.3). Default false. */
  mask?: boolean;
  /**
   * Set RSV1 on the first frame of the message: the data is already compressed with the negotiated
   * permessage-deflate (RFC 7692 section 6). Ignored on continuation frames. Default false.
   */
  rsv1?: boolean;
}

/** Overrides the crypto pool for masking keys, as ws's `generateMask` option (tests use it). */
export type GenerateMask = (mask: Buffer) => void;

/** What tests and benchmarks may replace; connections use the defaults. */
export interface SenderInternals {
  /** Default: the shared slabPool. */
  slabs?: SlabPool;
  /** Default: the shared maskKeyPool. */
  maskKeys?: MaskKeyPool;
  /**
   * Default SMALL_FRAME_MAX_BYTES, and never more than a slab holds; bench/sender-threshold.ts sets it
   * to force one path or the other.
   */
  smallFrameMaxBytes?: number;
}

/** One key buffer for all senders: a key is made and used within one synchronous send. */
const maskKey = Buffer.alloc(4);
/** Where a frame for a backlog is framed before it is copied in; one for all senders, as maskKey. */
let backlogFrame = Buffer.allocUnsafeSlow(SMALL_FRAME_MAX_BYTES);

/** backlogFrame, grown if a Sender's smallFrameMaxBytes (at most a slab) is larger than the default. */
function backlogFrameOf(total: number): Buffer {
  if (backlogFrame.length < total) backlogFrame = Buffer.allocUnsafeSlow(total);
  return backlogFrame;
}

/** What a Sender reads but does not own: the same object for every Sender made with the defaults. */
interface SenderConfig {
  readonly slabs: SlabPool;
  readonly maskKeys: MaskKeyPool;
  readonly smallFrameMaxBytes: number;
  readonly generateMask: GenerateMask | undefined;
}

function senderConfig(internals: SenderInternals, generateMask: GenerateMask | undefined): SenderConfig {
  const slabs = internals.slabs ?? slabPool;
  return {
    slabs,
    maskKeys: internals.maskKeys ?? maskKeyPool,
    smallFrameMaxBytes: Math.min(internals.smallFrameMaxBytes ?? SMALL_FRAME_MAX_BYTES, slabs.slabBytes),
    generateMask,
  };
}

/** Every server connection's, and every client's without generateMask: one object, not four fields each. */
const DEFAULT_CONFIG = senderConfig({}, undefined);

/**
 * Between startBatch and endBatch, small frames that land back to back in one slab are gathered into
 * one run, slab[start..end), written once: one socket write for every echo and pong a chunk calls
 * for, instead of one per frame. Runs are gathered while one inbound chunk is handled and written
 * before that returns, so one run serves the whole process, not three fields on every connection; a
 * Sender that gathers while another's run is open (a handler feeding another connection's chunk
 * synchronously) writes that run first. `sender` is null while no run is open.
 */
const openRun: { sender: Sender | null; slab: Slab | null; start: number; end: number } = {
  sender: null,
  slab: null,
  start: 0,
  end: 0,
};

interface Payload {
  bytes: Buffer | null;
  text: string | null;
  length: number;
}

/**
 * The payload being framed, as bytes or as text: one object for all senders (not one per connection),
 * since a frame is loaded and written within one synchronous call.
 */
const loaded: Payload = { bytes: null, text: null, length: 0 };

export class Sender {
  private readonly socket: SocketLike;
  private readonly config: SenderConfig;
  private firstFragment = true;
  /** Between startBatch and endBatch: small frames join the open run (see openRun). */
  private batching = false;
  /**
   * Small frames held while the socket is behind; made the first time it is. Whatever else writes to
   * the socket (a subscriber's share of the publishes, src/pubsub/topic-batch.ts) calls flushBatch first.
   */
  private backlog: Backlog | null = null;

  /**
   * The same arguments as ws's `new Sender(socket, extensions, generateMask)`. `extensions` is accepted
   * for that signature and not read: compression happens before the Sender (see SendOptions.rsv1).
   */
  constructor(
    socket: SocketLike,
    _extensions?: Record<string, unknown>,
    generateMask?: GenerateMask,
    internals?: SenderInternals,
  ) {
    this.socket = socket;
    this.config = internals === undefined && generateMask === undefined ? DEFAULT_CONFIG : senderConfig(internals ?? {}, generateMask);
  }

  /**
   * From here to endBatch, small frames are gathered and leave in one write (the WebSocket brackets
   * each inbound chunk with these). Anything else written to the socket meanwhile must be preceded by
   * flushBatch, so that frames keep their order on the wire (RFC 6455 section 5.4, 5.5).
   */
  startBatch(): void {
    this.batching = true;
  }

  /** Writes what was gathered and stops gathering. */
  endBatch(): void {
    this.batching = false;
    this.flushBatch(undefined);
  }

  /**
   * Hands everything this Sender holds (its gathered run, its backlog) to the socket; `cb` runs once
   * it is written.
   */
  flushBatch(cb: WriteCallback | undefined): void {
    if (openRun.sender === this) this.writeRun(cb);
    if (this.backlog !== null) this.backlog.flush();
  }

  /** Bytes sent and not yet handed to the socket (gathered, or in the backlog): part of bufferedAmount. */
  get heldBytes(): number {
    return (openRun.sender === this ? openRun.end - openRun.start : 0) + (this.backlog === null ? 0 : this.backlog.pending);
  }

  /** Whether the next bytes join the backlog: the socket is behind, or the backlog holds bytes already. */
  private holdsBack(): boolean {
    return isBehind(this.socket) || (this.backlog !== null && this.backlog.pending > 0);
  }

  private backlogOf(): Backlog {
    return (this.backlog ??= new Backlog(this.socket));
  }

  /** Writes the open run, which is this Sender's. */
  private writeRun(cb: WriteCallback | undefined): void {
    const slab = openRun.slab as Slab;
    const { start, end } = openRun;
    openRun.sender = null;
    openRun.slab = null;
    if (this.holdsBack()) {
      this.backlogOf().append(slab.buffer, start, end, cb);
      slab.onWritten();
      return;
    }
    this.socket.write(slab.buffer.subarray(start, end), cb === undefined ? slab.onWritten : afterSlabWrite(slab.onWritten, cb));
  }

  /** A message was begun (fin: false) and its last fragment has not been sent (section 5.4). */
  get inMessage(): boolean {
    return !this.firstFragment;
  }

  /** Sends a data frame (section 5.6); fragments follow section 5.4: continuations carry opcode 0. */
  send(data: SendData, options: SendOptions, cb?: WriteCallback): void {
    let firstByte: number;
    if (this.firstFragment) {
      firstByte = (options.binary ? OPCODE_BINARY : OPCODE_TEXT) | (options.rsv1 ? RSV1_BIT : 0);
    } else {
      firstByte = OPCODE_CONTINUATION;
    }
    this.firstFragment = options.fin === true;
    if (options.fin) firstByte |= FIN_BIT;
    this.load(data);
    this.writeFrame(firstByte, options.mask === true, cb);
  }

  /** Sends a ping (section 5.5.2). */
  ping(data: SendData, mask?: boolean, cb?: WriteCallback): void {
    this.control(OPCODE_PING, data, mask, cb);
  }

  /** Sends a pong (section 5.5.3). */
  pong(data: SendData, mask?: boolean, cb?: WriteCallback): void {
    this.control(OPCODE_PONG, data, mask, cb);
  }

  /** Sends a close frame (section 5.5.1); throws on an invalid code or a reason over 123 bytes, as ws. */
  close(code?: number, reason?: string | Uint8Array, mask?: boolean, cb?: WriteCallback): void {
    this.load(encodeCloseBody(code, reason));
    this.writeFrame(FIN_BIT | OPCODE_CLOSE, mask === true, cb);
  }

  private control(opcode: number, data: SendData, mask: boolean | undefined, cb: WriteCallback | undefined): void {
    this.load(data);
    // Section 5.5: "All control frames MUST have a payload length of 125 bytes or less".
    if (loaded.length > MAX_CONTROL_PAYLOAD) {
      throw new RangeError('The data size must not be greater than 125 bytes');
    }
    this.writeFrame(FIN_BIT | opcode, mask === true, cb);
  }

  /** Points `payload` at the data without copying it (ws's toBuffer); strings are encoded later, in place. */
  private load(data: SendData): void {
    const payload = loaded;
    if (typeof data === 'string') {
      payload.bytes = null;
      payload.text = data;
      payload.length = Buffer.byteLength(data);
      return;
    }
    let bytes: Buffer;
    if (Buffer.isBuffer(data)) bytes = data;
    else if (data instanceof ArrayBuffer) bytes = Buffer.from(data);
    else if (ArrayBuffer.isView(data)) bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    else bytes = Buffer.from(data as unknown as string);
    payload.bytes = bytes;
    payload.text = null;
    payload.length = bytes.length;
  }

  private writeFrame(firstByte: number, mask: boolean, cb: WriteCallback | undefined): void {
    const { bytes, text, length } = loaded;
    loaded.bytes = null;
    loaded.text = null;
    const config = this.config;
    let key: Buffer | null = null;
    if (mask) {
      key = maskKey;
      if (config.generateMask !== undefined) config.generateMask(key);
      else config.maskKeys.take(key, 0);
    }
    const headerLength = frameHeaderLength(length, mask);
    const total = headerLength + length;

    if (total <= config.smallFrameMaxBytes) {
      // Gathered frames are checked when their run is written (writeRun).
      const slab = !this.batching && this.holdsBack() ? null : config.slabs.reserve(total);
      // A frame for the backlog is framed in backlogFrame, then copied in: it may span two chunks there.
      const target = slab === null ? backlogFrameOf(total) : slab.buffer;
      const at = slab === null ? 0 : slab.used - total;
      const payloadAt = at + writeFrameHeader(target, at, firstByte, length, key);
      if (text !== null) {
        target.write(text, payloadAt, length);
        if (key !== null) kernel.unmask(target, key, payloadAt, length);
      } else if (bytes !== null && length > 0) {
        if (key !== null) kernel.mask(bytes, key, target, payloadAt, length);
        else target.set(bytes, payloadAt);
      }
      if (slab === null) {
        this.backlogOf().append(target, 0, total, cb);
        return;
      }
      if (this.batching) {
        this.gather(slab, at, total);
        // A callback must learn when its frame is written: the run leaves now, with it.
        if (cb !== undefined) this.flushBatch(cb);
        return;
      }
      slab.addWrite();
      this.socket.write(target.subarray(at, at + total), cb === undefined ? slab.onWritten : afterSlabWrite(slab.onWritten, cb));
      return;
    }
    // What was gathered goes first: frames leave in the order they were sent.
    this.flushBatch(undefined);

    if (key !== null && text === null) {
      // The user's bytes must not change, so the masked copy goes to a buffer of its own, with the header.
      const frame = Buffer.allocUnsafe(total);
      writeFrameHeader(frame, 0, firstByte, length, key);
      kernel.mask(bytes as Buffer, key, frame, headerLength, length);
      this.socket.write(frame, cb);
      return;
    }
    // A string is encoded into a Buffer of our own, so a client may mask it in place.
    const body = text !== null ? Buffer.from(text) : (bytes as Buffer);
    if (key !== null) kernel.unmask(body, key, 0, length);
    let header: Buffer;
    let headerWritten: (() => void) | undefined;
    if (isBehind(this.socket)) {
      header = Buffer.allocUnsafeSlow(headerLength);
    } else {
      const slab = config.slabs.reserve(headerLength);
      header = slab.buffer.subarray(slab.used - headerLength, slab.used);
      slab.addWrite();
      headerWritten = slab.onWritten;
    }
    writeFrameHeader(header, 0, firstByte, length, key);
    this.socket.cork();
    this.socket.write(header, headerWritten);
    this.socket.write(body, cb);
    this.socket.uncork();
  }

  /** Adds the frame at slab[at..at + total) to the run, or starts a new run when it does not follow on. */
  private gather(slab: Slab, at: number, total: number): void {
    const open = openRun.sender;
    if (open === this && openRun.slab === slab && openRun.end === at) {
      openRun.end = at + total;
      return;
    }
    if (open !== null) open.writeRun(undefined);
    // The run counts as one write into its slab, so the slab is not reused before the run is written.
    slab.addWrite();
    openRun.sender = this;
    openRun.slab = slab;
    openRun.start = at;
    openRun.end = at + total;
  }
}

/** A write callback that gives the slab its write back, then runs the user's callback. */
function afterSlabWrite(onWritten: () => void, cb: WriteCallback): WriteCallback {
  return (error) => {
    onWritten();
    cb(error);
  };
}
