/**
 * `require('simdws')` and `import … from 'simdws'` resolve through package.json "exports" (the
 * package refers to itself by name from the repo root) and must present ws 8's surface: CommonJS
 * gets the WebSocket class with everything hung on it (ws's index.js, `Server` included), ESM gets
 * ws's wrapper.mjs named exports plus simdws's own, with WebSocket as the default. ws itself, loaded
 * in the same child process, is the oracle for the names.
 */
import { execFile } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, ensureFreshDist } from '../types/dist-build';

function runNode(args: string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: REPO_ROOT, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`node ${args[0]} exited with ${String(error.code)}:\n${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

const CJS_PROBE = `
const simdws = require('simdws');
const ws = require('ws');
console.log(JSON.stringify({
  type: typeof simdws,
  isWebSocket: simdws === simdws.WebSocket,
  serverIsWebSocketServer: typeof simdws.Server === 'function' && simdws.Server === simdws.WebSocketServer,
  missing: Object.keys(ws).filter((name) => !(name in simdws)),
  readyStates: [simdws.CONNECTING, simdws.OPEN, simdws.CLOSING, simdws.CLOSED],
  kernel: simdws.kernelInfo ? simdws.kernelInfo.name : null,
}));
`;

const ESM_PROBE = `
import WebSocket, { WebSocketServer } from 'simdws';
import * as simdws from 'simdws';
import * as ws from 'ws';
import { createRequire } from 'node:module';
const required = createRequire(import.meta.url)('simdws');
console.log(JSON.stringify({
  defaultIsWebSocket: typeof WebSocket === 'function' && WebSocket === simdws.WebSocket,
  sameInstanceAsRequire: WebSocket === required && WebSocketServer === required.WebSocketServer,
  missing: Object.keys(ws).filter((name) => !(name in simdws)),
  hasServer: 'Server' in simdws,
  kernel: simdws.kernelInfo ? simdws.kernelInfo.name : null,
}));
`;

beforeAll(ensureFreshDist, 180_000);

describe('package entry: require("simdws") (ws index.js shape)', () => {
  it('is the WebSocket class carrying every export ws has, Server included, and the kernel info', async () => {
    expect(await runNode(['-e', CJS_PROBE])).toEqual({
      type: 'function',
      isWebSocket: true,
      serverIsWebSocketServer: true,
      missing: [],
      readyStates: [0, 1, 2, 3],
      kernel: expect.stringMatching(/^(native|wasm|ts)$/),
    });
  });
});

describe('package entry: import from "simdws" (ws wrapper.mjs shape)', () => {
  it("has WebSocket as default, every named export of ws's wrapper, no Server, and kernelInfo", async () => {
    expect(await runNode(['--input-type=module', '-e', ESM_PROBE])).toEqual({
      defaultIsWebSocket: true,
      sameInstanceAsRequire: true,
      missing: [],
      hasServer: false,
      kernel: expect.stringMatching(/^(native|wasm|ts)$/),
    });
  });
});
