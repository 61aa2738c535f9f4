/**
 * ws's public `Receiver`: a Writable that takes socket bytes and emits 'message', 'ping', 'pong',
 * 'conclude' (a close frame arrived) and 'error', with ws's constructor options, and 'finish' once
 * end() was called and every pending event was emitted. It wraps the handler-based Receiver the
 * WebSocket class uses, so code that drives ws's Receiver by hand keeps working.
 */
import { Writable } from 'node:stream';
import { BinaryType } from './constants';
import { BinaryData, MessageInflater, Receiver, ReceiverHandler } from './receiver';

/** ws's `new Receiver(options)` options, with their ws defaults. */
export interface ReceiverStreamOptions {
  /** Emit message/ping/pong one per macrotask when false. Default true. */
  allowSynchronousEvents?: boolean;
  /** How binary messages are handed over. Default 'nodebuffer'. */
  binaryType?: BinaryType;
  /** Negotiated extensions; 'permessage-deflate' enables RSV1 (RFC 7692). Default {}. */
  extensions?: Record<string, unknown>;
  /** Server role: frames must be masked (RFC 6455 section 5.1). Default false. */
  isServer?: boolean;
  /** Largest message in bytes; 0 = no limit. Default 0. */
  maxPayload?: number;
  /** Most socket chunks held for one unfinished frame; 0 = no limit. Default 0. */
  maxBufferedChunks?: number;
  /** Most frames per message; 0 = no limit. Default 0. */
  maxFragments?: number;
  /** Skip UTF-8 checks of text messages and close reasons. Default false. */
  skipUTF8Validation?: boolean;
}

const kStream = Symbol('receiver-stream');

interface StreamLink extends ReceiverHandler {
  [kStream]: ReceiverStream;
}

/** The handler methods: module-level, reaching their stream through a symbol (no closures). */
const streamHandler = {
  onMessage(this: StreamLink, data: Buffer | BinaryData, isBinary: boolean): void {
    this[kStream].emit('message', data, isBinary);
  },
  onPing(this: StreamLink, data: Buffer): void {
    this[kStream].emit('ping', data);
  },
  onPong(this: StreamLink, data: Buffer): void {
    this[kStream].emit('pong', data);
  },
  onClose(this: StreamLink, code: number, reason: Buffer): void {
    const stream = this[kStream];
    stream.emit('conclude', code, reason);
    stream.end();
  },
  onError(this: StreamLink, error: Error): void {
    this[kStream].fail(error);
  },
};

export class ReceiverStream extends Writable {
  private readonly receiver: Receiver;
  /** An error raised while a write was being handled: handed to that write's callback, as ws does. */
  private writeError: Error | null = null;
  private writing = false;

  constructor(options: ReceiverStreamOptions = {}) {
    super();
    const link: StreamLink = Object.assign(Object.create(streamHandler) as ReceiverHandler, { [kStream]: this });
    const inflater = options.extensions?.['permessage-deflate'] as MessageInflater | undefined;
    this.receiver = new Receiver(link, {
      allowSynchronousEvents: options.allowSynchronousEvents,
      binaryType: options.binaryType,
      isServer: options.isServer,
      maxPayload: options.maxPayload,
      maxBufferedChunks: options.maxBufferedChunks,
      maxFragments: options.maxFragments,
      skipUTF8Validation: options.skipUTF8Validation,
      perMessageDeflate: inflater,
    });
  }

  get binaryType(): BinaryType {
    return this.receiver.binaryType;
  }

  set binaryType(type: BinaryType) {
    this.receiver.binaryType = type;
  }

  /** @internal The wrapped Receiver failed the connection. */
  fail(error: Error): void {
    if (this.writing) this.writeError = error;
    else this.destroy(error);
  }

  /** 'finish' waits for the events still deferred or being inflated, as ws's Receiver's does. */
  override _final(callback: (error?: Error | null) => void): void {
    this.receiver.end(() => callback());
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writing = true;
    this.receiver.push(chunk);
    this.writing = false;
    const error = this.writeError;
    this.writeError = null;
    callback(error);
  }
}
