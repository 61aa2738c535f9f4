'use strict';
/**
 * The Node floor: the least a WebSocket server on Node's `net` can do per message, to show what part
 * of a library's cost is Node itself. A minimal opening handshake (RFC 6455 section 4.2.2), a frame
 * parser with no validation at all (no UTF-8 check, no limits, no control-frame rules), unmasking with
 * bufferutil (as ws does), and one write per inbound chunk: every echo produced by a chunk leaves in
 * a single Buffer. Broadcast: the frames of a publisher's chunk are built once and the same Buffer is
 * written to every subscriber.
 */
const crypto = require('node:crypto');
const net = require('node:net');
const { mask } = require('bufferutil');
const { announceReady, portFromArgs } = require('./control');

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const HEAD_END = Buffer.from('\r\n\r\n');
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

const subscribers = new Set();

function headerLength(length) {
  return length < 126 ? 2 : length < 65536 ? 4 : 10;
}

/** Writes an unmasked server frame header (section 5.2) at `offset`; returns the header's length. */
function writeHeader(out, offset, opcode, length) {
  out[offset] = 0x80 | opcode;
  if (length < 126) {
    out[offset + 1] = length;
    return 2;
  }
  if (length < 65536) {
    out[offset + 1] = 126;
    out.writeUInt16BE(length, offset + 2);
    return 4;
  }
  out[offset + 1] = 127;
  out.writeUInt32BE(0, offset + 2);
  out.writeUInt32BE(length, offset + 6);
  return 10;
}

/**
 * Parses every whole frame in `data` and returns { frames: Buffer | null, used }: the server frames
 * answering them (echo of data frames, pong for ping, close for close) and how many bytes were used.
 */
function answer(data) {
  const frames = [];
  let total = 0;
  let offset = 0;
  let closing = false;
  while (data.length - offset >= 2) {
    const opcode = data[offset] & 0x0f;
    let length = data[offset + 1] & 0x7f;
    let header = 2;
    if (length === 126) {
      if (data.length - offset < 4) break;
      length = data.readUInt16BE(offset + 2);
      header = 4;
    } else if (length === 127) {
      if (data.length - offset < 10) break;
      length = data.readUInt32BE(offset + 6);
      header = 10;
    }
    const start = offset + header + 4;
    if (data.length < start + length) break;
    frames.push(opcode, start, length);
    total += headerLength(length) + length;
    offset = start + length;
    if (opcode === OP_CLOSE) {
      closing = true;
      break;
    }
  }
  if (frames.length === 0) return { frames: null, used: offset, closing };
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < frames.length; i += 3) {
    const opcode = frames[i];
    const start = frames[i + 1];
    const length = frames[i + 2];
    at += writeHeader(out, at, opcode === OP_PING ? OP_PONG : opcode, length);
    if (length > 0) mask(data.subarray(start, start + length), data.subarray(start - 4, start), out, at, length);
    at += length;
  }
  return { frames: out, used: offset, closing };
}

function onFrames(socket, role, data) {
  const { frames, used, closing } = answer(data);
  if (frames !== null) {
    if (role === '/pub') {
      for (const subscriber of subscribers) subscriber.write(frames);
    } else {
      socket.write(frames);
    }
  }
  if (closing) socket.end();
  return used;
}

function upgrade(socket, head) {
  const text = head.toString('latin1');
  const lower = text.toLowerCase();
  const at = lower.indexOf('\r\nsec-websocket-key:');
  if (at === -1) {
    socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    return null;
  }
  const key = text.slice(at + 20, text.indexOf('\r\n', at + 2)).trim();
  const accept = crypto.createHash('sha1').update(key + GUID).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  return text.slice(4, text.indexOf(' ', 4));
}

function onConnection(socket) {
  socket.setNoDelay(true);
  let pending = null;
  let role = null;
  socket.on('data', (chunk) => {
    let data = pending === null ? chunk : Buffer.concat([pending, chunk]);
    if (role === null) {
      const end = data.indexOf(HEAD_END);
      if (end === -1) {
        pending = data;
        return;
      }
      role = upgrade(socket, data.subarray(0, end));
      if (role === null) return;
      if (role === '/sub') subscribers.add(socket);
      data = data.subarray(end + 4);
    }
    const used = onFrames(socket, role, data);
    pending = used === data.length ? null : data.subarray(used);
  });
  socket.on('close', () => subscribers.delete(socket));
  socket.on('error', () => socket.destroy());
}

const port = portFromArgs();
net.createServer(onConnection).listen(port, '127.0.0.1', () => {
  announceReady(port, 'node floor: net + bufferutil unmask, no validation, one write per chunk');
});
