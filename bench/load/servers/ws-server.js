'use strict';
/**
 * ws 8 as its users run it: a WebSocketServer on its own HTTP server, permessage-deflate off (ws's
 * default) or, for compressed workloads, `perMessageDeflate: true` (ws's defaults: context takeover both
 * ways, 15-bit windows, 1 KiB threshold), bufferutil and utf-8-validate loaded. Echo is ws's README echo; broadcast is ws's README
 * broadcast: loop over `wss.clients` and send to every open client but the publisher.
 */
const { WebSocketServer, WebSocket } = require('ws');
const { allowedOriginsSetting, announceReady, deflateSetting, portFromArgs } = require('./control');

// ws silently falls back to its JavaScript mask loop when bufferutil is missing or disabled; that
// would benchmark a different ws than its users get, so the server refuses to start instead.
if (process.env.WS_NO_BUFFER_UTIL) throw new Error('WS_NO_BUFFER_UTIL is set: ws would run without bufferutil');
require('bufferutil');

const port = portFromArgs();
const deflate = deflateSetting();
const origins = allowedOriginsSetting();
// ws has no allow-list: its users refuse other pages in verifyClient, whose callback form sets the status.
const verifyClient = origins === null ? undefined : (info, done) => done(origins.includes(info.origin), 403);
const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: deflate === 'on', verifyClient }, () => {
  const versions = `ws ${require('ws/package.json').version} with bufferutil ${require('bufferutil/package.json').version}`;
  const originCheck = origins === null ? '' : `, verifyClient: Origin in [${origins.join(', ')}] else 403`;
  announceReady(port, `${deflate === null ? versions : `${versions}, perMessageDeflate: true`}${originCheck}`);
});

wss.on('connection', (ws, request) => {
  if (request.url === '/sub') return;
  if (request.url === '/pub') {
    ws.on('message', (data, isBinary) => {
      for (const client of wss.clients) {
        if (client !== ws && client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
      }
    });
    return;
  }
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
