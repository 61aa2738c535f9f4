/**
 * `npm run bench:flood`: the upgrade-rejection flood of issue 5. For simdws (native), ws and
 * uWebSockets.js, each with an Origin allow-list (SIMDWS_BENCH_ORIGINS, servers/control.js), pinned
 * to core 0: the C generator keeps live connections busy (open-loop round trips, every echo checked)
 * from core 1 while a flood client, also on core 1, floods the server's HTTP path with upgrade
 * requests it must refuse (flood-requests.ts: a bad key, 400; a disallowed Origin, 403). Each flood
 * runs from autocannon (flood-runner.ts), the client issue 5 names, and from the C flood
 * (loadgen-flood.ts), which costs so little per rejection that its rate is the server's ceiling and
 * not the client's; and the same live load runs once without a flood. Servers and conditions are
 * interleaved run by run, so a noisy minute on the shared machine hits every one alike. Prints the
 * tables, rewrites the "upgrade-flood" section of bench/RESULTS.md and writes
 * bench/charts/upgrade-flood.svg.
 *
 * Environment: SIMDWS_FLOOD_RUNS (3), SIMDWS_FLOOD_WARMUP_S (2), SIMDWS_FLOOD_DURATION_S (4),
 * SIMDWS_FLOOD_CONNECTIONS (64, each flood client's), SIMDWS_FLOOD_SERVERS (comma-separated ids;
 * default all). A run limited to some servers only prints its tables. The full run takes about 6 minutes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { machineInfo, machineLine } from '../lib/machine';
import { writeSection } from '../lib/results-file';
import { buildLoadgen } from './build-loadgen';
import { ALLOWED_ORIGIN, describeRequest, FLOOD_VARIANTS, FloodVariant, ORIGINS_ENV } from './flood-requests';
import {
  CHART_FILE, chartBars, ConditionResult, FLOOD_CLIENTS, FloodClient, FloodFigures, floodFaulty, floodKey, FloodRunInfo, LiveFigures,
  quietTable, renderSection, RunFigures, SECTION_NAME, ServerResult, variantTable,
} from './flood-report';
import type { FloodResult } from './flood-result';
import { endAllFloods, FLOOD_LEAD_MS, FLOOD_NICENESS, FLOOD_TAIL_SECONDS, runFlood } from './flood-runner';
import { LOADGEN_FLOOD_MARGIN_SECONDS, measuredWindow, runLoadgenFlood } from './loadgen-flood';
import { endAllChildren, freePort, GENERATOR_CORE, generatorArgs, runLoadgen, SERVER_CORE, startServer, tasksetWorks } from './processes';
import { SERVERS, ServerDefinition } from './servers';
import { renderChart } from './svg-chart';
import type { LoadgenResult } from './workloads';
import { runMain } from '../lib/run-main';
import { pickFromEnv, positiveFromEnv, sleep } from '../lib/env-settings';

const BENCH_DIR = path.join(__dirname, '..');
const RESULTS_FILE = path.join(BENCH_DIR, 'RESULTS.md');
const CHARTS_DIR = path.join(BENCH_DIR, 'charts');
const SERVER_IDS = ['simdws-native', 'ws', 'uws'];
const BASELINE_SERVER = 'ws';
/**
 * The live load: 50 connections, 32-byte echoes on a fixed schedule (open loop), light enough that the
 * generator leaves most of core 1 to the flood, busy enough that a stalled server shows in p99.
 */
const LIVE_ARGS = ['--mode', 'latency', '--conns', '50', '--rate', '5000', '--size', '32'];

interface Settings {
  readonly full: boolean;
  readonly runs: number;
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
  readonly floodConnections: number;
  readonly servers: readonly ServerDefinition[];
}

