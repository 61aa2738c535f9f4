/**
 * The Receiver turns socket chunks into WebSocket events (RFC 6455 sections 5 and 6.2), with ws's
 * Receiver semantics: the same events, in the same order, with the same errors (codes, messages, close
 * statuses) for the same bytes. Where ws waits for a whole message to check UTF-8 we fail as soon as
 * the text cannot be valid (section 8.1), which ws's own tests allow for.
 *
 * Per chunk: one kernel.scan parses every whole frame header, unmasks the payloads in place and writes
 * one record per frame into a reused Int32Array; the state machine then walks the records. Only the
 * bytes of a frame split across chunks are kept (ChunkList, as views). A frame whose payload runs past
 * the chunk is streamed: arriving bytes are unmasked as they come (kernel.unmask, with the key rotated
 * by the bytes already done) and never scanned again.
 *
 * Limits are per connection and checked as early as the bytes allow: a frame's declared length against
 * maxPayload and maxFragments as soon as its length field is whole, before any payload is kept.
 *
 * Memory: a Receiver is a few fields (its handler, the options its server shares with every other
 * connection, binaryType). Everything a walk needs (the records, a split frame, a message in pieces, a
 * deferred event) lives in a ReceiverWork that the Receiver keeps only while something spans chunks or
 * waits; any other walk borrows the one spare, so an idle connection holds no working state at all.
 */
import { isUtf8 } from 'buffer';
import {
  ERROR_EXPECTED_MASK,
  ERROR_LENGTH_TOO_LARGE,
  ERROR_UNEXPECTED_MASK,
  INFO_MASKED,
  KIND_ERROR,
  KIND_FRAME,
  KIND_FULL,
  KIND_NEED_HEADER,
  KIND_SHIFT,
  MAX_LENGTH_HIGH,
  MIN_RECORDS_WORDS,
  RECORD_WORDS,
  SCAN_ALLOW_RSV1,
  SCAN_EXPECT_MASKED,
  WORD_EXTRA,
  WORD_FRAME_START,
  WORD_INFO,
  WORD_LENGTH_LOW,
  WORD_PAYLOAD_START,
  recordLength,
} from '../kernels/contract';
import { kernel } from '../kernels/select';
import { ChunkList } from '../buffers/chunk-list';
import { decodeCloseBody } from './close-frame';
import {
  BinaryType,
  EMPTY_BUFFER,
  FIN_BIT,
  OPCODE_BINARY,
  OPCODE_CLOSE,
  OPCODE_PING,
  OPCODE_TEXT,
  RSV1_BIT,
} from './constants';
import { MESSAGE_INVALID_UTF8, MESSAGE_MAX_PAYLOAD, createWsError, errorFromKernel } from './errors';
import { MAX_HEADER_BYTES } from './frame-header';
import { Utf8Stream } from './utf8';

/** A binary message as ws hands it over for each binaryType. */
export type BinaryData = Buffer | ArrayBuffer | Buffer[] | Blob;

/**
 * Where events go. Text messages are Buffers of UTF-8 (ws's `isBinary === false`); binary messages
 * follow the Receiver's binaryType. Nothing is called after onClose or onError.
 */
export interface ReceiverHandler {
  onMessage(data: Buffer | BinaryData, isBinary: boolean): void;
  onPing(data: Buffer): void;
  onPong(data: Buffer): void;
  /** A close frame arrived: its code (1005 when it had no body) and reason bytes (section 5.5.1). */
  onClose(code: number, reason: Buffer): void;
  /** The connection must fail; close with `error[kStatusCode]` (errors.ts). */
  onError(error: Error): void;
}

/**
 * The hook for permessage-deflate (RFC 7692): compressed messages (RSV1 on their first frame) go here
 * frame by frame, in ws's PerMessageDeflate#decompress shape. The callback may run synchronously or
 * later; the Receiver waits for it. An error handed back should carry a WS_ERR_* code and a status.
 */
export interface MessageInflater {
  decompress(data: Buffer, fin: boolean, callback: (error: Error | null, result?: Buffer) => void): void;
}

