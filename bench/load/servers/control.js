'use strict';
/**
 * What every benchmark server shares with the orchestrator (bench/load/run-load.ts): the port comes
 * as the first argument, "ready <port>" on stdout says the server listens, and a "gc" line on stdin
 * runs a full collection (the server runs with --expose-gc) and is answered with "gc-done", so the
 * memory workload reads RSS without garbage that a collection would free.
 */
const readline = require('node:readline');

function portFromArgs() {
  const port = Number(process.argv[2]);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`usage: ${process.argv[1]} <port>; got ${JSON.stringify(process.argv[2])}`);
  }
  return port;
}

function announceReady(port, description) {
  process.stderr.write(`${description}\n`);
  process.stdout.write(`ready ${port}\n`);
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() !== 'gc') return;
    if (typeof global.gc !== 'function') throw new Error('gc requested, but the server runs without --expose-gc');
    global.gc();
    process.stdout.write('gc-done\n');
  });
}

/**
 * SIMDWS_BENCH_DEFLATE, set by the orchestrator for compressed workloads: unset or empty for none, "on"
 * for the library's permessage-deflate (RFC 7692) as its users turn it on, or one of `extra`, the
 * server's own presets. Anything else stops the server, so a typo cannot bench the wrong thing.
 */
function deflateSetting(extra = []) {
  const value = process.env.SIMDWS_BENCH_DEFLATE ?? '';
  if (value === '') return null;
  if (value === 'on' || extra.includes(value)) return value;
  throw new Error(`SIMDWS_BENCH_DEFLATE=${value}: this server knows ${['on', ...extra].join(', ')}`);
}

/**
 * SIMDWS_BENCH_ORIGINS, set by the upgrade-flood workload (bench/load/upgrade-flood.ts): unset or empty
 * for no Origin check, else a comma-separated allow-list of origins. With a list, a server refuses an
 * upgrade whose Origin is missing or not listed with 403 (RFC 6455 section 10.2), as simdws's
 * `allowedOrigins` does, and a malformed Sec-WebSocket-Key with 400 (section 4.2.1 item 5).
 */
function allowedOriginsSetting() {
  const value = process.env.SIMDWS_BENCH_ORIGINS ?? '';
  return value === '' ? null : value.split(',');
}

module.exports = { portFromArgs, announceReady, deflateSetting, allowedOriginsSetting };
