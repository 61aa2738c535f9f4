'use strict';
/**
 * The Node floor: the least a WebSocket server on Node's `net` can do per message, to show what part
 * of a library's cost is Node itself. A minimal opening handshake (RFC 6455 section 4.2.2), a frame
 * parser with no validation at all (no UTF-8 check, no limits, no control-frame rules), unmasking with
 * bufferutil (as ws does), and one write per inbound chunk: every echo produced by a chunk leaves in
 * a single Buffer; a large frame spanning chunks is echoed piece by piece as it arrives. Broadcast: the frames of a publisher's chunk are built once and the same Buffer is
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
 * Reads a client frame header (section 5.2) at data[offset..]: { opcode, length, payloadStart }, or
 * null when the header has not fully arrived.
 */
function readHeader(data, offset) {
  if (data.length - offset < 2) return null;
  const opcode = data[offset] & 0x0f;
  let length = data[offset + 1] & 0x7f;
  let header = 2;
  if (length === 126) {
    if (data.length - offset < 4) return null;
    length = data.readUInt16BE(offset + 2);
    header = 4;
  } else if (length === 127) {
    if (data.length - offset < 10) return null;
    length = data.readUInt32BE(offset + 6);
    header = 10;
  }
  if (data.length - offset < header + 4) return null;
  return { opcode, length, payloadStart: offset + header + 4 };
}

/**
 * Parses every whole frame in `data` from `offset` and returns { frames: Buffer | null, used,
 * closing }: the server frames answering them (echo of data frames, pong for ping, close for close)
 * in one Buffer, and the offset after the last whole frame.
 */
function answer(data, offset) {
  const frames = [];
  let total = 0;
  let closing = false;
  for (let head = readHeader(data, offset); head !== null; head = readHeader(data, offset)) {
    if (data.length < head.payloadStart + head.length) break;
    frames.push(head.opcode, head.payloadStart, head.length);
    total += headerLength(head.length) + head.length;
    offset = head.payloadStart + head.length;
    if (head.opcode === OP_CLOSE) {
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

/**
 * A large frame that spans chunks is answered as it arrives: its header at once, then each chunk's
 * part unmasked into its own Buffer, so no chunk is copied twice (no reassembly). `stream` holds the
 * masking key rotated to where the next byte falls (section 5.3: byte i uses key[i mod 4]).
 */
function streamPayload(stream, data, offset, pieces) {
  const take = Math.min(stream.remaining, data.length - offset);
  const piece = Buffer.allocUnsafe(take);
  mask(data.subarray(offset, offset + take), stream.key, piece, 0, take);
  pieces.push(piece);
  stream.remaining -= take;
  const shift = take & 3;
  if (shift !== 0) stream.key = Buffer.from([0, 1, 2, 3].map((i) => stream.key[(i + shift) & 3]));
  return offset + take;
}

/** Answers what `data` holds; returns the offset up to which it was used (the rest waits for more). */
function onFrames(socket, state, data) {
  const pieces = [];
  let offset = 0;
  let closing = false;
  if (state.stream !== null) {
    offset = streamPayload(state.stream, data, offset, pieces);
    if (state.stream.remaining === 0) state.stream = null;
  }
  if (state.stream === null) {
    const whole = answer(data, offset);
    if (whole.frames !== null) pieces.push(whole.frames);
    offset = whole.used;
    closing = whole.closing;
    const head = closing ? null : readHeader(data, offset);
    if (head !== null && head.opcode < OP_CLOSE) {
      const header = Buffer.allocUnsafe(headerLength(head.length));
      writeHeader(header, 0, head.opcode, head.length);
      pieces.push(header);
      state.stream = { remaining: head.length, key: Buffer.from(data.subarray(head.payloadStart - 4, head.payloadStart)) };
      offset = streamPayload(state.stream, data, head.payloadStart, pieces);
    }
  }
  if (pieces.length > 0) {
    const targets = state.role === '/pub' ? subscribers : [socket];
    for (const target of targets) {
      if (pieces.length === 1) {
        target.write(pieces[0]);
        continue;
      }
      target.cork();
      for (const piece of pieces) target.write(piece);
      target.uncork();
    }
  }
  if (closing) socket.end();
  return offset;
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
  const state = { role: null, stream: null };
  socket.on('data', (chunk) => {
    let data = pending === null ? chunk : Buffer.concat([pending, chunk]);
    if (state.role === null) {
      const end = data.indexOf(HEAD_END);
      if (end === -1) {
        pending = data;
        return;
      }
      state.role = upgrade(socket, data.subarray(0, end));
      if (state.role === null) return;
      if (state.role === '/sub') subscribers.add(socket);
      data = data.subarray(end + 4);
    }
    const used = onFrames(socket, state, data);
    pending = used === data.length ? null : data.subarray(used);
  });
  socket.on('close', () => subscribers.delete(socket));
  socket.on('error', () => socket.destroy());
}

const port = portFromArgs();
net.createServer(onConnection).listen(port, '127.0.0.1', () => {
  announceReady(port, 'node floor: net + bufferutil unmask, no validation, one write per chunk');
});
