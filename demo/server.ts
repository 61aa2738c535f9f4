/**
 * The simdws demo: a page at / that opens a WebSocket to /echo, and the echo endpoint itself, on
 * 127.0.0.1. `npm start` runs it; the port comes from `--port N` (or `--port=N`), else the PORT
 * environment variable, else 8080. Port 0 picks a free one; the first line printed says which.
 *
 * SIGINT and SIGTERM stop it cleanly: every client gets a close frame with 1001 Going Away (RFC 6455
 * section 7.4.1), the WebSocket and HTTP servers close, and the process exits with 0.
 */
import { readFileSync } from 'fs';
import { createServer, IncomingMessage, ServerResponse } from 'http';
import type { AddressInfo } from 'net';
import { join } from 'path';
import { formatKernelInfo, kernelInfo } from '../src/kernels/select';
import type { WebSocket } from '../src/websocket';
import { WebSocketServer } from '../src/websocket-server';

const HOST = '127.0.0.1';
const DEFAULT_PORT = 8080;
/** RFC 6455 section 7.4.1: 1001, "an endpoint is going away, such as a server going down". */
const CLOSE_GOING_AWAY = 1001;
/** How long shutdown waits for clients to answer the close frame before cutting them off. */
const SHUTDOWN_GRACE_MS = 5000;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** `--port N` or `--port=N` wins over PORT; a port is an integer in 0..65535. */
function readPort(argv: readonly string[], env: NodeJS.ProcessEnv): number {
  let text: string | undefined = env.PORT;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--port') text = argv[++i];
    else if (argv[i].startsWith('--port=')) text = argv[i].slice('--port='.length);
  }
  if (text === undefined || text === '') return DEFAULT_PORT;
  const port = Number(text);
  if (!/^[0-9]+$/.test(text) || port > 65535) fail(`Not a port: ${JSON.stringify(text)}`);
  return port;
}

const page = readFileSync(join(__dirname, 'index.html'));

function serveHttp(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && (path === '/' || path === '/index.html')) {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': page.length });
    res.end(page);
    return;
  }
  const body = 'Not Found';
  res.writeHead(404, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
  res.end(body);
}

function echo(ws: WebSocket): void {
  ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  // A protocol error has already closed that connection with the right code; note it and go on.
  ws.on('error', (error: Error & { code?: string }) => process.stderr.write(`connection error: ${error.code ?? ''} ${error.message}\n`));
}

const server = createServer(serveHttp);
const wss = new WebSocketServer({ server, path: '/echo' });
wss.on('connection', echo);

let stopping = false;

function stop(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`${signal}: closing ${wss.clients.size} connection(s)\n`);
  for (const ws of wss.clients) ws.close(CLOSE_GOING_AWAY, 'server shutting down');
  wss.close();
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  // A client that never answers the close frame must not hold the exit for ws's 30 s closeTimeout.
  setTimeout(() => {
    for (const ws of wss.clients) ws.terminate();
    server.closeAllConnections();
  }, SHUTDOWN_GRACE_MS).unref();
}

process.on('SIGINT', stop);
process.on('SIGTERM', stop);

server.on('error', (error) => fail(`simdws demo: ${error.message}`));
server.listen(readPort(process.argv.slice(2), process.env), HOST, () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(
    `simdws demo on http://${HOST}:${port}/ (echo at ws://${HOST}:${port}/echo)\n${formatKernelInfo(kernelInfo)}\n`,
  );
});
