/**
 * The demo (demo/server.ts, `npm start`): it serves its page at /, echoes on /echo, and on SIGINT or
 * SIGTERM closes its clients with 1001 Going Away (RFC 6455 section 7.4.1) and exits with 0.
 */
import { ChildProcess, spawn } from 'child_process';
import { join } from 'path';
import WsClient from 'ws';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');

const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

/** Starts the demo on a free port and resolves with it once the demo says where it listens. */
function startDemo(): Promise<{ child: ChildProcess; port: number; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'demo/server.ts', '--port', '0'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let output = '';
    let errors = '';
    child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(output);
      if (match !== null) resolve({ child, port: Number(match[1]), exited });
    });
    void exited.then((code) => reject(new Error(`demo exited with ${code}: ${errors}`)));
  });
}

function open(url: string): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const client = new WsClient(url);
    client.once('open', () => resolve(client));
    client.once('error', reject);
  });
}

describe('demo server', () => {
  it('serves the page, echoes on /echo, and on SIGINT closes clients with 1001 and exits 0', async () => {
    const { child, port, exited } = await startDemo();

    const response = await fetch(`http://127.0.0.1:${port}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await response.text();
    expect(html).toContain('<title>simdws echo demo</title>');
    expect(html).toContain("new URL('/echo', location.href)");
    expect((await fetch(`http://127.0.0.1:${port}/missing`)).status).toBe(404);

    const client = await open(`ws://127.0.0.1:${port}/echo`);
    const reply = new Promise<[Buffer, boolean]>((resolve) =>
      client.once('message', (data: Buffer, isBinary: boolean) => resolve([data, isBinary])),
    );
    client.send('round trip');
    const [data, isBinary] = await reply;
    expect(data.toString()).toBe('round trip');
    expect(isBinary).toBe(false);

    const closed = new Promise<[number, string]>((resolve) =>
      client.once('close', (code: number, reason: Buffer) => resolve([code, reason.toString()])),
    );
    child.kill('SIGINT');
    expect(await closed).toEqual([1001, 'server shutting down']);
    expect(await exited).toBe(0);
  });

  it('exits 0 on SIGTERM with no clients', async () => {
    const { child, exited } = await startDemo();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('refuses WebSocket upgrades on other paths', async () => {
    const { port } = await startDemo();
    const client = new WsClient(`ws://127.0.0.1:${port}/other`);
    const status = await new Promise<number | undefined>((resolve) =>
      client.once('unexpected-response', (_req, res) => resolve(res.statusCode)),
    );
    expect(status).toBe(400);
  });
});