function settingsFromEnv(): Settings {
  const candidates = SERVER_IDS.map((id) => SERVERS.find((server) => server.id === id) as ServerDefinition);
  const servers = pickFromEnv('SIMDWS_FLOOD_SERVERS', candidates, (server) => server.id);
  return {
    full: servers === candidates,
    runs: Math.round(positiveFromEnv('SIMDWS_FLOOD_RUNS', 3)),
    warmupSeconds: positiveFromEnv('SIMDWS_FLOOD_WARMUP_S', 2),
    durationSeconds: positiveFromEnv('SIMDWS_FLOOD_DURATION_S', 4),
    floodConnections: Math.round(positiveFromEnv('SIMDWS_FLOOD_CONNECTIONS', 64)),
    servers,
  };
}

function liveFigures(result: LoadgenResult): LiveFigures {
  return {
    p50Us: result.p50_us ?? NaN,
    p99Us: result.p99_us ?? NaN,
    p999Us: result.p999_us ?? NaN,
    samples: result.samples ?? 0,
    serverCpu: result.server_cpu,
    genCpu: result.gen_cpu,
    serverCoreBusy: result.server_core_busy,
    genCoreBusy: result.gen_core_busy,
  };
}

function floodFigures(result: FloodResult): FloodFigures {
  const { responsesPerSecond, unexpected, accepted, errorCodes, newConnectionsPerSecond, clientCpu } = result;
  return { responsesPerSecond, unexpected, accepted, errorCodes, newConnectionsPerSecond, clientCpu };
}

/** What each server said of itself on start, and the exact request bytes of each variant. */
interface Observed {
  readonly descriptions: Map<string, string>;
  readonly requests: Map<FloodVariant['id'], string>;
}

/** autocannon's flood must cover the generator's measured window, which opens after its warmup and closes before it exits. */
function checkCoverage(flood: FloodResult, generatorStartMs: number, generatorExitMs: number, settings: Settings): void {
  if (flood.startMs > generatorStartMs + settings.warmupSeconds * 1000) {
    throw new Error(`the flood started ${flood.startMs - generatorStartMs} ms after the generator, after its warmup`);
  }
  if (flood.finishMs < generatorExitMs) {
    throw new Error(`the flood ended ${generatorExitMs - flood.finishMs} ms before the generator did: raise FLOOD_TAIL_SECONDS`);
  }
}

/**
 * autocannon, started FLOOD_LEAD_MS after the live generator (whose connections are then the server's
 * own) and running past its window; checked to have covered it.
 */
async function autocannonFlood(port: number, variant: FloodVariant, settings: Settings, live: Promise<LoadgenResult>, generatorStartMs: number): Promise<[LoadgenResult, FloodResult]> {
  await sleep(FLOOD_LEAD_MS);
  const flood = runFlood({
    url: `http://127.0.0.1:${port}/`,
    connections: settings.floodConnections,
    durationSeconds: settings.warmupSeconds + settings.durationSeconds + FLOOD_TAIL_SECONDS,
    headers: variant.headers,
    expectedStatus: variant.expectedStatus,
  });
  flood.catch(() => undefined);
  const liveResult = await live.catch((error: unknown) => {
    endAllFloods();
    throw error;
  });
  const generatorExitMs = Date.now();
  const floodResult = await flood;
  checkCoverage(floodResult, generatorStartMs, generatorExitMs, settings);
  return [liveResult, floodResult];
}

/**
 * The C flood, started with autocannon's lead, its measured window set to open and close
 * LOADGEN_FLOOD_MARGIN_SECONDS around the live generator's, and checked to have done so. When the live
 * generator fails, the server is stopped, and the C flood then fails on its next connect and exits.
 */
