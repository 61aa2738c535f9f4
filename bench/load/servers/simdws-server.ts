/**
 * simdws, written the way a ws user writes it (the ws server with the import changed), so the rows
 * compare the libraries and not the servers. SIMDWS_KERNEL picks the kernel tier (select.ts fails
 * loudly when a forced tier cannot load); the tier that runs is printed on start and echoed in the
 * orchestrator's table. Broadcast is simdws's pub/sub, as its users write it: a subscriber subscribes
 * when it connects and the publisher's messages go out with `wss.publish`. SIMDWS_BENCH_DEFLATE
 * (control.js) turns permessage-deflate on: "on" is `perMessageDeflate: true`, as a ws user writes it; "memory-lean" is the
 * MEMORY_LEAN_DEFLATE preset. SIMDWS_BENCH_ORIGINS (control.js) becomes the `allowedOrigins` option.
 */
// The compiled build, as users run it (under tsx every imported constant is a getter call).
import simdws from '../../../dist/index';
import { allowedOriginsSetting, announceReady, deflateSetting, portFromArgs } from './control';

const { WebSocketServer, WebSocket, formatKernelInfo, kernelInfo, MEMORY_LEAN_DEFLATE } = simdws;

const OPTIONS = { on: true, 'memory-lean': MEMORY_LEAN_DEFLATE } as const;
const TOPIC = 'broadcast';

const port = portFromArgs();
const deflate = deflateSetting(['memory-lean'] as const);
const origins = allowedOriginsSetting();
const wss = new WebSocketServer(
  { host: '127.0.0.1', port, perMessageDeflate: deflate === null ? false : OPTIONS[deflate], allowedOrigins: origins ?? undefined },
  () => {
    const compression = deflate === null ? '' : `; perMessageDeflate: ${deflate === 'on' ? 'true' : 'MEMORY_LEAN_DEFLATE'}`;
    const originCheck = origins === null ? '' : `; allowedOrigins: [${origins.join(', ')}]`;
    announceReady(port, `${formatKernelInfo(kernelInfo)}${compression}${originCheck}`);
  },
);

wss.on('connection', (ws: InstanceType<typeof WebSocket>, request: { url?: string }) => {
  if (request.url === '/sub') {
    ws.subscribe(TOPIC);
    return;
  }
  if (request.url === '/pub') {
    ws.on('message', (data: Buffer, isBinary: boolean) => wss.publish(TOPIC, data, { binary: isBinary }));
    return;
  }
  ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
});