/** ws's Receiver options, with their ws defaults. */
export interface ReceiverOptions {
  /** Server role: every frame must be masked (section 5.1). Default false. */
  isServer?: boolean;
  /** The negotiated permessage-deflate, or absent when it was not negotiated (RSV1 is then an error). */
  perMessageDeflate?: MessageInflater;
  /** Largest message in bytes (declared frame lengths, and inflated bytes); 0 = no limit. Default 0. */
  maxPayload?: number;
  /** Most frames per message; 0 = no limit. Default 0 (ws 8.23's maxFragments). */
  maxFragments?: number;
  /** Most socket chunks held for one unfinished frame; 0 = no limit. Default 0 (ws 8.23's maxBufferedChunks). */
  maxBufferedChunks?: number;
  /** Do not check text messages and close reasons for UTF-8 (section 8.1). Default false. */
  skipUTF8Validation?: boolean;
  /** Emit message/ping/pong events one per macrotask when false, as ws. Default true. */
  allowSynchronousEvents?: boolean;
  /** How binary messages are handed over. Default 'nodebuffer'. */
  binaryType?: BinaryType;
}

/** Frames per scan call: past this the kernel says FULL and the walk scans again. */
const RECORD_CAPACITY = 64;
/** One record array for all receivers: a walk is synchronous; a paused walk copies what it still needs. */
const sharedRecords = new Int32Array(RECORD_CAPACITY * RECORD_WORDS);
let sharedRecordsOwner: ReceiverWork | null = null;

/** A header split across chunks is gathered here (at most 14 bytes) and scanned on its own. */
const headerScratch = Buffer.alloc(MAX_HEADER_BYTES);
const headerRecords = new Int32Array(MIN_RECORDS_WORDS);
/** The masking key rotated to where a streamed payload resumes (section 5.3: key byte j = i mod 4). */
const rotatedKey = Buffer.alloc(4);

/** Header checks already done on a header that is still arriving, in ws's order. */
const STAGE_NONE = 0;
const STAGE_OPCODE = 1; // the fragmentation state allows this opcode
const STAGE_LENGTH = 2; // the declared length fits maxPayload and maxFragments

const EVENT_MESSAGE = 0;
const EVENT_PING = 1;
const EVENT_PONG = 2;

/**
 * The options as a Receiver reads them. Every connection of a server has the same ones, so they are
 * one object for all of them (see limitsFor), not six fields per connection.
 */
export interface ReceiverLimits {
  readonly scanOptions: number;
  readonly maxPayload: number;
  readonly maxFragments: number;
  readonly maxBufferedChunks: number;
  readonly skipUTF8Validation: boolean;
  readonly allowSynchronousEvents: boolean;
}

/** The limits made last: the next connection of the same server finds its own here. */
let lastLimits: ReceiverLimits | null = null;

function limitsFor(options: ReceiverOptions, inflates: boolean): ReceiverLimits {
  const scanOptions = (options.isServer ? SCAN_EXPECT_MASKED : 0) | (inflates ? SCAN_ALLOW_RSV1 : 0);
  const maxPayload = options.maxPayload ?? 0;
  const maxFragments = options.maxFragments ?? 0;
  const maxBufferedChunks = options.maxBufferedChunks ?? 0;
  const skipUTF8Validation = options.skipUTF8Validation === true;
  const allowSynchronousEvents = options.allowSynchronousEvents !== false;
  const last = lastLimits;
  if (
    last !== null &&
    last.scanOptions === scanOptions &&
    last.maxPayload === maxPayload &&
    last.maxFragments === maxFragments &&
    last.maxBufferedChunks === maxBufferedChunks &&
    last.skipUTF8Validation === skipUTF8Validation &&
    last.allowSynchronousEvents === allowSynchronousEvents
  ) {
    return last;
  }
  lastLimits = { scanOptions, maxPayload, maxFragments, maxBufferedChunks, skipUTF8Validation, allowSynchronousEvents };
  return lastLimits;
}

/**
 * A walk that ended at rest, kept for the next one: most walks borrow it and give it back, so a
 * connection whose frames do not span chunks allocates none.
 */
let spareWork: ReceiverWork | null = null;

export class Receiver {
  binaryType: BinaryType;
  /** @internal */ readonly handler: ReceiverHandler;
  /** @internal */ readonly inflater: MessageInflater | null;
  /** @internal */ readonly limits: ReceiverLimits;
  /** @internal No more events: a close frame arrived or the connection failed. */
  done = false;
  /** end() was called: no more chunks are taken. */
  private ended = false;
  /** end()'s callback, until every pending event has been delivered. */
  private onEnd: (() => void) | null = null;
  /** The walk under way, paused, or holding what spans chunks; null while at rest (most connections, mostly). */
  private work: ReceiverWork | null = null;

