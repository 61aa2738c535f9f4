/**
 * send() with an array, as ws users write it: Buffer fragments (a message received with binaryType
 * 'fragments', forwarded as it came) go out joined; an array of numbers goes out as those bytes, as
 * ws's Buffer.from does.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from '../../src/websocket';
import { WebSocketServer } from '../../src/websocket-server';

let server: WebSocketServer;
let url: string;

beforeAll(async () => {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  server.on('connection', (ws: WebSocket) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  await once(server, 'listening');
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function echoOf(data: readonly Buffer[] | number[]): Promise<Buffer> {
  const client = new WebSocket(url);
  await once(client, 'open');
  client.send(data as readonly Buffer[]);
  const [reply] = (await once(client, 'message')) as [Buffer];
  client.close();
  return reply;
}

describe('send with arrays', () => {
  it('joins Buffer fragments into one message', async () => {
    expect(await echoOf([Buffer.from('ab'), Buffer.from('cd')])).toEqual(Buffer.from('abcd'));
  });

  it('sends an array of numbers as those bytes, as ws does', async () => {
    expect(await echoOf([1, 2, 3])).toEqual(Buffer.from([1, 2, 3]));
  });
});
