/**
 * permessage-deflate (RFC 7692) for one connection, with ws's PerMessageDeflate shape: the same
 * constructor, `offer`, `accept`, `cleanup`, `compress`, `decompress` and `params`, so code written
 * against ws's class keeps working, and the Receiver's MessageInflater hook is satisfied as it is.
 *
 * Beyond ws:
 * - maxPayload is enforced on a whole message's inflated bytes, as zlib produces them: the moment one
 *   more output chunk would pass it, the stream is destroyed, which stops zlib's write loop at that
 *   chunk. A decompression bomb costs at most maxPayload plus one zlib chunk (16 KiB by default).
 * - Calls in one direction run one at a time, in call order, even when made without waiting: a second
 *   decompress (or compress) waits for the first, so results come back in order whatever their sizes.
 * - A frame of at most `syncMaxInputBytes` (default SYNC_MAX_INPUT_BYTES) runs on this thread, on the connection's own zlib stream
 *   (zlib-sync.ts), and its callback runs before compress/decompress returns: for small messages the
 *   thread-pool handoff costs several times the zlib work. Larger frames go to the thread pool through
 *   the process-wide limiter, one zlib job per call where ws makes two or three. Either way the stream,
 *   and so the LZ77 window of context takeover (section 7.1.1), is the same.
 */
import * as zlib from 'zlib';
import type { ExtensionParams } from '../handshake/extension-header';
import { EMPTY_BUFFER, CLOSE_INVALID_PAYLOAD } from '../protocol/constants';
import { MESSAGE_MAX_PAYLOAD, createWsError, kStatusCode } from '../protocol/errors';
import type { MessageInflater } from '../protocol/receiver';
import { DeflateParams, PerMessageDeflateOptions, acceptOffer, acceptResponse, buildOffer } from './negotiation';
import { ZlibLimiter, sharedZlibLimiter } from './zlib-limiter';
import { SYNC_ENDED, SYNC_FAILED, SYNC_OVER_LIMIT, SyncOutput, runSync, supportsSyncSteps } from './zlib-sync';

export type { DeflateParams, PerMessageDeflateOptions } from './negotiation';

export type ZlibCallback = (error: Error | null, result?: Buffer) => void;

/**
 * Section 7.2.1: a sync flush ends the compressed data with an empty stored block, 0x00 0x00 0xff 0xff,
 * which the sender removes from the message; section 7.2.2: the receiver appends it back.
 */
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** ws's default `threshold`, in bytes. */
export const DEFAULT_THRESHOLD = 1024;

/**
 * The default `syncMaxInputBytes`: frames whose input (compressed bytes to inflate, message bytes to
 * deflate) is at most this run on the main thread; larger ones on the thread pool. Chosen from the
 * crossover table in bench/RESULTS.md (`deflate-sync`, made by bench/deflate-sync-threshold.ts).
 */
export const SYNC_MAX_INPUT_BYTES = 8 * 1024;


/**
 * A frame inflating on the main thread hands the rest of its input to the thread pool once it has
 * produced this many bytes: a small input can inflate about 1000-fold (a bomb), and the main thread
 * serves every connection.
 */
export const SYNC_MAX_INFLATE_BYTES = 64 * 1024;

interface ZlibCall {
  readonly data: Buffer | string;
  readonly fin: boolean;
  readonly callback: ZlibCallback;
}

/**
 * One direction's calls, run one at a time in call order: a zlib stream holds one message's state, so a
 * second call must wait for the first to finish. A call runs on this thread when `runSync` takes it,
 * else on the thread pool through the process-wide limiter.
 */
class Lane {
  private readonly calls: ZlibCall[] = [];
  /** The call being run, or waiting for a limiter place; and the limiter's `done` once it has one. */
  private current: ZlibCall | null = null;
  private release: (() => void) | null = null;
  /** Inside next(): a call that finishes synchronously must not recurse into it (a long queue would overflow). */
  private draining = false;

  constructor(
    private readonly limiter: ZlibLimiter,
    /** Runs the call to its end on this thread and returns true, or returns false for the thread pool. */
    private readonly runSync: (call: ZlibCall) => boolean,
    private readonly start: (call: ZlibCall) => void,
  ) {}

  push(call: ZlibCall): void {
    this.calls.push(call);
    if (this.current === null && !this.draining) this.next();
  }

  /** The owner says `call` is done; a call that is no longer current (aborted) is ignored. */
  finish(call: ZlibCall, error: Error | null, result?: Buffer): void {
    if (call !== this.current) return;
    const release = this.release;
    this.current = null;
    this.release = null;
    if (release !== null) release();
    try {
      call.callback(error, result);
    } finally {
      if (this.current === null && !this.draining) this.next();
    }
  }

