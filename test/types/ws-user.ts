/**
 * Code written the way @types/ws users write it, with only the module name changed. It is compiled,
 * never run: ws-types.test.ts type-checks it against simdws's published declarations and, as the
 * oracle that it is ordinary ws code, against @types/ws.
 */
import { createServer } from 'http';
import type { IncomingMessage } from 'http';
import type { Duplex } from 'stream';
import WebSocket, { WebSocketServer, RawData } from 'simdws';

// A server on its own port, with a synchronous verifyClient and the usual limits.
const wss = new WebSocketServer({
  port: 0,
  host: '127.0.0.1',
  maxPayload: 1024 * 1024,
  perMessageDeflate: false,
  clientTracking: true,
  verifyClient: (info: { origin: string; secure: boolean; req: IncomingMessage }) =>
    info.secure || info.req.headers['x-token'] === 'secret',
});

wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
  const remote: string | undefined = req.socket.remoteAddress;
  ws.on('message', (data: RawData, isBinary: boolean) => {
    for (const client of wss.clients) {
      if (client !== ws && client.readyState === WebSocket.OPEN) {
        client.send(data, { binary: isBinary, compress: false }, (error?: Error) => {
          if (error) ws.close(1011, `could not forward to ${remote ?? 'a peer'}`);
        });
      }
    }
  });
  ws.on('close', (code: number, reason: Buffer) => {
    if (code !== 1000) console.log(`closed with ${code}: ${reason.toString()}`);
  });
  ws.on('error', (error: Error) => ws.terminate());
  ws.on('pong', () => ws.ping());
  ws.send('welcome');
  ws.send(Buffer.from([1, 2, 3]), { binary: true });
  ws.close(4000, 'bye');
});

// An asynchronous verifyClient that refuses with a status, a message and headers.
const guarded = new WebSocketServer({
  server: createServer(),
  path: '/live',
  handleProtocols: (protocols: Set<string>) => (protocols.has('chat') ? 'chat' : false),
  verifyClient: (info, done) => {
    if (info.origin === 'https://example.com') done(true);
    else done(false, 403, 'Forbidden', { 'x-reason': 'origin' });
  },
});

// noServer mode: the application routes upgrades itself.
const http = createServer();
const rooms = new WebSocketServer({ noServer: true });
http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
  if (rooms.shouldHandle(req)) {
    rooms.handleUpgrade(req, socket, head, (ws: WebSocket) => rooms.emit('connection', ws, req));
  } else {
    socket.destroy();
  }
});

// The older spelling, from before ws exported WebSocketServer by name.
const legacy = new WebSocket.Server({ noServer: true });

// Clients: protocols, then options with headers; or options alone.
const client = new WebSocket('ws://127.0.0.1:8080/live', ['chat'], {
  headers: { authorization: 'Bearer token' },
  handshakeTimeout: 5000,
  perMessageDeflate: false,
  maxPayload: 64 * 1024,
});
client.binaryType = 'arraybuffer';
client.on('open', () => client.send(JSON.stringify({ hello: 'world' })));
client.on('message', (data: RawData, isBinary: boolean) => {
  const text: string = isBinary ? '' : data.toString();
  if (text === 'bye') client.close(1000);
});
client.on('unexpected-response', (req, res: IncomingMessage) => console.log(res.statusCode));
client.onclose = (event) => console.log(event.code, event.reason, event.wasClean);
const pending: number = client.bufferedAmount;
const open: boolean = client.readyState === client.OPEN;

const plain = new WebSocket('ws://127.0.0.1:8080', { origin: 'https://example.com' });

// @ts-expect-error A close code is a number.
plain.close('1000');

// @ts-expect-error port must be a number.
new WebSocketServer({ port: '8080' });

wss.close(() => guarded.close());
legacy.close();
export { http, pending, open };