  constructor(handler: ReceiverHandler, options: ReceiverOptions = {}) {
    this.handler = handler;
    this.inflater = options.perMessageDeflate ?? null;
    this.limits = limitsFor(options, this.inflater !== null);
    this.binaryType = options.binaryType ?? 'nodebuffer';
  }

  /**
   * Feeds the next socket chunk. The Receiver may keep views of it and unmasks it in place. Ignored
   * after end(), after a close frame, or once the connection failed.
   */
  push(chunk: Buffer): void {
    if (this.done || this.ended || chunk.length === 0) return;
    const work = this.work;
    if (work !== null && work.busy) (work.queue ??= []).push(chunk);
    else this.run(chunk);
  }

  /**
   * No more chunks will come (the socket closed). `callback` runs once every event the pushed bytes
   * call for has been delivered: at once when none is pending, else after the last deferred event
   * (allowSynchronousEvents false) or the last inflate (RFC 7692) has been handed to the handler, or
   * after onError if that inflate fails. The WebSocket emits 'close' from it, so that a message that
   * arrived before the socket closed is delivered before 'close', as in ws (its Receiver's 'finish').
   * Called from inside a handler, `callback` waits for the rest of the walk. An unfinished frame or
   * message is dropped, as ws drops it.
   */
  end(callback: () => void): void {
    this.ended = true;
    this.onEnd = callback;
    if (this.work === null || !this.work.busy) this.settle();
  }

  /**
   * @internal Walks `first`, then the queued chunks, until they run out or an event must wait; then
   * reports to end(). A walk that ends at rest gives its working state back.
   */
  run(first: Buffer | null): void {
    let work = this.work;
    if (work === null) {
      work = spareWork ?? new ReceiverWork(this);
      spareWork = null;
      work.receiver = this;
      this.work = work;
    }
    work.busy = true;
    try {
      if (first !== null) work.take(first);
      work.work();
    } finally {
      work.busy = work.paused;
      work.releaseSharedRecords();
      if (this.done) {
        // What the failed or closed connection held is dropped with this object.
        this.work = null;
      } else if (work.atRest()) {
        this.work = null;
        work.rest();
        spareWork = work;
      }
    }
    if (!work.busy) this.settle();
  }

  /** Nothing is pending any more: end()'s callback runs, once. */
  private settle(): void {
    const callback = this.onEnd;
    if (callback === null) return;
    this.onEnd = null;
    callback();
  }
}

/**
 * A Receiver's working state: the chunk being walked and its records, a frame split across chunks,
 * the message being assembled, an event waiting for its macrotask. Between chunks it is at rest for
 * nearly every connection, so a Receiver holds one only while something spans chunks or waits, and
 * otherwise borrows the spare one for the length of a walk: an idle connection keeps none.
 */
class ReceiverWork {
  /** The Receiver this walk belongs to, set when it is borrowed; the spare keeps none alive. */
  receiver: Receiver;

  /** Waiting for a deferred event or for the inflater; chunks queue meanwhile. */
  paused = false;
  /** A walk is under way or paused: a pushed chunk only queues. */
  busy = false;
  /** Chunks pushed while busy, oldest first; null while none waited (most connections, always). */
  queue: Buffer[] | null = null;

  /** The chunk being walked, where its unwalked bytes start, and its records. */
  private chunk: Buffer | null = null;
  private pos = 0;
  private records: Int32Array = sharedRecords;
  private recordIndex = 0;
  private recordCount = 0;

  /** Bytes of an unfinished frame: its header while incomplete, then its payload pieces. */
  private readonly held = new ChunkList();
  private headerStage = STAGE_NONE;
  /** The frame whose payload is streaming: its first header byte | INFO_MASKED, or -1 when none. */
  private frameInfo = -1;
  private frameLength = 0;
  private frameDone = 0;
  private frameKey = 0;