async function loadgenFlood(binary: string, port: number, variant: FloodVariant, settings: Settings, live: Promise<LoadgenResult>): Promise<[LoadgenResult, FloodResult]> {
  await sleep(FLOOD_LEAD_MS);
  const flood = runLoadgenFlood({
    binary,
    port,
    variant,
    connections: settings.floodConnections,
    warmupSeconds: Math.max(0, settings.warmupSeconds - FLOOD_LEAD_MS / 1000 - LOADGEN_FLOOD_MARGIN_SECONDS),
    durationSeconds: settings.durationSeconds + 2 * LOADGEN_FLOOD_MARGIN_SECONDS,
    niceness: FLOOD_NICENESS,
  });
  flood.catch(() => undefined);
  const liveResult = await live;
  const floodResult = await flood;
  const window = measuredWindow(liveResult);
  if (floodResult.startMs > window.startMs) {
    throw new Error(`the C flood's window opened ${(floodResult.startMs - window.startMs).toFixed(0)} ms after the live generator's`);
  }
  if (floodResult.finishMs < window.endMs) {
    throw new Error(`the C flood's window closed ${(window.endMs - floodResult.finishMs).toFixed(0)} ms before the live generator's`);
  }
  return [liveResult, floodResult];
}

/** Records a variant's request the first time; the C flood must send what autocannon sent. */
function recordRequest(observed: Observed, flood: Flood, request: string, port: number): void {
  const described = describeRequest(request, port);
  const seen = observed.requests.get(flood.variant.id);
  if (seen === undefined) observed.requests.set(flood.variant.id, described);
  else if (seen !== described) throw new Error(`${flood.client.label} sent other bytes than the first flood of ${flood.variant.id}:\n${described}\n---\n${seen}`);
}

interface Flood {
  readonly client: FloodClient;
  readonly variant: FloodVariant;
}

async function measureOnce(binary: string, definition: ServerDefinition, flood: Flood | null, settings: Settings, observed: Observed): Promise<RunFigures> {
  const port = await freePort();
  const server = await startServer({ ...definition, env: { ...definition.env, [ORIGINS_ENV]: ALLOWED_ORIGIN } }, port);
  if (!observed.descriptions.has(definition.label)) {
    observed.descriptions.set(definition.label, server.description.split('\n').map((line) => line.trim()).join('; '));
  }
  try {
    const generatorStartMs = Date.now();
    const live = runLoadgen(binary, [
      ...LIVE_ARGS,
      '--origin', ALLOWED_ORIGIN,
      ...generatorArgs(port, server.pid, settings),
    ], { timeoutMs: (settings.warmupSeconds + settings.durationSeconds) * 1000 + 60_000 });
    if (flood === null) return { live: liveFigures(await live), flood: null };
    // A failure of the generator must not wait for the flood, nor leave it unobserved.
    live.catch(() => undefined);
    const [liveResult, floodResult] = flood.client.id === 'autocannon'
      ? await autocannonFlood(port, flood.variant, settings, live, generatorStartMs)
      : await loadgenFlood(binary, port, flood.variant, settings, live);
    recordRequest(observed, flood, floodResult.request, port);
    return { live: liveFigures(liveResult), flood: floodFigures(floodResult) };
  } finally {
    await server.stop();
  }
}

interface Condition {
  readonly key: string;
  readonly flood: Flood | null;
}

const CONDITIONS: readonly Condition[] = [
  { key: 'none', flood: null },
  ...FLOOD_CLIENTS.flatMap((client) => FLOOD_VARIANTS.map((variant) => ({ key: floodKey(client.id, variant.id), flood: { client, variant } }))),
];

