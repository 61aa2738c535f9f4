'use strict';
/**
 * Preloaded into a benchmark server (`node --require`) by bench/alloc-per-message.ts, so the server's
 * own code stays exactly what the load benchmark runs. It listens on the Unix socket named by
 * SIMDWS_HEAP_PROBE_SOCKET (not on the server's TCP port, so the byte counters of the WebSocket
 * connections see none of its traffic) and answers one JSON line per command line:
 *
 *   baseline   full collections (the server runs with --expose-gc), then a reading; starts V8's
 *              GCProfiler so that the next `read` can say whether any collection ran in between.
 *   read       a reading, and every collection since the last `baseline`.
 *   buffer-alloc <bytes> <count>
 *              what one `Buffer.alloc(bytes)` costs here, measured the same way: the expected extra
 *              of bench/alloc/extra-alloc-server.ts.
 *   profile-start / profile-stop
 *              V8's sampling heap profiler (through the inspector): the allocation sites by bytes.
 *
 * V8 keeps no cumulative "bytes allocated" counter; between two readings with no collection between
 * them, the growth of the used heap is the bytes allocated, and the growth of the external memory is
 * the ArrayBuffer backing stores allocated (they are freed only by a collection).
 */
const inspector = require('node:inspector');
const net = require('node:net');
const readline = require('node:readline');
const v8 = require('node:v8');
const { isMainThread } = require('node:worker_threads');

/** Samples every this many bytes on average: fine enough for allocations of tens of bytes per message. */
const SAMPLING_INTERVAL_BYTES = 512;
const TOP_SITES = 15;

let gcProfiler = null;
let session = null;
/** Keeps each Buffer of `buffer-alloc` reachable from outside the loop, so no optimiser can drop it. */
let lastBuffer = null;

function reading() {
  const heap = v8.getHeapStatistics();
  const spaces = {};
  for (const space of v8.getHeapSpaceStatistics()) {
    spaces[space.space_name] = { used: space.space_used_size, available: space.space_available_size };
  }
  const memory = process.memoryUsage();
  return {
    usedHeap: heap.used_heap_size,
    externalMemory: heap.external_memory,
    arrayBuffers: memory.arrayBuffers,
    spaces,
  };
}

function collectionsSinceBaseline() {
  if (gcProfiler === null) return null;
  const { statistics } = gcProfiler.stop();
  gcProfiler = null;
  return statistics.map((entry) => entry.gcType);
}

/**
 * A full collection leaves V8's ArrayBuffer sweeper running on another thread; when it finishes, the
 * external memory drops by the dead Buffers, in the middle of the next window. A second collection
 * first waits for that sweep, and leaves nothing dead for its own.
 */
function collectCompletely() {
  global.gc();
  global.gc();
}

function baseline() {
  collectionsSinceBaseline();
  collectCompletely();
  gcProfiler = new v8.GCProfiler();
  gcProfiler.start();
  return reading();
}

function read() {
  // The reading first: stopping the profiler allocates its report.
  const now = reading();
  return { ...now, collections: collectionsSinceBaseline() };
}

function bufferAlloc(bytes, count) {
  collectCompletely();
  const profiler = new v8.GCProfiler();
  profiler.start();
  const before = reading();
  for (let i = 0; i < count; i++) lastBuffer = Buffer.alloc(bytes);
  const after = reading();
  const collections = profiler.stop().statistics.map((entry) => entry.gcType);
  return {
    heapPerCall: (after.usedHeap - before.usedHeap) / count,
    externalPerCall: (after.externalMemory - before.externalMemory) / count,
    collections,
    length: lastBuffer.length,
  };
}

function post(method, params) {
  return new Promise((resolve, reject) => {
    session.post(method, params, (error, result) => (error === null ? resolve(result) : reject(error)));
  });
}

async function profileStart() {
  session = new inspector.Session();
  session.connect();
  await post('HeapProfiler.startSampling', {
    samplingInterval: SAMPLING_INTERVAL_BYTES,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return { sampling: true };
}

function frameName(frame) {
  return `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^file:\/\//, '')}:${frame.lineNumber + 1}`;
}

/**
 * Self bytes per allocating function and its caller, largest first. The profiler names the function
 * (and the line where it is defined), not the allocating line; the caller tells builtins apart.
 */
function topSites(head) {
  const sites = new Map();
  let total = 0;
  const visit = (node, caller) => {
    const name = frameName(node.callFrame);
    const key = `${name} ← ${caller}`;
    sites.set(key, (sites.get(key) ?? 0) + node.selfSize);
    total += node.selfSize;
    for (const child of node.children) visit(child, name);
  };
  visit(head, '(root)');
  const top = [...sites].sort((a, b) => b[1] - a[1]).slice(0, TOP_SITES);
  return { totalBytes: total, sites: top.map(([site, bytes]) => ({ site, bytes })) };
}

async function profileStop() {
  const { profile } = await post('HeapProfiler.stopSampling', {});
  session.disconnect();
  session = null;
  return topSites(profile.head);
}

async function answer(line) {
  const [command, ...args] = line.trim().split(' ');
  switch (command) {
    case 'baseline':
      return baseline();
    case 'read':
      return read();
    case 'buffer-alloc':
      return bufferAlloc(Number(args[0]), Number(args[1]));
    case 'profile-start':
      return profileStart();
    case 'profile-stop':
      return profileStop();
    default:
      throw new Error(`unknown command ${JSON.stringify(command)}`);
  }
}

function listen(socketPath) {
  if (socketPath === undefined || socketPath === '') throw new Error('heap-probe: SIMDWS_HEAP_PROBE_SOCKET is not set');
  if (typeof global.gc !== 'function') throw new Error('heap-probe: the server must run with --expose-gc');
  const probe = net.createServer((connection) => {
    readline.createInterface({ input: connection }).on('line', (line) => {
      answer(line).then(
        (result) => connection.write(`${JSON.stringify({ ok: true, result })}\n`),
        (error) => connection.write(`${JSON.stringify({ ok: false, error: String(error && error.stack) })}\n`),
      );
    });
    connection.on('error', () => connection.destroy());
  });
  probe.listen(socketPath);
  // The probe must not keep a server alive that its orchestrator asked to stop.
  probe.unref();
}

// `--require` modules also run in each worker thread of the server's process (Node's module-hooks thread, when a
// server runs under a loader); the probe belongs to the main thread, where the server is.
if (isMainThread) listen(process.env.SIMDWS_HEAP_PROBE_SOCKET);
