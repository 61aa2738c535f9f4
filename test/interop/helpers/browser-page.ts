/**
 * The page the browser loads from our server. Its script keeps the browser's WebSocket objects and
 * exposes `window.interop`, which the tests call through page.evaluate with JSON arguments (see
 * chromium.ts). It is plain JavaScript so that it reaches the browser exactly as written; the byte
 * pattern is the Node helper's own source, so both ends build identical payloads.
 */
import { patternBytes } from './payload';

const script = `
'use strict';
${patternBytes.toString()}

const sockets = new Map();
let lastId = 0;

function describe(data, sent) {
  if (typeof data === 'string') return { type: 'text', length: data.length, equal: data === sent };
  return (data instanceof Blob ? data.arrayBuffer() : Promise.resolve(data)).then((buffer) => {
    const bytes = new Uint8Array(buffer);
    const expected = new Uint8Array(sent);
    let equal = bytes.length === expected.length;
    for (let i = 0; equal && i < bytes.length; i++) equal = bytes[i] === expected[i];
    return { type: data instanceof Blob ? 'blob' : 'arraybuffer', length: bytes.length, equal };
  });
}

function nextMessage(entry) {
  if (entry.messages.length > 0) return Promise.resolve(entry.messages.shift());
  return new Promise((resolve) => entry.waiters.push(resolve));
}

window.interop = {
  open(url, binaryType) {
    const ws = new WebSocket(url);
    ws.binaryType = binaryType;
    const entry = { ws, messages: [], waiters: [], closed: null };
    entry.closed = new Promise((resolve) => {
      ws.onclose = (event) => resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean });
    });
    ws.onmessage = (event) => {
      const waiter = entry.waiters.shift();
      if (waiter) waiter(event.data);
      else entry.messages.push(event.data);
    };
    return new Promise((resolve, reject) => {
      ws.onopen = () => {
        const id = ++lastId;
        sockets.set(id, entry);
        resolve({ id, extensions: ws.extensions, protocol: ws.protocol });
      };
      ws.onerror = () => reject(new Error('the WebSocket to ' + url + ' failed to open'));
    });
  },

  /** Sends text (sample repeated) and describes the echo. */
  async echoText(id, sample, repeat) {
    const entry = sockets.get(id);
    const text = sample.repeat(repeat);
    entry.ws.send(text);
    return describe(await nextMessage(entry), text);
  },

  /** Sends patternBytes(length, seed) as an ArrayBuffer, a Blob or a typed-array view, and describes the echo. */
  async echoBytes(id, form, length, seed) {
    const entry = sockets.get(id);
    const bytes = patternBytes(length, seed);
    entry.ws.send(form === 'blob' ? new Blob([bytes]) : form === 'view' ? bytes : bytes.buffer);
    return describe(await nextMessage(entry), bytes.buffer);
  },

  pendingMessages(id) {
    return sockets.get(id).messages.length;
  },

  close(id, code, reason) {
    const entry = sockets.get(id);
    entry.ws.close(code, reason);
    return entry.closed;
  },

  closed(id) {
    return sockets.get(id).closed;
  },
};
`;

export const INTEROP_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>simdws interop</title></head>
<body><script>${script}</script></body></html>
`;
