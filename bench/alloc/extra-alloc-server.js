'use strict';
/**
 * Test-only: the echo of bench/load/servers/simdws-server.js with one known allocation added per
 * message, `Buffer.alloc(SIMDWS_ALLOC_EXTRA_BYTES)`. bench/alloc-per-message.ts measures it beside
 * the plain simdws server to show that the method sees an allocation of that size: the external
 * memory per message must grow by exactly those bytes (the Buffer's backing store) and the JS heap by
 * what one Buffer.alloc costs in the same process. Plain JavaScript on the compiled build, as
 * simdws-server.js is.
 */
const simdws = require('../../dist/index');
const { announceReady, portFromArgs } = require('../load/servers/control');

const { WebSocketServer, formatKernelInfo, kernelInfo } = simdws;

const extraBytes = Number(process.env.SIMDWS_ALLOC_EXTRA_BYTES);
if (!Number.isInteger(extraBytes) || extraBytes <= 0) throw new Error('SIMDWS_ALLOC_EXTRA_BYTES must be a positive integer');

/** Holds the latest extra Buffer: a store to a module variable is one no optimiser drops with the allocation. */
let latestExtra = Buffer.alloc(0);

const port = portFromArgs();
const wss = new WebSocketServer({ host: '127.0.0.1', port }, () => {
  announceReady(port, `${formatKernelInfo(kernelInfo)}; plus Buffer.alloc(${extraBytes}) per message`);
});

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    latestExtra = Buffer.alloc(extraBytes);
    ws.send(data, { binary: isBinary });
  });
});