  /** The message being assembled (ws: _fragmented, _compressed, _totalPayloadLength, _fragments …). */
  private fragmented = 0;
  private messageOpcode = 0;
  private compressed = false;
  private totalPayloadLength = 0;
  private messageLength = 0;
  private fragmentCount = 0;
  /** The frames of a fragmented (or inflated) message so far; null otherwise (section 5.4). */
  private parts: Buffer[] | null = null;
  /** Made on the first text that needs it; reset for every message, so it travels with the spare. */
  private utf8: Utf8Stream | null = null;

  private deferredEvent = EVENT_MESSAGE;
  private deferredData: Buffer | BinaryData = EMPTY_BUFFER;
  private deferredBinary = false;

  constructor(receiver: Receiver) {
    this.receiver = receiver;
  }

  /**
   * Nothing carries over to the next chunk: no waiting event or chunk, no bytes of a frame, no
   * message begun. (messageOpcode and compressed are set again by the next message's first frame.)
   */
  atRest(): boolean {
    return (
      !this.paused &&
      this.chunk === null &&
      (this.queue === null || this.queue.length === 0) &&
      this.held.length === 0 &&
      this.frameInfo < 0 &&
      this.headerStage === STAGE_NONE &&
      this.fragmented === 0 &&
      this.parts === null &&
      this.totalPayloadLength === 0 &&
      this.fragmentCount === 0 &&
      this.messageLength === 0
    );
  }

  /**
   * An at-rest walk becomes the spare: it lets go of its Receiver and of any record copy. (pos and the
   * record counters are set again by take.)
   */
  rest(): void {
    // Never read while spare: the next borrower sets its own.
    this.receiver = null as unknown as Receiver;
    this.queue = null;
    if (this.records !== sharedRecords) this.records = sharedRecords;
  }

  /** Walks the current chunk, then the queued ones, until they run out or an event must wait. */
  work(): void {
    const receiver = this.receiver;
    while (!this.paused && !receiver.done) {
      if (this.chunk !== null) {
        this.walk();
        continue;
      }
      const next = this.queue === null ? undefined : this.queue.shift();
      if (next === undefined) return;
      this.take(next);
    }
  }

  take(chunk: Buffer): void {
    const maxBufferedChunks = this.receiver.limits.maxBufferedChunks;
    // ws 8.23 counts the chunks still holding unconsumed bytes when a new one arrives.
    if (maxBufferedChunks > 0 && this.heldChunks() >= maxBufferedChunks) {
      this.fail(createWsError('WS_ERR_TOO_MANY_BUFFERED_PARTS', 'Too many buffered chunks'));
      return;
    }
    this.chunk = chunk;
    this.recordIndex = 0;
    this.recordCount = 0;
    this.pos = 0;
    if (this.frameInfo >= 0) this.pos = this.streamPayload(chunk, 0);
    else if (this.held.length > 0) this.pos = this.finishHeader(chunk);
  }

  /** Walks the chunk's records, scanning again when they run out and bytes remain. */
  private walk(): void {
    const chunk = this.chunk as Buffer;
    const receiver = this.receiver;
    while (!this.paused && !receiver.done) {
      if (this.recordIndex < this.recordCount) {
        this.handleRecord(chunk, this.recordIndex++);
      } else if (this.pos < chunk.length) {
        this.scan(chunk);
      } else {
        this.chunk = null;
        return;
      }
    }
  }

  private scan(chunk: Buffer): void {
    if (sharedRecordsOwner === null || sharedRecordsOwner === this) {
      sharedRecordsOwner = this;
      this.records = sharedRecords;
    } else {
      // A handler fed another receiver from inside this one's walk: that walk owns the shared records.
      this.records = new Int32Array(RECORD_CAPACITY * RECORD_WORDS);
    }
    this.recordIndex = 0;
    this.recordCount = kernel.scan(chunk, this.pos, chunk.length, this.records, this.receiver.limits.scanOptions);
  }

  /** Keeps the records a paused walk still needs, so the shared array is free for other receivers. */
  releaseSharedRecords(): void {
    if (sharedRecordsOwner !== this) return;
    sharedRecordsOwner = null;
    if (this.recordIndex < this.recordCount) {
      this.records = sharedRecords.slice(this.recordIndex * RECORD_WORDS, this.recordCount * RECORD_WORDS);
      this.recordCount -= this.recordIndex;
      this.recordIndex = 0;
    }
  }

