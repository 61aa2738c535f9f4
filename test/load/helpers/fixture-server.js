'use strict';
/**
 * A deliberately faulty WebSocket echo server, to prove the load generator catches what it claims to.
 * Usage: node fixture-server.js <fault> <port>, fault one of:
 *   corrupt     echoes correctly, except that one byte of the 50th message is flipped
 *   bad-accept  answers the opening handshake with a wrong Sec-WebSocket-Accept (RFC 6455 4.2.2)
 *   fragment    echoes every message as two fragments (RFC 6455 5.4), each write split in pieces
 * It speaks the benchmark servers' control protocol (bench/load/servers/control.js).
 */
const crypto = require('node:crypto');
const net = require('node:net');
const { announceReady } = require('../../../bench/load/servers/control');

const fault = process.argv[2];
const port = Number(process.argv[3]);
if (!['corrupt', 'bad-accept', 'fragment'].includes(fault)) throw new Error(`unknown fault ${fault}`);

function header(opcode, fin, length) {
  const first = (fin ? 0x80 : 0) | opcode;
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

function echo(socket, opcode, payload) {
  messages++;
  if (fault === 'corrupt' && messages === 50) payload[payload.length - 1] ^= 1;
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
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(key)}\r\n\r\n`);
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
        const payload = Buffer.from(buffered.subarray(offset + 4, offset + 4 + length));
        for (let i = 0; i < length; i++) payload[i] ^= key[i & 3];
        const opcode = buffered[0] & 0x0f;
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
