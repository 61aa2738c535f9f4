'use strict';
/**
 * An HTTP server that answers upgrade requests in the odd ways the C flood (loadgen.c --mode flood)
 * must count rightly. Usage: node flood-fixture-server.js <behaviour> <port>, behaviour one of:
 *   accept     answers every upgrade with 101 and keeps the connection: a handshake it had to refuse
 *   split      keeps the connection and answers 400 with a Content-Length body, written in three pieces
 *              a turn apart (status line, head and body cut at odd places)
 *   no-length  answers 400 with a body but no Content-Length nor Connection: close, then closes: the
 *              body runs to the close (RFC 9112 section 6.3 item 8)
 *   hang-up    closes every connection as soon as a request arrives, without answering
 *   silent     reads requests and never answers
 *   garbage    answers with bytes that are not an HTTP status line
 * Requests are recognised by their blank line; one is in flight per connection.
 * It speaks the benchmark servers' control protocol (bench/load/servers/control.js).
 */
const crypto = require('node:crypto');
const net = require('node:net');
const { announceReady } = require('../../../bench/load/servers/control');

const behaviour = process.argv[2];
const port = Number(process.argv[3]);
const BEHAVIOURS = ['accept', 'split', 'no-length', 'hang-up', 'silent', 'garbage'];
if (!BEHAVIOURS.includes(behaviour)) throw new Error(`unknown behaviour ${behaviour}`);

function acceptKey(request) {
  const key = /^sec-websocket-key: *(\S+)\r$/im.exec(request)?.[1] ?? '';
  return crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

/** Writes the pieces one event-loop turn apart, so the client reads them in separate reads. */
function writeInTurns(socket, pieces) {
  if (pieces.length === 0 || socket.destroyed) return;
  socket.write(pieces[0]);
  setImmediate(writeInTurns, socket, pieces.slice(1));
}

function answer(socket, request) {
  switch (behaviour) {
    case 'accept':
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(request)}\r\n\r\n`);
      return;
    case 'split': {
      const response = 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 26\r\n\r\nSec-WebSocket-Key is wrong';
      writeInTurns(socket, [response.slice(0, 7), response.slice(7, 60), response.slice(60, response.length - 5), response.slice(response.length - 5)]);
      return;
    }
    case 'no-length':
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n\r\nthe body runs to the close');
      return;
    case 'hang-up':
      socket.destroy();
      return;
    case 'silent':
      return;
    case 'garbage':
      socket.write('SSH-2.0-OpenSSH_9.6\r\n\r\n');
      return;
  }
}

const server = net.createServer((socket) => {
  let buffered = '';
  socket.setEncoding('latin1');
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk) => {
    buffered += chunk;
    let end = buffered.indexOf('\r\n\r\n');
    while (end !== -1 && !socket.destroyed) {
      const request = buffered.slice(0, end + 4);
      buffered = buffered.slice(end + 4);
      answer(socket, request);
      end = buffered.indexOf('\r\n\r\n');
    }
  });
});

server.listen(port, '127.0.0.1', () => announceReady(port, `flood fixture: ${behaviour}`));