  /** Drops every call; with an error, their callbacks get it. The limiter place is given back. */
  abort(error: Error | null): void {
    const call = this.current;
    const release = this.release;
    const waiting = this.calls.splice(0);
    this.current = null;
    this.release = null;
    if (release !== null) release();
    if (error === null) return;
    if (call !== null) call.callback(error);
    for (const queued of waiting) queued.callback(error);
  }

  /** Runs waiting calls until one goes to the thread pool or none is left. */
  next(): void {
    this.draining = true;
    try {
      let call: ZlibCall | undefined;
      while (this.current === null && (call = this.calls.shift()) !== undefined) {
        this.current = call;
        if (!this.runSync(call)) this.queue(call);
      }
    } finally {
      this.draining = false;
      // A callback that threw (a user's message handler, run synchronously) must not stall the lane.
      if (this.current === null && this.calls.length > 0) process.nextTick(resumeLane, this);
    }
  }

  private queue(call: ZlibCall): void {
    this.limiter.add((done) => {
      if (this.current !== call) {
        done();
        return;
      }
      this.release = done;
      try {
        this.start(call);
      } catch (error) {
        this.finish(call, error as Error);
      }
    });
  }
}

function resumeLane(lane: Lane): void {
  lane.next();
}

const kOwner = Symbol('permessage-deflate');
const kInflated = Symbol('inflated');
const kInflateFailed = Symbol('inflate-failed');
const kDeflated = Symbol('deflated');
const kDeflateFailed = Symbol('deflate-failed');

type OwnedInflate = zlib.InflateRaw & { [kOwner]: PerMessageDeflate };
type OwnedDeflate = zlib.DeflateRaw & { [kOwner]: PerMessageDeflate };

/** Listeners are module functions that reach their connection through kOwner: no closure per stream. */
function inflateOnData(this: OwnedInflate, chunk: Buffer): void {
  this[kOwner][kInflated](this, chunk);
}

function inflateOnError(this: OwnedInflate, error: Error): void {
  this[kOwner][kInflateFailed](this, error);
}

function deflateOnData(this: OwnedDeflate, chunk: Buffer): void {
  this[kOwner][kDeflated](this, chunk);
}

function deflateOnError(this: OwnedDeflate, error: Error): void {
  this[kOwner][kDeflateFailed](this, error);
}

function concat(parts: Buffer[], length: number): Buffer {
  if (parts.length === 0) return EMPTY_BUFFER;
  if (parts.length === 1) return parts[0];
  return Buffer.concat(parts, length);
}

function checkWindowBits(name: string, value: boolean | number | undefined): void {
  if (typeof value === 'number' && value !== 0 && !(Number.isInteger(value) && value >= 8 && value <= 15)) {
    throw new RangeError(`${name} must be an integer from 8 to 15, got ${value}`);
  }
}

/**
 * The windowBits zlib's deflate gets for a negotiated window (section 7.1.2): zlib cannot deflate with
 * a 256-byte window and Node raises 8 to 9, whose matches still reach back at most 250 bytes (zlib
 * keeps 262 bytes of lookahead out of the window), so a peer inflating with 8 bits reads the output.
 */
export function deflateWindowBits(params: DeflateParams, isServer: boolean): number {
  const bits = isServer ? params.server_max_window_bits : params.client_max_window_bits;
  if (typeof bits !== 'number') return zlib.constants.Z_DEFAULT_WINDOWBITS;
  return bits === 8 ? 9 : bits;
}

/** Whether the side that compresses with `params` starts every message from an empty window. */
export function ownNoContextTakeover(params: DeflateParams, isServer: boolean): boolean {
  return (isServer ? params.server_no_context_takeover : params.client_no_context_takeover) === true;
}

export class PerMessageDeflate implements MessageInflater {
  static readonly extensionName = 'permessage-deflate';

  /** The negotiated configuration (ws's `params`); null until `accept`. */
  params: DeflateParams | null = null;
  readonly isServer: boolean;
  /** Largest message in inflated bytes; 0 = no limit. */
  readonly maxPayload: number;
  readonly threshold: number;
  /** See PerMessageDeflateOptions.syncMaxInputBytes. */
  readonly syncMaxInputBytes: number;
  readonly options: Readonly<PerMessageDeflateOptions>;

  private readonly inflateLane: Lane;
  private readonly deflateLane: Lane;