function describeFigures(figures: RunFigures): string {
  const live = `live p99 ${figures.live.p99Us.toFixed(0)} µs`;
  if (figures.flood === null) return live;
  const faults = Object.entries(figures.flood.unexpected).map(([status, count]) => `${count} × ${status}`);
  return `${figures.flood.responsesPerSecond.toFixed(0)} rejections/s${faults.length === 0 ? '' : ` (WRONG: ${faults.join(', ')})`}; ${live}`;
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const settings = settingsFromEnv();
  const binary = buildLoadgen();
  const loadAverage = os.loadavg()[0].toFixed(2);
  const observed: Observed = { descriptions: new Map(), requests: new Map() };
  const outcomes = new Map<string, Map<string, RunFigures[]>>();
  const failures = new Map<string, Map<string, string>>();
  for (const server of settings.servers) {
    outcomes.set(server.id, new Map(CONDITIONS.map((condition) => [condition.key, []])));
    failures.set(server.id, new Map());
  }
  for (let run = 0; run < settings.runs; run++) {
    for (const server of settings.servers) {
      for (const condition of CONDITIONS) {
        const failed = failures.get(server.id) as Map<string, string>;
        if (failed.has(condition.key)) continue;
        const what = condition.flood === null ? 'no flood' : `${condition.flood.variant.label} from ${condition.flood.client.label}`;
        process.stderr.write(`run ${run + 1}/${settings.runs}: ${server.label}, ${what}… `);
        try {
          const figures = await measureOnce(binary, server, condition.flood, settings, observed);
          outcomes.get(server.id)?.get(condition.key)?.push(figures);
          process.stderr.write(`${describeFigures(figures)}\n`);
        } catch (error) {
          const message = (error as Error).message;
          failed.set(condition.key, message.split('\n').join(' ').slice(0, 400));
          process.stderr.write(`FAILED\n${message}\n`);
        }
      }
    }
  }
  const results: ServerResult[] = settings.servers.map((server) => {
    const conditionOf = (key: string): ConditionResult => ({
      runs: outcomes.get(server.id)?.get(key) ?? [],
      failure: failures.get(server.id)?.get(key) ?? null,
    });
    return {
      id: server.id,
      label: server.label,
      quiet: conditionOf('none'),
      floods: new Map(CONDITIONS.flatMap((condition) => (condition.flood === null ? [] : [[condition.key, conditionOf(condition.key)] as const]))),
    };
  });
  for (const variant of FLOOD_VARIANTS) console.log(`\n### Flood: ${variant.label}\n\n${variantTable(variant, FLOOD_CLIENTS, results, BASELINE_SERVER)}\n`);
  console.log(`\n### The same live load without a flood\n\n${quietTable(results)}\n`);

  const machine = machineInfo();
  const info: FloodRunInfo = {
    machine: machineLine(machine),
    node: machine.node,
    date: machine.date,
    minutes: (Date.now() - startedAt) / 60_000,
    loadAverage,
    pinning: tasksetWorks()
      ? `server pinned to CPU ${SERVER_CORE}; live generator, and autocannon or the C flood (nice ${FLOOD_NICENESS}), to CPU ${GENERATOR_CORE} (taskset)`
      : 'NOT pinned: taskset unavailable',
    runs: settings.runs,
    warmupSeconds: settings.warmupSeconds,
    durationSeconds: settings.durationSeconds,
    floodConnections: settings.floodConnections,
    liveArgs: LIVE_ARGS,
    servers: [...observed.descriptions].map(([label, description]) => `${label}: ${description}`),
    requests: observed.requests,
  };
  const section = renderSection(info, FLOOD_VARIANTS, FLOOD_CLIENTS, results, BASELINE_SERVER);
  if (settings.full) {
    writeSection(RESULTS_FILE, SECTION_NAME, section);
    mkdirSync(CHARTS_DIR, { recursive: true });
    writeFileSync(
      path.join(CHARTS_DIR, CHART_FILE),
      renderChart({
        title: 'Upgrade rejections per second under a flood (400: bad key, 403: bad Origin)',
        unit: 'rejections/s; ac: autocannon, C: C flood',
        higherIsBetter: true,
        bars: chartBars(FLOOD_VARIANTS, FLOOD_CLIENTS, results),
      }),
    );
    console.log(`wrote the ${SECTION_NAME} section of ${RESULTS_FILE} and ${path.join(CHARTS_DIR, CHART_FILE)}`);
  } else {
    console.log(`${section}\n\npartial run (SIMDWS_FLOOD_SERVERS set): ${RESULTS_FILE} and the chart left as they were`);
  }
  const faulty = results.filter((server) => server.quiet.failure !== null || [...server.floods.values()].some(floodFaulty));
  if (faulty.length > 0) {
    console.error(`wrong statuses or failed runs for: ${faulty.map((server) => server.label).join(', ')}; see "Problems"`);
    process.exitCode = 1;
  }
}

function endEverything(): void {
  endAllFloods();
  endAllChildren();
}

runMain(main, endEverything);