  private handleRecord(chunk: Buffer, index: number): void {
    const records = this.records;
    const base = index * RECORD_WORDS;
    const info = records[base + WORD_INFO];
    const kind = (info >>> KIND_SHIFT) & 7;
    const start = records[base + WORD_FRAME_START];
    if (kind === KIND_FRAME) {
      const payloadStart = records[base + WORD_PAYLOAD_START];
      const length = records[base + WORD_LENGTH_LOW] >>> 0;
      this.pos = payloadStart + length;
      if (!this.admit(chunk, start, payloadStart - start)) return;
      this.beginFrame(info);
      this.endFrame(info, length === 0 ? EMPTY_BUFFER : chunk.subarray(payloadStart, payloadStart + length), false);
    } else if (kind === KIND_ERROR) {
      this.failOnHeader(chunk, start, records[base + WORD_LENGTH_LOW]);
    } else if (kind === KIND_NEED_HEADER) {
      this.pos = chunk.length;
      if (this.admit(chunk, start, chunk.length - start)) this.held.push(chunk.subarray(start));
    } else if (kind === KIND_FULL) {
      this.pos = start;
    } else {
      const payloadStart = records[base + WORD_PAYLOAD_START];
      this.pos = chunk.length;
      if (!this.admit(chunk, start, payloadStart - start)) return;
      this.beginFrame(info);
      this.startStreaming(info, recordLength(records, index), records[base + WORD_EXTRA]);
      this.streamPayload(chunk, payloadStart);
    }
  }

  /**
   * The checks ws makes on a header beyond the kernel's, on the `available` bytes of it at
   * buf[start..]: the opcode against the fragmentation state once the first two bytes are in (section
   * 5.4), then, once the length field is whole, the 2^53 - 1 bound and the message limits. A header
   * that is still arriving keeps its stage, so no check runs twice.
   */
  private admit(buf: Uint8Array, start: number, available: number): boolean {
    if (available < 2) return true;
    const byte0 = buf[start];
    if (this.headerStage < STAGE_OPCODE) {
      if (!this.checkOpcode(byte0)) return false;
      this.headerStage = STAGE_OPCODE;
    }
    if (this.headerStage < STAGE_LENGTH) {
      const length7 = buf[start + 1] & 0x7f;
      const extended = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
      if (available < 2 + extended) return true;
      let length = length7;
      if (length7 === 126) {
        length = (buf[start + 2] << 8) | buf[start + 3];
      } else if (length7 === 127) {
        const high = ((buf[start + 2] << 24) | (buf[start + 3] << 16) | (buf[start + 4] << 8) | buf[start + 5]) >>> 0;
        if (high > MAX_LENGTH_HIGH) {
          this.fail(errorFromKernel(ERROR_LENGTH_TOO_LARGE, byte0, length7));
          return false;
        }
        const low = ((buf[start + 6] << 24) | (buf[start + 7] << 16) | (buf[start + 8] << 8) | buf[start + 9]) >>> 0;
        length = high * 0x100000000 + low;
      }
      if (!this.checkLimits(byte0 & 0x0f, length)) return false;
      this.headerStage = STAGE_LENGTH;
    }
    return true;
  }

  /** Section 5.4: a continuation needs a started message; a new data frame must not interrupt one. */
  private checkOpcode(byte0: number): boolean {
    const opcode = byte0 & 0x0f;
    if (opcode === 0 ? this.fragmented === 0 : opcode < OPCODE_CLOSE && this.fragmented !== 0) {
      this.fail(createWsError('WS_ERR_INVALID_OPCODE', `invalid opcode ${opcode}`));
      return false;
    }
    return true;
  }

  /** maxPayload against the running total of declared lengths, then maxFragments, as ws. */
  private checkLimits(opcode: number, length: number): boolean {
    if (opcode >= OPCODE_CLOSE) return true;
    const { maxPayload, maxFragments } = this.receiver.limits;
    if (length > 0) {
      this.totalPayloadLength += length;
      if (maxPayload > 0 && this.totalPayloadLength > maxPayload) {
        this.fail(createWsError('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', MESSAGE_MAX_PAYLOAD));
        return false;
      }
    }
    if (maxFragments > 0 && ++this.fragmentCount > maxFragments) {
      this.fail(createWsError('WS_ERR_TOO_MANY_BUFFERED_PARTS', 'Too many message fragments'));
      return false;
    }
    return true;
  }

