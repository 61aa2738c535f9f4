/**
 * The WHATWG side of a WebSocket (https://websockets.spec.whatwg.org/#the-websocket-interface), as ws
 * offers it: Event, MessageEvent, CloseEvent and ErrorEvent, addEventListener/removeEventListener on
 * top of the EventEmitter, and the onopen/onmessage/onclose/onerror attributes. Only those four event
 * types are bridged, as in ws; a listener may be a function or an object with handleEvent.
 */
import type { EventEmitter } from 'events';

/** Marks the wrapper installed by an on<event> attribute (there is at most one per type). */
const kForOnEventAttribute = Symbol('kIsForOnEventAttribute');
/** The user's listener a wrapper calls. */
const kListener = Symbol('kListener');
/** Where an event's target is kept: set once, when it is dispatched. */
const kTarget = Symbol('kTarget');

/** What the close wrapper needs: wasClean is true when both close frames went (RFC 6455 7.1.4). */
export interface EventTargetHost extends EventEmitter {
  readonly _closeFrameReceived: boolean;
  readonly _closeFrameSent: boolean;
}

export type EventType = 'open' | 'message' | 'close' | 'error';

export class Event {
  #type: string;
  [kTarget]: unknown = null;

  constructor(type: string) {
    this.#type = type;
  }

  get target(): unknown {
    return this[kTarget];
  }

  get type(): string {
    return this.#type;
  }
}

export interface CloseEventInit {
  code?: number;
  reason?: string;
  wasClean?: boolean;
}

export class CloseEvent extends Event {
  #code: number;
  #reason: string;
  #wasClean: boolean;

  constructor(type: string, options: CloseEventInit = {}) {
    super(type);
    this.#code = options.code ?? 0;
    this.#reason = options.reason ?? '';
    this.#wasClean = options.wasClean ?? false;
  }

  get code(): number {
    return this.#code;
  }

  get reason(): string {
    return this.#reason;
  }

  get wasClean(): boolean {
    return this.#wasClean;
  }
}

export interface ErrorEventInit {
  error?: unknown;
  message?: string;
}

export class ErrorEvent extends Event {
  #error: unknown;
  #message: string;

  constructor(type: string, options: ErrorEventInit = {}) {
    super(type);
    this.#error = options.error ?? null;
    this.#message = options.message ?? '';
  }

  get error(): unknown {
    return this.#error;
  }

  get message(): string {
    return this.#message;
  }
}

export interface MessageEventInit {
  data?: unknown;
}

export class MessageEvent extends Event {
  #data: unknown;

  constructor(type: string, options: MessageEventInit = {}) {
    super(type);
    this.#data = options.data === undefined ? null : options.data;
  }

  get data(): unknown {
    return this.#data;
  }
}

// ws makes the accessors enumerable, so the events print and spread the same way.
for (const [proto, names] of [
  [Event.prototype, ['target', 'type']],
  [CloseEvent.prototype, ['code', 'reason', 'wasClean']],
  [ErrorEvent.prototype, ['error', 'message']],
  [MessageEvent.prototype, ['data']],
] as const) {
  for (const name of names) Object.defineProperty(proto, name, { enumerable: true });
}

export type EventListener = ((event: never) => void) | { handleEvent(event: never): void };

export interface AddEventListenerOptions {
  once?: boolean;
  /** @internal */
  [kForOnEventAttribute]?: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Wrapper = ((...args: any[]) => void) & {
  [kForOnEventAttribute]?: boolean;
  [kListener]?: EventListener;
};

function callListener(listener: EventListener, thisArg: unknown, event: Event): void {
  if (typeof listener === 'object' && typeof listener.handleEvent === 'function') {
    (listener.handleEvent as (event: Event) => void).call(listener, event);
  } else {
    (listener as (event: Event) => void).call(thisArg, event);
  }
}

function createWrapper(type: string, handler: EventListener): Wrapper | null {
  if (type === 'message') {
    return function onMessage(this: EventTargetHost, data: Buffer, isBinary: boolean) {
      const event = new MessageEvent('message', { data: isBinary ? data : data.toString() });
      event[kTarget] = this;
      callListener(handler, this, event);
    };
  }
  if (type === 'close') {
    return function onClose(this: EventTargetHost, code: number, reason: Buffer) {
      const event = new CloseEvent('close', {
        code,
        reason: reason.toString(),
        wasClean: this._closeFrameReceived && this._closeFrameSent,
      });
      event[kTarget] = this;
      callListener(handler, this, event);
    };
  }
  if (type === 'error') {
    return function onError(this: EventTargetHost, error: Error) {
      const event = new ErrorEvent('error', { error, message: error.message });
      event[kTarget] = this;
      callListener(handler, this, event);
    };
  }
  if (type === 'open') {
    return function onOpen(this: EventTargetHost) {
      const event = new Event('open');
      event[kTarget] = this;
      callListener(handler, this, event);
    };
  }
  return null;
}

/**
 * Adds `handler` for `type` ('open', 'message', 'close' or 'error'; other types are ignored, as in
 * ws). The same handler added twice is kept once.
 */
export function addEventListener(
  this: EventTargetHost,
  type: string,
  handler: EventListener,
  options: AddEventListenerOptions = {},
): void {
  const forAttribute = options[kForOnEventAttribute] === true;
  if (!forAttribute) {
    for (const listener of this.listeners(type) as Wrapper[]) {
      if (listener[kListener] === handler && !listener[kForOnEventAttribute]) return;
    }
  }
  const wrapper = createWrapper(type, handler);
  if (wrapper === null) return;
  wrapper[kForOnEventAttribute] = forAttribute;
  wrapper[kListener] = handler;
  if (options.once) this.once(type, wrapper);
  else this.on(type, wrapper);
}

/** Removes a handler added with addEventListener (not one set through an on<event> attribute). */
export function removeEventListener(this: EventTargetHost, type: string, handler: EventListener): void {
  for (const listener of this.listeners(type) as Wrapper[]) {
    if (listener[kListener] === handler && !listener[kForOnEventAttribute]) {
      this.removeListener(type, listener);
      return;
    }
  }
}

/** The on<type> attribute's current handler, or null. */
export function getEventAttribute(host: EventTargetHost, type: EventType): EventListener | null {
  for (const listener of host.listeners(type) as Wrapper[]) {
    if (listener[kForOnEventAttribute]) return listener[kListener] ?? null;
  }
  return null;
}

/** Replaces the on<type> attribute's handler; anything but a function clears it. */
export function setEventAttribute(host: EventTargetHost, type: EventType, handler: unknown): void {
  for (const listener of host.listeners(type) as Wrapper[]) {
    if (listener[kForOnEventAttribute]) {
      host.removeListener(type, listener);
      break;
    }
  }
  if (typeof handler !== 'function') return;
  addEventListener.call(host, type, handler as EventListener, { [kForOnEventAttribute]: true });
}
