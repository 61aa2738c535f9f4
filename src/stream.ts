/**
 * createWebSocketStream: a WebSocket as a Duplex stream, with ws 8's semantics. Each message is one
 * readable chunk; each written chunk is one message; ending the writable side starts the closing
 * handshake (RFC 6455 section 7.1.2); the readable side ends with the 'close' event; destroying the
 * stream terminates the WebSocket. Backpressure: when the readable buffer is full the WebSocket is
 * paused, and resumed when the stream is read.
 */
import { Duplex, DuplexOptions } from 'stream';
import type { WebSocket } from './websocket';
import type { BinaryData } from './protocol/receiver';

const kWebSocket = Symbol('kWebSocket');
/** Whether destroying the stream still has to terminate the WebSocket. */
const kTerminateOnDestroy = Symbol('kTerminateOnDestroy');

type WebSocketDuplex = Duplex & { [kWebSocket]: WebSocket; [kTerminateOnDestroy]: boolean };

export function createWebSocketStream(ws: WebSocket, options?: DuplexOptions): Duplex {
  const duplex = new Duplex({
    ...options,
    // The stream's life follows the WebSocket's: it is destroyed on 'close', not when both sides end.
    autoDestroy: false,
    emitClose: false,
    objectMode: false,
    writableObjectMode: false,
  }) as WebSocketDuplex;
  duplex[kWebSocket] = ws;
  duplex[kTerminateOnDestroy] = true;

  ws.on('message', function onMessage(data: Buffer | BinaryData, isBinary: boolean) {
    // In readable object mode a text message is a string, as ws.
    const chunk = !isBinary && duplex.readableObjectMode ? data.toString() : data;
    if (!duplex.push(chunk)) ws.pause();
  });

  ws.once('error', function onError(error: Error) {
    if (duplex.destroyed) return;
    // The WebSocket already closes itself after an error (with a close frame when it can); a
    // terminate() from _destroy could cut that frame off.
    duplex[kTerminateOnDestroy] = false;
    duplex.destroy(error);
  });

  ws.once('close', function onClose() {
    if (duplex.destroyed) return;
    duplex.push(null);
  });

  duplex._destroy = destroy;
  duplex._final = final;
  duplex._read = read;
  duplex._write = write;
  duplex.on('end', duplexOnEnd);
  duplex.on('error', duplexOnError);
  return duplex;
}

function emitClose(stream: Duplex): void {
  stream.emit('close');
}

function destroy(this: WebSocketDuplex, error: Error | null, callback: (error: Error | null) => void): void {
  const ws = this[kWebSocket];
  const duplex = this;
  if (ws.readyState === ws.CLOSED) {
    callback(error);
    process.nextTick(emitClose, duplex);
    return;
  }
  let called = false;
  ws.once('error', function onError(wsError: Error) {
    called = true;
    callback(wsError);
  });
  ws.once('close', function onClose() {
    if (!called) callback(error);
    process.nextTick(emitClose, duplex);
  });
  if (this[kTerminateOnDestroy]) ws.terminate();
}

function final(this: WebSocketDuplex, callback: (error?: Error | null) => void): void {
  const ws = this[kWebSocket];
  const duplex = this;
  if (ws.readyState === ws.CONNECTING) {
    ws.once('open', function onOpen() {
      final.call(duplex, callback);
    });
    return;
  }
  // A client whose handshake failed never got a socket: its 'error' event destroys the stream.
  const socket = ws._socket;
  if (socket === null) return;
  if (socket.writableFinished) {
    callback();
    if (duplex.readableEnded) duplex.destroy();
  } else {
    // 'end' follows on the duplex when the WebSocket emits 'close', which pushes the EOF.
    socket.once('finish', function onFinish() {
      callback();
    });
    ws.close();
  }
}

function read(this: WebSocketDuplex): void {
  const ws = this[kWebSocket];
  if (ws.isPaused) ws.resume();
}

function write(
  this: WebSocketDuplex,
  chunk: Buffer,
  encoding: BufferEncoding,
  callback: (error?: Error | null) => void,
): void {
  const ws = this[kWebSocket];
  const duplex = this;
  if (ws.readyState === ws.CONNECTING) {
    ws.once('open', function onOpen() {
      write.call(duplex, chunk, encoding, callback);
    });
    return;
  }
  ws.send(chunk, callback);
}

function duplexOnEnd(this: Duplex): void {
  if (!this.destroyed && this.writableFinished) this.destroy();
}

function duplexOnError(this: Duplex, error: Error): void {
  this.removeListener('error', duplexOnError);
  this.destroy();
  // Without another listener the error must still throw, as any unhandled stream error does.
  if (this.listenerCount('error') === 0) this.emit('error', error);
}