  /** A kernel ERROR record: the mask and length errors come after ws's opcode-state check. */
  private failOnHeader(buf: Uint8Array, start: number, errorId: number): void {
    const byte0 = buf[start];
    const laterThanOpcode =
      errorId === ERROR_EXPECTED_MASK || errorId === ERROR_UNEXPECTED_MASK || errorId === ERROR_LENGTH_TOO_LARGE;
    if (laterThanOpcode && this.headerStage < STAGE_OPCODE && !this.checkOpcode(byte0)) return;
    this.fail(errorFromKernel(errorId, byte0, buf[start + 1]));
  }

  /**
   * The first bytes of `chunk` complete a header held from earlier chunks: gather at most 14 bytes,
   * scan them, and go on with the payload straight from the chunk. Returns where the walk goes on.
   */
  private finishHeader(chunk: Buffer): number {
    const heldLength = this.held.length;
    const available = Math.min(MAX_HEADER_BYTES, heldLength + chunk.length);
    this.held.copyTo(headerScratch, heldLength);
    headerScratch.set(chunk.subarray(0, available - heldLength), heldLength);
    kernel.scan(headerScratch, 0, available, headerRecords, this.receiver.limits.scanOptions);
    const info = headerRecords[WORD_INFO];
    const kind = (info >>> KIND_SHIFT) & 7;
    if (kind === KIND_ERROR) {
      this.failOnHeader(headerScratch, 0, headerRecords[WORD_LENGTH_LOW]);
      return chunk.length;
    }
    if (kind === KIND_NEED_HEADER) {
      if (this.admit(headerScratch, 0, available)) this.held.push(chunk);
      return chunk.length;
    }
    const headerLength = headerRecords[WORD_PAYLOAD_START];
    if (!this.admit(headerScratch, 0, headerLength)) return chunk.length;
    const k = headerLength - 4;
    const key =
      (info & INFO_MASKED) !== 0
        ? (headerScratch[k] << 24) | (headerScratch[k + 1] << 16) | (headerScratch[k + 2] << 8) | headerScratch[k + 3]
        : 0;
    this.held.clear();
    this.beginFrame(info);
    this.startStreaming(info, recordLength(headerRecords, 0), key);
    return this.streamPayload(chunk, headerLength - heldLength);
  }

  private startStreaming(info: number, length: number, key: number): void {
    this.frameInfo = info & (0xff | INFO_MASKED);
    this.frameLength = length;
    this.frameDone = 0;
    this.frameKey = key;
  }

  /**
   * Takes the streaming frame's bytes from chunk[offset..]: unmasks them in place, checks text as it
   * comes, and keeps them. When the frame is whole, hands it on. Returns where the frame ended.
   */
  private streamPayload(chunk: Buffer, offset: number): number {
    const info = this.frameInfo;
    const take = Math.min(this.frameLength - this.frameDone, chunk.length - offset);
    if (take > 0) {
      if ((info & INFO_MASKED) !== 0) {
        // Byte i of the payload is XORed with key byte i mod 4; this piece starts at frameDone.
        const shift = (this.frameDone & 3) * 8;
        const key = shift === 0 ? this.frameKey : (this.frameKey << shift) | (this.frameKey >>> (32 - shift));
        rotatedKey.writeInt32BE(key | 0, 0);
        kernel.unmask(chunk, rotatedKey, offset, take);
      }
      const piece = chunk.subarray(offset, offset + take);
      if (this.checksTextAsItComes(info) && !(this.utf8 as Utf8Stream).write(piece, false)) {
        this.fail(createWsError('WS_ERR_INVALID_UTF8', MESSAGE_INVALID_UTF8));
        return chunk.length;
      }
      this.held.push(piece);
      this.frameDone += take;
    }
    if (this.frameDone < this.frameLength) return chunk.length;
    const payload = this.frameLength === 0 ? EMPTY_BUFFER : this.held.consume(this.frameLength);
    this.frameInfo = -1;
    this.endFrame(info, payload, this.checksTextAsItComes(info));
    return offset + take;
  }

  private checksTextAsItComes(info: number): boolean {
    return (
      (info & 0x0f) < OPCODE_CLOSE &&
      this.messageOpcode === OPCODE_TEXT &&
      !this.compressed &&
      !this.receiver.limits.skipUTF8Validation
    );
  }