  private inflateStream: OwnedInflate | null = null;
  private inflateCall: ZlibCall | null = null;
  /** The current frame's inflated pieces, from either path. */
  private readonly inflateOutput: SyncOutput = { parts: [], bytes: 0, consumed: 0 };
  /** Inflated bytes of the message so far, across its frames: what maxPayload bounds. */
  private inflateMessageBytes = 0;
  /** What the thread pool must still inflate of a frame that began on this thread. */
  private inflateRest: Buffer | null = null;

  private deflateStream: OwnedDeflate | null = null;
  private deflateCall: ZlibCall | null = null;
  private readonly deflateOutput: SyncOutput = { parts: [], bytes: 0, consumed: 0 };

  /**
   * ws's `new PerMessageDeflate(options, isServer, maxPayload)`; ws 8.23's form, with `isServer` and
   * `maxPayload` inside `options`, works too. Throws a RangeError for window bits outside 8-15.
   */
  constructor(options: PerMessageDeflateOptions = {}, isServer?: boolean, maxPayload?: number) {
    checkWindowBits('serverMaxWindowBits', options.serverMaxWindowBits);
    checkWindowBits('clientMaxWindowBits', options.clientMaxWindowBits);
    this.options = options;
    this.isServer = isServer ?? options.isServer === true;
    this.maxPayload = Math.max(0, maxPayload ?? options.maxPayload ?? 0);
    this.threshold = options.threshold ?? DEFAULT_THRESHOLD;
    this.syncMaxInputBytes = Math.max(0, options.syncMaxInputBytes ?? SYNC_MAX_INPUT_BYTES);
    const limiter = sharedZlibLimiter(options.concurrencyLimit);
    this.inflateLane = new Lane(
      limiter,
      (call) => this.inflateSync(call),
      (call) => this.startInflate(call),
    );
    this.deflateLane = new Lane(
      limiter,
      (call) => this.deflateSync(call),
      (call) => this.startDeflate(call),
    );
  }

  /** The client's offer (RFC 7692 section 7.1), for `format({ 'permessage-deflate': offer })`. */
  offer(): DeflateParams {
    return buildOffer(this.options);
  }

  /**
   * Server: takes the first acceptable offer and returns the response (section 7); throws ws's
   * "None of the extension offers can be accepted" when every offer is declined. Client: checks the
   * server's response and returns the configuration; throws when the connection must fail.
   */
  accept(configurations: readonly ExtensionParams[]): DeflateParams {
    if (this.isServer) {
      const response = acceptOffer(configurations, this.options);
      if (response === null) throw new Error('None of the extension offers can be accepted');
      this.params = response;
    } else {
      this.params = acceptResponse(configurations, this.options);
    }
    return this.params;
  }

  /**
   * ws's Sender rule: when our side starts every message from an empty window, a message shorter than
   * `threshold` bytes is not worth compressing (with context takeover even small ones gain).
   */
  shouldCompress(byteLength: number): boolean {
    if (this.params === null) return false;
    return !ownNoContextTakeover(this.params, this.isServer) || byteLength >= this.threshold;
  }

  /**
   * Frees both zlib streams. A compress in progress or queued gets ws's error; decompress callbacks are
   * dropped, as in ws (the connection is going away).
   */
  cleanup(): void {
    if (this.inflateStream !== null) this.discardInflate(this.inflateStream);
    this.inflateLane.abort(null);
    if (this.deflateStream !== null) this.discardDeflate(this.deflateStream);
    this.deflateLane.abort(new Error('The deflate stream was closed while data was being processed'));
  }

  /**
   * Inflates one frame of a compressed message (section 7.2.2); `fin` marks its last frame. The
   * callback gets this frame's inflated bytes, or an error with a close status under kStatusCode: 1009
   * past maxPayload, 1007 for data zlib refuses.
   */
  decompress(data: Buffer, fin: boolean, callback: ZlibCallback): void {
    this.requireParams();
    this.inflateLane.push({ data, fin, callback });
  }

  /**
   * Deflates one frame's worth of a message (section 7.2.1); with `fin` the result is the end of the
   * message, without the sync flush's 4-octet tail. The frame carrying the first result gets RSV1.
   */
  compress(data: Buffer | string, fin: boolean, callback: ZlibCallback): void {
    this.requireParams();
    this.deflateLane.push({ data, fin, callback });
  }

  private requireParams(): DeflateParams {
    if (this.params === null) throw new Error('permessage-deflate was not negotiated: call accept() first');
    return this.params;
  }

  /** Whether a frame with `length` bytes of input runs on this thread (0 in the option: none does). */
  private fitsSync(length: number): boolean {
    return this.syncMaxInputBytes > 0 && length <= this.syncMaxInputBytes;
  }

