/**
 * The client over TLS (`wss:`): our client against our server on an https.Server, with a self-signed
 * certificate made for this run by the openssl command line. TLS options pass through to
 * https.request, as in ws: without the certificate as `ca`, the handshake fails verification.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from '../../src/websocket';
import { WebSocketServer } from '../../src/websocket-server';

let directory: string;
let certificate: Buffer;
let https: Server;
let wss: WebSocketServer;
let url: string;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'simdws-tls-'));
  const key = join(directory, 'key.pem');
  const cert = join(directory, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'ignore' });
  certificate = readFileSync(cert);
  https = createServer({ key: readFileSync(key), cert: certificate });
  wss = new WebSocketServer({ server: https });
  wss.on('connection', (ws: WebSocket) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  https.listen(0, '127.0.0.1');
  await once(https, 'listening');
  url = `wss://127.0.0.1:${(https.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await new Promise((resolve) => wss.close(resolve));
  await new Promise((resolve) => https.close(resolve));
  rmSync(directory, { recursive: true, force: true });
});

describe('client over TLS (wss:)', () => {
  it('echoes text and binary through a verified TLS connection', async () => {
    const client = new WebSocket(url, { ca: certificate });
    await once(client, 'open');
    client.send('héllo');
    const [text, textIsBinary] = (await once(client, 'message')) as [Buffer, boolean];
    expect([text.toString(), textIsBinary]).toEqual(['héllo', false]);
    const bytes = Buffer.alloc(70_000, 7);
    client.send(bytes);
    const [binary, binaryIsBinary] = (await once(client, 'message')) as [Buffer, boolean];
    expect([binary.equals(bytes), binaryIsBinary]).toEqual([true, true]);
    client.close(1000);
    const [code] = (await once(client, 'close')) as [number];
    expect(code).toBe(1000);
  });

  it('fails the handshake when the certificate cannot be verified', async () => {
    const client = new WebSocket(url);
    // 'close' follows 'error' in the same tick, so record both from the start.
    const events: Array<[string, unknown]> = [];
    client.on('error', (error: Error & { code?: string }) => events.push(['error', error.code]));
    await new Promise<void>((resolve) =>
      client.on('close', (code: number) => {
        events.push(['close', code]);
        resolve();
      }),
    );
    expect(events).toEqual([
      ['error', 'DEPTH_ZERO_SELF_SIGNED_CERT'],
      ['close', 1006],
    ]);
  });
});