  /** Section 5.4: the first frame of a message sets its type (and RSV1: compressed, RFC 7692 6.1). */
  private beginFrame(info: number): void {
    this.headerStage = STAGE_NONE;
    const opcode = info & 0x0f;
    if (opcode >= OPCODE_CLOSE) return;
    if (opcode !== 0) {
      this.messageOpcode = opcode;
      this.compressed = (info & RSV1_BIT) !== 0;
      if (opcode === OPCODE_TEXT && !this.receiver.limits.skipUTF8Validation) (this.utf8 ??= new Utf8Stream()).reset();
    }
    if ((info & FIN_BIT) === 0 && this.fragmented === 0) this.fragmented = opcode;
  }

  /** A whole frame. `textChecked`: its bytes already went through the UTF-8 stream. */
  private endFrame(info: number, payload: Buffer, textChecked: boolean): void {
    const opcode = info & 0x0f;
    if (opcode >= OPCODE_CLOSE) {
      this.controlFrame(opcode, payload);
      return;
    }
    const fin = (info & FIN_BIT) !== 0;
    if (this.compressed) {
      this.inflate(payload, fin);
      return;
    }
    if (this.messageOpcode === OPCODE_TEXT && !this.receiver.limits.skipUTF8Validation) {
      const valid = textChecked
        ? !fin || (this.utf8 as Utf8Stream).write(EMPTY_BUFFER, true)
        : fin && this.parts === null
          ? isUtf8(payload)
          : (this.utf8 as Utf8Stream).write(payload, fin);
      if (!valid) {
        this.fail(createWsError('WS_ERR_INVALID_UTF8', MESSAGE_INVALID_UTF8));
        return;
      }
    }
    if (fin && this.parts === null) {
      // The common case: a message of one frame is handed over as it is, with no parts list.
      this.endMessage(payload);
      return;
    }
    if (payload.length > 0) {
      (this.parts ??= []).push(payload);
      this.messageLength += payload.length;
    }
    if (fin) this.endMessage(null);
  }

  /**
   * Compressed frames go to the permessage-deflate hook (RFC 7692 section 7.2.2); the walk waits for
   * it. ws's decompress callback contract: inflated bytes count against maxPayload.
   */
  private inflate(payload: Buffer, fin: boolean): void {
    const inflater = this.receiver.inflater as MessageInflater;
    this.paused = true;
    this.releaseSharedRecords();
    let synchronous = true;
    inflater.decompress(payload, fin, (error, result) => {
      if (this.receiver.done) return;
      this.paused = false;
      this.inflated(error, result ?? EMPTY_BUFFER, fin);
      if (!synchronous) this.receiver.run(null);
    });
    synchronous = false;
  }

  /** The inflater's answer for one frame: checked as ws checks it, then kept or, on fin, emitted. */
  private inflated(error: Error | null, inflated: Buffer, fin: boolean): void {
    if (error !== null) {
      this.fail(error);
      return;
    }
    const { maxPayload, skipUTF8Validation } = this.receiver.limits;
    if (inflated.length > 0) {
      this.messageLength += inflated.length;
      if (maxPayload > 0 && this.messageLength > maxPayload) {
        this.fail(createWsError('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', MESSAGE_MAX_PAYLOAD));
        return;
      }
      if (this.messageOpcode === OPCODE_TEXT && !skipUTF8Validation) {
        if (!(this.utf8 as Utf8Stream).write(inflated, false)) {
          this.fail(createWsError('WS_ERR_INVALID_UTF8', MESSAGE_INVALID_UTF8));
          return;
        }
      }
      (this.parts ??= []).push(inflated);
    }
    if (fin) {
      if (this.messageOpcode === OPCODE_TEXT && !skipUTF8Validation && !(this.utf8 as Utf8Stream).write(EMPTY_BUFFER, true)) {
        this.fail(createWsError('WS_ERR_INVALID_UTF8', MESSAGE_INVALID_UTF8));
        return;
      }
      this.endMessage(null);
    }
  }