  /** The frame's input: on the last frame of a message, with the trailer appended (section 7.2.2). */
  private static inflateInput(call: ZlibCall): Buffer {
    const data = call.data as Buffer;
    return call.fin ? Buffer.concat([data, TRAILER], data.length + TRAILER.length) : data;
  }

  /**
   * A small frame, inflated on this thread in steps of one zlib chunk: past maxPayload it fails at once
   * (RFC 6455 section 7.4.1, 1009); past SYNC_MAX_INFLATE_BYTES the rest goes to the thread pool.
   */
  private inflateSync(call: ZlibCall): boolean {
    if (!this.fitsSync(call.data.length)) return false;
    const stream = this.inflateStream ?? this.createInflate();
    if (!supportsSyncSteps(stream)) return false;
    this.inflateCall = call;
    const input = PerMessageDeflate.inflateInput(call);
    const output = this.inflateOutput;
    const room = this.maxPayload > 0 ? this.maxPayload - this.inflateMessageBytes : Infinity;
    const status = runSync(stream, input, zlib.constants.Z_SYNC_FLUSH, output, Math.min(room, SYNC_MAX_INFLATE_BYTES));
    this.inflateMessageBytes += output.bytes;
    if (status === SYNC_FAILED) {
      this[kInflateFailed](stream, stream.errored as Error);
    } else if (this.maxPayload > 0 && this.inflateMessageBytes > this.maxPayload) {
      this.discardInflate(stream);
      this.endInflate(createWsError('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', MESSAGE_MAX_PAYLOAD));
    } else if (status === SYNC_OVER_LIMIT) {
      this.inflateRest = input.subarray(output.consumed);
      return false;
    } else {
      this.inflateFlushed(stream, call, status === SYNC_ENDED);
    }
    return true;
  }

  /** On the thread pool: two zlib jobs, the frame (with its trailer) and a flush that ends the call. */
  private startInflate(call: ZlibCall): void {
    const stream = this.inflateStream ?? this.createInflate();
    const input = this.inflateRest ?? PerMessageDeflate.inflateInput(call);
    this.inflateRest = null;
    this.inflateCall = call;
    if (input.length > 0) stream.write(input);
    stream.flush(() => {
      if (stream === this.inflateStream) this.inflateFlushed(stream, call, stream.readableEnded);
    });
  }

  private createInflate(): OwnedInflate {
    const params = this.requireParams();
    const bits = this.isServer ? params.client_max_window_bits : params.server_max_window_bits;
    const stream = zlib.createInflateRaw({
      ...this.options.zlibInflateOptions,
      windowBits: typeof bits === 'number' ? bits : zlib.constants.Z_DEFAULT_WINDOWBITS,
    }) as OwnedInflate;
    stream[kOwner] = this;
    stream.on('data', inflateOnData);
    stream.on('error', inflateOnError);
    this.inflateStream = stream;
    return stream;
  }

  [kInflated](stream: OwnedInflate, chunk: Buffer): void {
    if (stream !== this.inflateStream) return;
    this.inflateMessageBytes += chunk.length;
    if (this.maxPayload > 0 && this.inflateMessageBytes > this.maxPayload) {
      // RFC 6455 section 7.4.1, 1009: stop zlib at this chunk rather than inflate the rest and drop it.
      this.discardInflate(stream);
      this.endInflate(createWsError('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', MESSAGE_MAX_PAYLOAD));
      return;
    }
    this.inflateOutput.parts.push(chunk);
    this.inflateOutput.bytes += chunk.length;
  }

  [kInflateFailed](stream: OwnedInflate, error: Error): void {
    if (stream !== this.inflateStream) return;
    // zlib closed its handle with the error. RFC 6455 section 7.4.1, 1007: data inconsistent with the type.
    this.inflateStream = null;
    (error as Error & { [kStatusCode]: number })[kStatusCode] = CLOSE_INVALID_PAYLOAD;
    this.endInflate(error);
  }

  /** The frame is inflated; `ended`: zlib saw the end of the peer's DEFLATE stream. */
  private inflateFlushed(stream: OwnedInflate, call: ZlibCall, ended: boolean): void {
    if (call !== this.inflateCall) return;
    const result = concat(this.inflateOutput.parts, this.inflateOutput.bytes);
    const params = this.requireParams();
    if (ended) {
      // Section 7.2.3.4: the peer ended its DEFLATE stream with a BFINAL=1 block; what follows is a new one.
      this.discardInflate(stream);
    } else if (call.fin && (this.isServer ? params.client_no_context_takeover : params.server_no_context_takeover)) {
      // Section 7.1.1: the peer starts every message from an empty window, so we do too.
      stream.reset();
    }
    this.endInflate(null, result);
  }

