/**
 * Measures one server on one workload: starts the server with the heap probe preloaded and a young
 * generation large enough for a window of messages to pass without a scavenge, runs the generator,
 * and then, window after window, stops the generator, waits until the server is idle, reads, lets the
 * traffic run, stops it again, waits, reads. A window in which V8 collected is thrown away and the
 * next one is shorter; every window is sized from the allocation rates of the one before.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, startServer } from '../load/processes';
import type { RunningServer } from '../load/processes';
import type { ServerDefinition } from '../load/servers';
import { PausedGenerator } from './paused-generator';
import { AllocationSites, BufferAllocCost, ProbeClient } from './probe-client';
import { readSocketBytes, SocketBytes } from './socket-bytes';
import { evaluateWindow, Growth, growthOf, nextRunMs, WindowBudget, WindowReadings, WindowSample } from './window';
import type { AllocWorkload } from './workloads';

const PROBE = path.join(__dirname, 'heap-probe.js');
/**
 * Windows with no traffic that measure the readings' own cost. The smallest is subtracted: the cost is
 * the same every time, and what comes on top in one of them (a late optimising compile) is not its.
 */
export const PROBE_COST_WINDOWS = 3;
const FIRST_RUN_MS = 100;
/** Half the young generation, so a window sized from the previous one's rate has room for noise. */
const YOUNG_GENERATION_SHARE = 0.5;
/**
 * Half of what V8 lets the young generation's ArrayBuffers reach: once their backing stores add up to
 * twice V8's default largest semi-space (2 x 16 MiB on 64-bit, whatever the flags say), the next
 * ArrayBuffer allocated from JavaScript starts a scavenge (Heap::AllocateExternalBackingStore).
 */
const EXTERNAL_BUDGET_BYTES = 16 * 2 ** 20;
const MIN_RUN_MS = 20;
const MAX_RUN_MS = 2000;
const MAX_GROWTH = 2;
/** The server is idle once its connections' counters held still over this many polls, every queue empty. */
const IDLE_POLL_MS = 25;
const IDLE_STABLE_POLLS = 2;
const IDLE_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 30_000;
const PROFILE_RUN_MS = 1000;

export interface AllocSettings {
  readonly windows: number;
  /** Windows tried before the row is given up. */
  readonly maxAttempts: number;
  readonly warmupMs: number;
  /** --min-semi-space-size and --max-semi-space-size of the server, in MiB. */
  readonly semiSpaceMiB: number;
  /** Also run V8's sampling heap profiler over one more window and report the allocation sites. */
  readonly profile: boolean;
}

export interface ProfiledSites extends AllocationSites {
  readonly messages: number;
  readonly deliveries: number;
}

