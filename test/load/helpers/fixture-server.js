'use strict';
/**
 * A deliberately faulty WebSocket echo server, to prove the load generator catches what it claims to.
 * Usage: node fixture-server.js <fault> <port>, fault one of:
 *   corrupt     echoes correctly, except that one byte of the 50th message is flipped
 *   bad-accept  answers the opening handshake with a wrong Sec-WebSocket-Accept (RFC 6455 4.2.2)
 *   fragment    echoes every message as two fragments (RFC 6455 5.4), each write split in pieces
 * and, accepting permessage-deflate (RFC 7692), compressing every reply with the previous reply of the
 * connection as its window (context takeover, section 7.2.3.2):
 *   deflate-context     honest: agrees to context takeover and a 15-bit server window
 *   deflate-lie         agrees to server_no_context_takeover (section 7.1.1.1), keeps its context anyway
 *   deflate-window-lie  agrees to server_max_window_bits=8 (section 7.1.2.1), reaches back further anyway
 *   deflate-corrupt     honest, except that one byte of the 50th compressed reply is flipped
 * Every deflate fault asks for client_no_context_takeover, so each request inflates on its own.
 * It speaks the benchmark servers' control protocol (bench/load/servers/control.js).
 */
const crypto = require('node:crypto');
const net = require('node:net');
const zlib = require('node:zlib');
const { announceReady } = require('../../../bench/load/servers/control');

const fault = process.argv[2];
const port = Number(process.argv[3]);
/** The Sec-WebSocket-Extensions answer of each deflate fault. */
const AGREED = {
  'deflate-context': 'permessage-deflate; client_no_context_takeover',
  'deflate-lie': 'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
  'deflate-window-lie': 'permessage-deflate; server_max_window_bits=8; client_no_context_takeover',
  'deflate-corrupt': 'permessage-deflate; client_no_context_takeover',
};
if (!['corrupt', 'bad-accept', 'fragment', ...Object.keys(AGREED)].includes(fault)) throw new Error(`unknown fault ${fault}`);
const deflating = fault in AGREED;
const RSV1 = 0x40;
/** What a sync flush ends with, removed by the sender and put back by the receiver (RFC 7692 7.2.1-7.2.2). */
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

function header(opcode, fin, length, rsv1 = false) {
  const first = (fin ? 0x80 : 0) | (rsv1 ? RSV1 : 0) | opcode;
  if (length < 126) return Buffer.from([first, length]);
  const out = Buffer.alloc(4);
  out[0] = first;
  out[1] = 126;
  out.writeUInt16BE(length, 2);
  return out;
}

function accept(key) {
  const value = crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  return fault === 'bad-accept' ? `x${value.slice(1)}` : value;
}

/**
 * Splits a write into three pieces written a turn apart, in order behind any earlier pieces, so the
 * client sees frames cut at odd places.
 */
const queues = new WeakMap();

function drain(socket, queue) {
  if (queue.length === 0 || socket.destroyed) {
    queue.length = 0;
    return;
  }
  socket.write(queue.shift());
  setImmediate(drain, socket, queue);
}

function writeInPieces(socket, data) {
  const a = Math.floor(data.length / 3);
  const b = Math.floor((2 * data.length) / 3) + 1;
  let queue = queues.get(socket);
  if (queue === undefined) {
    queue = [];
    queues.set(socket, queue);
  }
  if (queue.length === 0) setImmediate(drain, socket, queue);
  queue.push(data.subarray(0, a), data.subarray(a, b), data.subarray(b));
}

let messages = 0;
const previousReply = new WeakMap();

/** A reply compressed with the connection's previous reply as preset window: context takeover. */
function compressReply(socket, payload) {
  const previous = previousReply.get(socket);
  previousReply.set(socket, payload);
  const options = { finishFlush: zlib.constants.Z_SYNC_FLUSH, ...(previous === undefined ? {} : { dictionary: previous }) };
  const compressed = zlib.deflateRawSync(payload, options);
  const body = compressed.subarray(0, compressed.length - TRAILER.length);
  if (fault === 'deflate-corrupt' && messages === 50) body[body.length >> 1] ^= 0x10;
  return body;
}

function echo(socket, opcode, payload) {
  messages++;
  if (fault === 'corrupt' && messages === 50) payload[payload.length - 1] ^= 1;
  if (deflating) {
    const body = compressReply(socket, payload);
    socket.write(Buffer.concat([header(opcode, true, body.length, true), body]));
    return;
  }
  if (fault !== 'fragment') {
    socket.write(Buffer.concat([header(opcode, true, payload.length), payload]));
    return;
  }
  const half = payload.length >> 1;
  writeInPieces(
    socket,
    Buffer.concat([header(opcode, false, half), payload.subarray(0, half), header(0, true, payload.length - half), payload.subarray(half)]),
  );
}

net
  .createServer((socket) => {
    let buffered = Buffer.alloc(0);
    let open = false;
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (!open) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        const key = /sec-websocket-key:\s*(\S+)/i.exec(buffered.subarray(0, end).toString('latin1'))[1];
        const extensions = deflating ? `Sec-WebSocket-Extensions: ${AGREED[fault]}\r\n` : '';
        socket.write(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(key)}\r\n${extensions}\r\n`,
        );
        buffered = buffered.subarray(end + 4);
        open = true;
      }
      while (buffered.length >= 2) {
        let length = buffered[1] & 0x7f;
        let offset = 2;
        if (length === 126) {
          if (buffered.length < 4) return;
          length = buffered.readUInt16BE(2);
          offset = 4;
        }
        if (buffered.length < offset + 4 + length) return;
        const key = buffered.subarray(offset, offset + 4);
        let payload = Buffer.from(buffered.subarray(offset + 4, offset + 4 + length));
        for (let i = 0; i < length; i++) payload[i] ^= key[i & 3];
        const opcode = buffered[0] & 0x0f;
        if (buffered[0] & RSV1) payload = zlib.inflateRawSync(Buffer.concat([payload, TRAILER]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
        // The compressed workload's text is JSON: a payload that does not parse ends the fixture, loudly.
        if (deflating && opcode === 0x1) JSON.parse(payload.toString('utf8'));
        buffered = buffered.subarray(offset + 4 + length);
        if (opcode === 0x8) {
          socket.end(Buffer.concat([header(0x8, true, payload.length), payload]));
          return;
        }
        echo(socket, opcode, payload);
      }
    });
  })
  .listen(port, '127.0.0.1', () => announceReady(port, `fixture server: ${fault}`));