  /** The message is whole: `single` is its only frame's payload, or null when its parts are in `parts`. */
  private endMessage(single: Buffer | null): void {
    const multiple = this.parts;
    const length = single === null ? this.messageLength : single.length;
    const isBinary = this.messageOpcode === OPCODE_BINARY;
    this.parts = null;
    this.fragmented = 0;
    this.totalPayloadLength = 0;
    this.messageLength = 0;
    this.fragmentCount = 0;
    const binaryType = this.receiver.binaryType;
    let data: Buffer | BinaryData;
    if (!isBinary || binaryType === 'nodebuffer') {
      data = single ?? concat(multiple, length);
    } else if (binaryType === 'arraybuffer') {
      data = toArrayBuffer(single ?? concat(multiple, length));
    } else {
      // Only these two want a list; the common paths above allocate none (bench:alloc, 56 B a message).
      // Empty frames are not kept as parts (as ws), so neither is an empty single frame.
      const parts = single === null ? (multiple ?? []) : single.length > 0 ? [single] : [];
      // Message parts are views of socket chunks or of inflated output: never over a SharedArrayBuffer.
      data = binaryType === 'blob' ? new Blob(parts as Uint8Array<ArrayBuffer>[]) : parts;
    }
    this.emit(EVENT_MESSAGE, data, isBinary);
  }

  /** Sections 5.5.1-5.5.3. After a close frame nothing more is read (section 5.5.1: no data after it). */
  private controlFrame(opcode: number, payload: Buffer): void {
    if (opcode === OPCODE_CLOSE) {
      const close = decodeCloseBody(payload, this.receiver.limits.skipUTF8Validation);
      if (close instanceof Error) {
        this.fail(close);
        return;
      }
      this.finish();
      this.receiver.handler.onClose(close.code, close.reason);
      return;
    }
    this.emit(opcode === OPCODE_PING ? EVENT_PING : EVENT_PONG, payload, false);
  }

  /** Emits now, or, with allowSynchronousEvents false, in the next macrotask with the walk paused (ws). */
  private emit(event: number, data: Buffer | BinaryData, isBinary: boolean): void {
    if (this.receiver.limits.allowSynchronousEvents) {
      this.dispatch(event, data, isBinary);
      return;
    }
    this.paused = true;
    this.releaseSharedRecords();
    this.deferredEvent = event;
    this.deferredData = data;
    this.deferredBinary = isBinary;
    setImmediate(() => this.emitDeferred());
  }

  private dispatch(event: number, data: Buffer | BinaryData, isBinary: boolean): void {
    const handler = this.receiver.handler;
    if (event === EVENT_MESSAGE) handler.onMessage(data, isBinary);
    else if (event === EVENT_PING) handler.onPing(data as Buffer);
    else handler.onPong(data as Buffer);
  }

  /** Chunks held for the unfinished frame, counted as ws's `_buffers.length` would count them. */
  private heldChunks(): number {
    if (this.frameInfo >= 0) return this.held.count;
    const heldLength = this.held.length;
    if (heldLength < 2) return this.held.count;
    // ws consumes a header piece by piece: 2 bytes, then the extended length, then the key.
    this.held.copyTo(headerScratch, 2);
    const length7 = headerScratch[1] & 0x7f;
    const extended = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
    return this.held.countFrom(heldLength < 2 + extended ? 2 : 2 + extended);
  }

  private fail(error: Error): void {
    this.finish();
    this.receiver.handler.onError(error);
  }

  private finish(): void {
    this.receiver.done = true;
    this.chunk = null;
    this.queue = null;
    this.held.clear();
    this.parts = null;
  }

  /** Emits the event that waited for its macrotask, then goes on with the chunks. */
  private emitDeferred(): void {
    this.paused = false;
    const data = this.deferredData;
    this.deferredData = EMPTY_BUFFER;
    this.dispatch(this.deferredEvent, data, this.deferredBinary);
    this.receiver.run(null);
  }
}

/** One part is handed over as it is (a view of the socket's chunk); several are copied into one Buffer. */
function concat(parts: Buffer[] | null, length: number): Buffer {
  if (parts === null || parts.length === 0) return EMPTY_BUFFER;
  if (parts.length === 1) return parts[0];
  const out = Buffer.allocUnsafe(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function toArrayBuffer(buf: Buffer): ArrayBuffer {
  if (buf.byteOffset === 0 && buf.length === buf.buffer.byteLength) return buf.buffer as ArrayBuffer;
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length) as ArrayBuffer;
}
