'use strict';
/**
 * Bun's own WebSocket server (Bun.serve), as its users write it, run by the Bun binary from npm
 * (@oven/bun-linux-x64). Echo sends the message back from the message handler; broadcast is Bun's
 * pub/sub: subscribers subscribe when they open and the publisher's messages go out with
 * server.publish. Compression is off, or for compressed workloads `perMessageDeflate: true` with
 * every send asking for it (Bun compresses a send only when its second argument says so).
 */
const { allowedOriginsSetting, announceReady, deflateSetting, portFromArgs } = require('./control');

const TOPIC = 'broadcast';
/** Above the 64 KiB workload. */
const MAX_PAYLOAD = 1024 * 1024;

const port = portFromArgs();
const deflate = deflateSetting();
const compress = deflate !== null;
const origins = allowedOriginsSetting();
// control.js answers "gc" with a full collection, which Bun offers as Bun.gc(true).
global.gc = () => Bun.gc(true);

const server = Bun.serve({
  hostname: '127.0.0.1',
  port,
  fetch(req, srv) {
    if (origins !== null && !origins.includes(req.headers.get('origin'))) return new Response('Forbidden', { status: 403 });
    // upgrade() is false when the request is not a valid opening handshake (RFC 6455 section 4.2.1).
    if (srv.upgrade(req, { data: { path: new URL(req.url).pathname } })) return undefined;
    return new Response('Bad Request', { status: 400 });
  },
  websocket: {
    perMessageDeflate: compress,
    maxPayloadLength: MAX_PAYLOAD,
    // A closed-loop benchmark never queues more than its window; this only keeps Bun from dropping.
    backpressureLimit: 64 * MAX_PAYLOAD,
    // The longest Bun allows (seconds): the idle-memory rows keep their connections this side of it.
    idleTimeout: 960,
    open(ws) {
      if (ws.data.path === '/sub') ws.subscribe(TOPIC);
    },
    message(ws, message) {
      if (ws.data.path === '/pub') server.publish(TOPIC, message, compress);
      else ws.send(message, compress);
    },
  },
});

const compression = deflate === null ? '' : ', perMessageDeflate: true';
const originCheck = origins === null ? '' : `, Origin in [${origins.join(', ')}] else 403`;
announceReady(server.port, `Bun ${Bun.version} (Bun.serve)${compression}${originCheck}`);