  /** Hands the current call its result; a message's byte count restarts after its last frame. */
  private endInflate(error: Error | null, result?: Buffer): void {
    const call = this.inflateCall;
    if (call === null) return;
    this.inflateCall = null;
    this.inflateOutput.parts.length = 0;
    this.inflateOutput.bytes = 0;
    this.inflateRest = null;
    if (error !== null || call.fin) this.inflateMessageBytes = 0;
    this.inflateLane.finish(call, error, result);
  }

  /** Detaches and destroys the stream; destroy() also ends a write zlib is still working through. */
  private discardInflate(stream: OwnedInflate): void {
    this.inflateStream = null;
    this.inflateRest = null;
    stream.removeListener('data', inflateOnData);
    stream.destroy();
  }

  /** A small frame, deflated on this thread with a sync flush. */
  private deflateSync(call: ZlibCall): boolean {
    // A string has at least as many UTF-8 bytes as characters: a long one is not converted twice.
    if (!this.fitsSync(call.data.length)) return false;
    const input = typeof call.data === 'string' ? Buffer.from(call.data) : call.data;
    if (!this.fitsSync(input.length)) return false;
    const stream = this.deflateStream ?? this.createDeflate();
    if (!supportsSyncSteps(stream)) return false;
    this.deflateCall = call;
    // zlib skips a sync flush that follows another with no input between, so an empty message would
    // come out as nothing; a call without flush first makes it emit the empty block, 0x00 (section 7.2.3.6).
    if (input.length === 0) runSync(stream, input, zlib.constants.Z_NO_FLUSH, this.deflateOutput, Infinity);
    if (runSync(stream, input, zlib.constants.Z_SYNC_FLUSH, this.deflateOutput, Infinity) === SYNC_FAILED) {
      this[kDeflateFailed](stream, stream.errored as Error);
    } else {
      this.deflateFlushed(stream, call);
    }
    return true;
  }

  /** On the thread pool: one zlib job, as every write of the stream ends with a sync flush (section 7.2.1). */
  private startDeflate(call: ZlibCall): void {
    const stream = this.deflateStream ?? this.createDeflate();
    this.deflateCall = call;
    // On error the stream's 'error' event ends the call (kDeflateFailed), not this callback.
    stream.write(call.data, (error) => {
      if (error == null) this.deflateFlushed(stream, call);
    });
  }

  private createDeflate(): OwnedDeflate {
    const stream = zlib.createDeflateRaw({
      ...this.options.zlibDeflateOptions,
      windowBits: deflateWindowBits(this.requireParams(), this.isServer),
      flush: zlib.constants.Z_SYNC_FLUSH,
    }) as OwnedDeflate;
    stream[kOwner] = this;
    stream.on('data', deflateOnData);
    stream.on('error', deflateOnError);
    this.deflateStream = stream;
    return stream;
  }

  [kDeflated](stream: OwnedDeflate, chunk: Buffer): void {
    if (stream !== this.deflateStream) return;
    this.deflateOutput.parts.push(chunk);
    this.deflateOutput.bytes += chunk.length;
  }

  [kDeflateFailed](stream: OwnedDeflate, error: Error): void {
    if (stream !== this.deflateStream) return;
    this.deflateStream = null;
    this.endDeflate(error);
  }

  private deflateFlushed(stream: OwnedDeflate, call: ZlibCall): void {
    if (stream !== this.deflateStream || call !== this.deflateCall) return;
    let result = concat(this.deflateOutput.parts, this.deflateOutput.bytes);
    if (call.fin) {
      // Section 7.2.1: remove the 0x00 0x00 0xff 0xff the sync flush left at the end of the message.
      result = result.subarray(0, result.length - TRAILER.length);
      if (ownNoContextTakeover(this.requireParams(), this.isServer)) stream.reset();
    }
    this.endDeflate(null, result);
  }

  private endDeflate(error: Error | null, result?: Buffer): void {
    const call = this.deflateCall;
    if (call === null) return;
    this.deflateCall = null;
    this.deflateOutput.parts.length = 0;
    this.deflateOutput.bytes = 0;
    this.deflateLane.finish(call, error, result);
  }

  private discardDeflate(stream: OwnedDeflate): void {
    this.deflateStream = null;
    stream.removeListener('data', deflateOnData);
    stream.destroy();
  }
}
