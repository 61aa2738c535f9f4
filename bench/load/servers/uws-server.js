'use strict';
/**
 * uWebSockets.js (the @trufflesuite build of v20.30) as its users run it. Echo sends the message back
 * from the message handler; broadcast is uWS's own pub/sub: subscribers subscribe to a topic when they
 * open and the publisher's messages go out with app.publish. Compression is off, or for compressed
 * workloads DEDICATED_COMPRESSOR_3KB (a 512-byte window and memLevel 1 per connection, context kept),
 * the preset uWS's documentation suggests for many connections; uWS adds its shared decompressor itself.
 *
 * The package quietly falls back to a JavaScript imitation when its binary does not match Node's
 * ABI; benchmarking that would say nothing about uWebSockets, so the binary is loaded by path and a
 * missing one stops the server with an error.
 */
const { allowedOriginsSetting, announceReady, deflateSetting, portFromArgs } = require('./control');

const BINARY = `@trufflesuite/uws-js-unofficial/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
const TOPIC = 'broadcast';
/** Above the 64 KiB workload (uWS's default limit is 16 KiB). */
const MAX_PAYLOAD = 1024 * 1024;
/** ws's key check (RFC 6455 section 4.2.1 item 5: 16 bytes in base64); uWS itself only checks for 24 characters. */
const VALID_KEY = /^[+/0-9A-Za-z]{22}==$/;

function loadNative() {
  try {
    return require(BINARY);
  } catch (error) {
    throw new Error(
      `uWebSockets.js has no native binary for Node ${process.version} (ABI ${process.versions.modules}); ` +
        'refusing to benchmark its JavaScript fallback',
      { cause: error },
    );
  }
}

const uws = loadNative();
const port = portFromArgs();
const deflate = deflateSetting();
// uWS compresses a message only when its send asks to: the third argument, false by default.
const compress = deflate !== null;
const origins = allowedOriginsSetting();

const app = uws.App().ws('/*', {
  compression: deflate === null ? uws.DISABLED : uws.DEDICATED_COMPRESSOR_3KB,
  maxPayloadLength: MAX_PAYLOAD,
  // A closed-loop benchmark never queues more than its window; this only keeps uWS from dropping.
  maxBackpressure: 64 * MAX_PAYLOAD,
  idleTimeout: 0,
  upgrade(res, req, context) {
    // With an allow-list, the checks a uWS user writes into the upgrade handler; uWS keeps the connection open after the answer.
    if (origins !== null && !VALID_KEY.test(req.getHeader('sec-websocket-key'))) return void res.writeStatus('400 Bad Request').end();
    if (origins !== null && !origins.includes(req.getHeader('origin'))) return void res.writeStatus('403 Forbidden').end();
    res.upgrade(
      { url: req.getUrl() },
      req.getHeader('sec-websocket-key'),
      req.getHeader('sec-websocket-protocol'),
      req.getHeader('sec-websocket-extensions'),
      context,
    );
  },
  open(ws) {
    if (ws.getUserData().url === '/sub') ws.subscribe(TOPIC);
  },
  message(ws, message, isBinary) {
    if (ws.getUserData().url === '/pub') app.publish(TOPIC, message, isBinary, compress);
    else ws.send(message, isBinary, compress);
  },
});

app.listen('127.0.0.1', port, (token) => {
  if (!token) throw new Error(`uWebSockets.js could not listen on 127.0.0.1:${port}`);
  const originCheck = origins === null ? '' : `, upgrade handler: key as ws checks it else 400, Origin in [${origins.join(', ')}] else 403`;
  announceReady(port, `uWebSockets.js native binary ${BINARY}${deflate === null ? '' : ', compression: DEDICATED_COMPRESSOR_3KB'}${originCheck}`);
});
