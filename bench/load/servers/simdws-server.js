'use strict';
/**
 * simdws, written the way a ws user writes it (the ws server with the import changed), so the rows
 * compare the libraries and not the servers. SIMDWS_KERNEL picks the kernel tier (select.ts fails
 * loudly when a forced tier cannot load); the tier that runs is printed on start and echoed in the
 * orchestrator's table. Broadcast is simdws's pub/sub, as its users write it: a subscriber subscribes
 * when it connects and the publisher's messages go out with `wss.publish`. SIMDWS_BENCH_DEFLATE
 * (control.js) turns permessage-deflate on: "on" is `perMessageDeflate: true`, as a ws user writes it; "memory-lean" is the
 * MEMORY_LEAN_DEFLATE preset. SIMDWS_BENCH_ORIGINS (control.js) becomes the `allowedOrigins` option.
 *
 * Plain JavaScript on the compiled build, as users run it, and as the other servers are: under
 * `--import tsx`, Node 20 runs the module hooks in a second thread of the server's process, whose
 * garbage collections (a mark-compact of 7-9 ms some 8 s after start) took the server's core inside
 * the measured window: p99 at 20k msg/s read 177-214 µs under tsx against 87-93 µs without it
 * (bench/RESULTS.md, "The bench servers run without tsx").
 */
const simdws = require('../../../dist/index');
const { allowedOriginsSetting, announceReady, deflateSetting, portFromArgs } = require('./control');

const { WebSocketServer, formatKernelInfo, kernelInfo, MEMORY_LEAN_DEFLATE } = simdws;

const OPTIONS = { on: true, 'memory-lean': MEMORY_LEAN_DEFLATE };
const TOPIC = 'broadcast';

const port = portFromArgs();
const deflate = deflateSetting(['memory-lean']);
const origins = allowedOriginsSetting();
const wss = new WebSocketServer(
  { host: '127.0.0.1', port, perMessageDeflate: deflate === null ? false : OPTIONS[deflate], allowedOrigins: origins ?? undefined },
  () => {
    const compression = deflate === null ? '' : `; perMessageDeflate: ${deflate === 'on' ? 'true' : 'MEMORY_LEAN_DEFLATE'}`;
    const originCheck = origins === null ? '' : `; allowedOrigins: [${origins.join(', ')}]`;
    announceReady(port, `${formatKernelInfo(kernelInfo)}${compression}${originCheck}`);
  },
);

wss.on('connection', (ws, request) => {
  if (request.url === '/sub') {
    ws.subscribe(TOPIC);
    return;
  }
  if (request.url === '/pub') {
    ws.on('message', (data, isBinary) => wss.publish(TOPIC, data, { binary: isBinary }));
    return;
  }
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