export interface AllocRow {
  readonly serverId: string;
  readonly label: string;
  readonly workload: AllocWorkload;
  readonly description: string;
  readonly samples: readonly WindowSample[];
  readonly probeCost: Growth;
  /** Why the windows that did not count were thrown away. */
  readonly discarded: readonly string[];
  readonly error: string | null;
  readonly sites: ProfiledSites | null;
  /** Set when the row was asked to measure Buffer.alloc in its server: the sanity check's expectation. */
  readonly bufferAllocCost: BufferAllocCost | null;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The server's counters once its connections have held still: every request read, every reply written. */
async function idleCounters(port: number, generator: PausedGenerator): Promise<SocketBytes> {
  const deadline = Date.now() + IDLE_TIMEOUT_MS;
  let previous = readSocketBytes(port);
  let stablePolls = 0;
  for (;;) {
    await sleep(IDLE_POLL_MS);
    generator.assertRunning();
    const current = readSocketBytes(port);
    const still = current.received === previous.received && current.acked === previous.acked;
    stablePolls = still && current.receiveQueue === 0 && current.sendQueue === 0 ? stablePolls + 1 : 0;
    if (stablePolls >= IDLE_STABLE_POLLS) return current;
    if (Date.now() > deadline) throw new Error(`the server did not go idle in ${IDLE_TIMEOUT_MS} ms with the generator stopped`);
    previous = current;
  }
}

async function allConnected(port: number, workload: AllocWorkload, generator: PausedGenerator): Promise<void> {
  const deadline = Date.now() + CONNECT_TIMEOUT_MS;
  while (readSocketBytes(port).sockets < workload.connections) {
    generator.assertRunning();
    if (Date.now() > deadline) throw new Error(`the generator did not open ${workload.connections} connections`);
    await sleep(100);
  }
}

interface Session {
  readonly port: number;
  readonly probe: ProbeClient;
  readonly generator: PausedGenerator;
}

/** One window; the generator is stopped before and after. runMs 0: no traffic, the probe's own cost. */
async function runWindow(session: Session, runMs: number): Promise<WindowReadings> {
  const bytesBefore = await idleCounters(session.port, session.generator);
  const heapBefore = await session.probe.baseline();
  if (runMs > 0) {
    session.generator.resume();
    await sleep(runMs);
    session.generator.pause();
  }
  const bytesAfter = await idleCounters(session.port, session.generator);
  const heapAfter = await session.probe.read();
  return { heapBefore, heapAfter, bytesBefore, bytesAfter, runMs };
}

async function measureProbeCost(session: Session): Promise<Growth> {
  const costs: Growth[] = [];
  for (let i = 0; i < PROBE_COST_WINDOWS; i++) {
    const readings = await runWindow(session, 0);
    if (readings.heapAfter.collections !== null && readings.heapAfter.collections.length > 0) continue;
    costs.push(growthOf(readings.heapBefore, readings.heapAfter));
  }
  if (costs.length === 0) throw new Error('every window without traffic saw a collection');
  return {
    heapBytes: Math.min(...costs.map((cost) => cost.heapBytes)),
    externalBytes: Math.min(...costs.map((cost) => cost.externalBytes)),
    arrayBufferBytes: Math.min(...costs.map((cost) => cost.arrayBufferBytes)),
  };
}

interface WindowSeries {
  readonly samples: WindowSample[];
  readonly discarded: string[];
}

/**
 * The measured windows. The first one only sizes the next: it reads higher than the rest (by about 5%
 * on echo 32 B), the first traffic after the long idle of the probe-cost windows.
 */
async function measureWindows(session: Session, workload: AllocWorkload, probeCost: Growth, settings: AllocSettings): Promise<WindowSeries> {
  const series: WindowSeries = { samples: [], discarded: [] };
  let runMs = FIRST_RUN_MS;
  let budget: WindowBudget | null = null;
  for (let attempt = 0; attempt <= settings.maxAttempts && series.samples.length < settings.windows; attempt++) {
    const readings = await runWindow(session, runMs);
    budget ??= {
      heapBytes: YOUNG_GENERATION_SHARE * (readings.heapBefore.spaces.new_space?.available ?? 0),
      externalBytes: EXTERNAL_BUDGET_BYTES,
      minMs: MIN_RUN_MS,
      maxMs: MAX_RUN_MS,
      maxGrowth: MAX_GROWTH,
    };
    const verdict = evaluateWindow(workload, readings, probeCost);
    const sizing = attempt === 0;
    if (verdict.ok) {
      if (!sizing) series.samples.push(verdict.sample);
      runMs = nextRunMs(verdict.sample, budget);
    } else {
      if (!sizing) series.discarded.push(`${runMs} ms: ${verdict.reason}`);
      if (verdict.shorten) runMs = Math.max(MIN_RUN_MS, Math.floor(runMs / 2));
    }
  }
  return series;
}

async function profileSites(session: Session, workload: AllocWorkload): Promise<ProfiledSites> {
  const before = await idleCounters(session.port, session.generator);
  await session.probe.profileStart();
  session.generator.resume();
  await sleep(PROFILE_RUN_MS);
  session.generator.pause();
  const after = await idleCounters(session.port, session.generator);
  const sites = await session.probe.profileStop();
  return {
    ...sites,
    messages: (after.received - before.received) / workload.clientFrameBytes,
    deliveries: (after.acked - before.acked) / workload.serverFrameBytes,
  };
}

export interface RowRequest {
  readonly definition: ServerDefinition;
  readonly workload: AllocWorkload;
  /** Measure what one Buffer.alloc of this many bytes costs in the server (the sanity check's expectation). */
  readonly bufferAllocBytes: number | null;
}

/** How many Buffer.alloc calls the expectation averages over: enough to drown the readings' own cost. */
const BUFFER_ALLOC_CALLS = 50_000;

export async function measureRow(binary: string, request: RowRequest, settings: AllocSettings): Promise<AllocRow> {
  const { definition, workload } = request;
  const socketDir = mkdtempSync(path.join(os.tmpdir(), 'simdws-heap-probe-'));
  const socketPath = path.join(socketDir, 'probe.sock');
  const semiSpace = `${settings.semiSpaceMiB}`;
  const probed: ServerDefinition = {
    ...definition,
    args: ['--require', PROBE, `--min-semi-space-size=${semiSpace}`, `--max-semi-space-size=${semiSpace}`, ...definition.args],
    env: { ...definition.env, SIMDWS_HEAP_PROBE_SOCKET: socketPath },
  };
  const base = { serverId: definition.id, label: definition.label, workload };
  let server: RunningServer | null = null;
  let probe: ProbeClient | null = null;
  let generator: PausedGenerator | null = null;
  try {
    const port = await freePort();
    server = await startServer(probed, port);
    probe = await ProbeClient.connect(socketPath);
    generator = PausedGenerator.start(binary, workload.args, port);
    const session: Session = { port, probe, generator };
    await allConnected(port, workload, generator);
    await sleep(settings.warmupMs);
    generator.pause();
    const probeCost = await measureProbeCost(session);
    const { samples, discarded } = await measureWindows(session, workload, probeCost, settings);
    const sites = settings.profile ? await profileSites(session, workload) : null;
    await generator.end();
    const bufferAllocCost = request.bufferAllocBytes === null ? null : await probe.bufferAllocCost(request.bufferAllocBytes, BUFFER_ALLOC_CALLS);
    const error = samples.length < settings.windows ? `${samples.length} of ${settings.windows} windows counted after ${settings.maxAttempts} tries` : null;
    return { ...base, description: server.description, samples, probeCost, discarded, error, sites, bufferAllocCost };
  } catch (error) {
    return {
      ...base,
      description: server?.description ?? '',
      samples: [],
      probeCost: { heapBytes: NaN, externalBytes: NaN, arrayBufferBytes: NaN },
      discarded: [],
      error: (error as Error).message.split('\n').join(' ').slice(0, 300),
      sites: null,
      bufferAllocCost: null,
    };
  } finally {
    await generator?.end();
    probe?.close();
    await server?.stop();
    rmSync(socketDir, { recursive: true, force: true });
  }
}
