/**
 * simdws, written the way a ws user writes it (the ws server with the import changed), so the rows
 * compare the libraries and not the servers. SIMDWS_KERNEL picks the kernel tier (select.ts fails
 * loudly when a forced tier cannot load); the tier that runs is printed on start and echoed in the
 * orchestrator's table. Broadcast loops over `wss.clients`, as ws users do, until pub/sub lands
 * (issue 5), when it becomes `wss.publish`.
 */
// The compiled build, as users run it (under tsx every imported constant is a getter call).
import simdws from '../../../dist/index';
import { announceReady, portFromArgs } from './control';

const { WebSocketServer, WebSocket, formatKernelInfo, kernelInfo } = simdws;

const port = portFromArgs();
const wss = new WebSocketServer({ host: '127.0.0.1', port }, () => {
  announceReady(port, formatKernelInfo(kernelInfo));
});

wss.on('connection', (ws: InstanceType<typeof WebSocket>, request: { url?: string }) => {
  if (request.url === '/sub') return;
  if (request.url === '/pub') {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      for (const client of wss.clients) {
        if (client !== ws && client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
      }
    });
    return;
  }
  ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
});
