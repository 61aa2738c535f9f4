/**
 * A recording ReceiverHandler for the protocol tests: every event the Receiver hands over becomes one
 * plain array, so a whole run compares with one toEqual, against literals or against ws's own Receiver
 * (test/compat). Payloads are recorded as text, hex, or as the objects themselves.
 *
 *   ['message', data, isBinary]   ['ping', data]   ['pong', data]   ['close', code, reason]
 *   ['error', class name, WS_ERR_* code, message, close status]
 */
import { BinaryData, Receiver, ReceiverHandler, ReceiverOptions } from '../../src/protocol/receiver';
import { kStatusCode } from '../../src/protocol/errors';
import { FrameSpec, buildFrame } from './frames';

export type ReceiverEvent = readonly unknown[];

/** 'utf8' and 'hex' turn Buffer payloads into strings; 'raw' keeps what the Receiver handed over. */
export type PayloadFormat = 'utf8' | 'hex' | 'raw';

/** An error as an event; `status` is its close code, read through whichever kStatusCode made it. */
export function errorEvent(error: Error, status: unknown): ReceiverEvent {
  return ['error', error.constructor.name, (error as Error & { code?: string }).code, error.message, status];
}

export class ReceiverEvents implements ReceiverHandler {
  readonly events: ReceiverEvent[] = [];

  constructor(private readonly format: PayloadFormat = 'utf8') {}

  /** The event names only, for tests about order and timing. */
  get names(): string[] {
    return this.events.map((event) => event[0] as string);
  }

  onMessage(data: Buffer | BinaryData, isBinary: boolean): void {
    this.events.push(['message', this.payload(data), isBinary]);
  }

  onPing(data: Buffer): void {
    this.events.push(['ping', this.payload(data)]);
  }

  onPong(data: Buffer): void {
    this.events.push(['pong', this.payload(data)]);
  }

  onClose(code: number, reason: Buffer): void {
    this.events.push(['close', code, this.payload(reason)]);
  }

  onError(error: Error): void {
    this.events.push(errorEvent(error, (error as Error & { [kStatusCode]?: number })[kStatusCode]));
  }

  private payload(data: Buffer | BinaryData): unknown {
    return this.format !== 'raw' && Buffer.isBuffer(data) ? data.toString(this.format) : data;
  }
}

/** One chunk, or several: bytes, or a frame to build (test/helpers/frames.ts). */
export type ReceiverInput = Uint8Array | readonly (Uint8Array | FrameSpec)[];

/** Buffers are pushed as they are (tests may look at them afterwards); other bytes as copies. */
function toChunks(input: ReceiverInput): Buffer[] {
  const chunks = input instanceof Uint8Array ? [input] : input;
  return chunks.map((chunk) =>
    Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk instanceof Uint8Array ? chunk : buildFrame(chunk)),
  );
}

/** Pushes the chunks into a new Receiver and returns the events delivered synchronously. */
export function receive(
  input: ReceiverInput,
  options: ReceiverOptions = {},
  format: PayloadFormat = 'utf8',
): ReceiverEvent[] {
  const recorder = new ReceiverEvents(format);
  const receiver = new Receiver(recorder, options);
  for (const chunk of toChunks(input)) receiver.push(chunk);
  return recorder.events;
}

/**
 * Pushes the chunks, ends the Receiver and returns every event once it has delivered them all,
 * deferred ones (allowSynchronousEvents false) and inflated ones included.
 */
export async function receiveAll(
  input: ReceiverInput,
  options: ReceiverOptions = {},
  format: PayloadFormat = 'utf8',
): Promise<ReceiverEvent[]> {
  const recorder = new ReceiverEvents(format);
  const receiver = new Receiver(recorder, options);
  for (const chunk of toChunks(input)) receiver.push(chunk);
  await new Promise<void>((resolve) => receiver.end(resolve));
  return recorder.events;
}
