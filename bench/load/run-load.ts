/**
 * `npm run bench:load`: the load benchmark of issue 5, with issue 4's compressed echo (the servers that
 * can compress run it once per compression setting; servers.ts deflateRows). Builds the C generator, then for every
 * workload runs each server SIMDWS_LOAD_RUNS times (interleaved, so a noisy minute on the shared
 * machine hits every server alike), each run against a fresh server process. Prints the tables,
 * rewrites the "load" section of bench/RESULTS.md and writes bench/charts/load-<workload>.svg.
 *
 * Environment: SIMDWS_LOAD_RUNS (3), SIMDWS_LOAD_WARMUP_S (1), SIMDWS_LOAD_DURATION_S (5),
 * SIMDWS_LOAD_SERVERS and SIMDWS_LOAD_WORKLOADS (comma-separated ids; default all). The full run
 * takes about 15 minutes. A run limited by either of the last two only prints its tables: the section
 * and the charts are rewritten by full runs alone, so a partial run never drops the other rows.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { selectKernel } from '../../src/kernels/select';
import { machineInfo, machineLine } from '../lib/machine';
import { writeSection } from '../lib/results-file';
import { buildLoadgen } from './build-loadgen';
import { endAllChildren, freePort, generatorArgs, pinningLine, runLoadgen, startServer } from './processes';
import type { RunningServer } from './processes';
import { LoadRow, renderSection, SECTION_NAME, workloadTable, WorkloadResult } from './results-writer';
import { targetsSection } from './targets';
import { BASELINE_SERVER, DEFLATE_ENV, deflateRows, SERVERS, ServerDefinition } from './servers';
import { commonLimit, Limit, limitOf, median, summarize } from './stats';
import { renderChart } from './svg-chart';
import { DeflateAgreement, figureOf, LoadgenResult, memoryFigure, MemoryResult, Workload, WORKLOADS } from './workloads';
import { runMain } from '../lib/run-main';
import { pickFromEnv, positiveFromEnv, sleep, unavailableServer } from '../lib/env-settings';

const BENCH_DIR = path.join(__dirname, '..');
const RESULTS_FILE = path.join(BENCH_DIR, 'RESULTS.md');
const CHARTS_DIR = path.join(BENCH_DIR, 'charts');
/** Time for RSS to settle before the first reading, and for the idle connections unless the workload says. */
const SETTLE_MS = 500;

interface Settings {
  /** Every server and every workload: only then are RESULTS.md and the charts rewritten. */
  readonly full: boolean;
  readonly runs: number;
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
  readonly servers: readonly ServerDefinition[];
  readonly workloads: readonly Workload[];
}

interface Outcome {
  readonly figure: number;
  readonly result: LoadgenResult | null;
  readonly note: string;
}

function settingsFromEnv(): Settings {
  const limited = (name: string): boolean => (process.env[name] ?? '') !== '';
  return {
    full: !limited('SIMDWS_LOAD_SERVERS') && !limited('SIMDWS_LOAD_WORKLOADS'),
    runs: Math.round(positiveFromEnv('SIMDWS_LOAD_RUNS', 3)),
    warmupSeconds: positiveFromEnv('SIMDWS_LOAD_WARMUP_S', 1),
    durationSeconds: positiveFromEnv('SIMDWS_LOAD_DURATION_S', 5),
    servers: pickFromEnv('SIMDWS_LOAD_SERVERS', SERVERS, (server) => server.id),
    workloads: pickFromEnv('SIMDWS_LOAD_WORKLOADS', WORKLOADS, (workload) => workload.id),
  };
}

async function settledRss(server: RunningServer): Promise<number> {
  await server.collectGarbage();
  await sleep(SETTLE_MS);
  await server.collectGarbage();
  return server.rssBytes();
}

async function measureMemory(binary: string, workload: Workload, port: number, server: RunningServer, settings: Settings): Promise<Outcome> {
  // The server idles as long before the first reading as the connections do before the second, so
  // that V8 has given back the same kinds of memory in both (what its startup allocated, too).
  await sleep((workload.idleMilliseconds ?? SETTLE_MS) - SETTLE_MS);
  const before = await settledRss(server);
  let memory: MemoryResult | null = null;
  await runLoadgen(binary, [...workload.args, ...generatorArgs(port, server.pid, settings)], {
    timeoutMs: 180_000,
    onReady: async (event) => {
      await sleep(workload.idleMilliseconds ?? SETTLE_MS);
      memory = { conns: event.conns, rssBeforeBytes: before, rssAfterBytes: await settledRss(server), connectSeconds: event.connect_seconds };
    },
  });
  if (memory === null) throw new Error('the generator never reported its connections open');
  const done: MemoryResult = memory;
  return { figure: memoryFigure(done), result: null, note: `RSS ${(done.rssBeforeBytes / 2 ** 20).toFixed(0)} → ${(done.rssAfterBytes / 2 ** 20).toFixed(0)} MiB` };
}

/** What the server agreed to, in the response's own words (RFC 7692 section 7.1). */
function agreementText(agreed: DeflateAgreement): string {
  const parts = [`server_max_window_bits=${agreed.server_max_window_bits}`];
  if (agreed.server_no_context_takeover) parts.push('server_no_context_takeover');
  if (agreed.client_max_window_bits !== 15) parts.push(`client_max_window_bits=${agreed.client_max_window_bits}`);
  if (agreed.client_no_context_takeover) parts.push('client_no_context_takeover');
  return parts.join('; ');
}

function noteOf(result: LoadgenResult): string {
  if (result.p50_us !== undefined) return `p50 ${result.p50_us.toFixed(0)} µs, p99.9 ${(result.p999_us ?? NaN).toFixed(0)} µs`;
  if (result.deflate !== undefined) {
    return `${agreementText(result.deflate)}; ${Math.round((result.compressed_reply_share ?? 0) * 100)}% of replies compressed`;
  }
  return '';
}

async function measureOnce(binary: string, workload: Workload, definition: ServerDefinition, settings: Settings, descriptions: Map<string, string>): Promise<Outcome> {
  const port = await freePort();
  const server = await startServer(definition, port);
  // One line per server and compression setting, in the order they first ran.
  const setting = definition.env[DEFLATE_ENV] ?? '';
  const key = setting === '' ? definition.label : `${definition.label} (${DEFLATE_ENV}=${setting})`;
  if (!descriptions.has(key)) descriptions.set(key, server.description.split('\n').map((line) => line.trim()).join('; '));
  try {
    if (workload.args.includes('idle')) return await measureMemory(binary, workload, port, server, settings);
    const result = await runLoadgen(binary, [...workload.args, ...generatorArgs(port, server.pid, settings)], {
      timeoutMs: (settings.warmupSeconds + settings.durationSeconds) * 1000 + 120_000,
    });
    return { figure: figureOf(workload, result), result, note: noteOf(result) };
  } finally {
    await server.stop();
  }
}

function medianOf(outcomes: readonly Outcome[], field: keyof LoadgenResult): number | null {
  const values = outcomes.flatMap((outcome) => (outcome.result === null ? [] : [Number(outcome.result[field])]));
  return values.length === 0 ? null : median(values);
}

function rowOf(definition: ServerDefinition, workload: Workload, outcomes: readonly Outcome[], error: string | null): LoadRow {
  const base = { serverId: definition.id, label: definition.label };
  if (error !== null || outcomes.length === 0) {
    return {
      ...base, summary: null, error: error ?? 'no runs', serverCpu: null, serverCoreBusy: null, genCpu: null, genCoreBusy: null,
      limit: null, wireOut: null, wireIn: null, note: '',
    };
  }
  const limits: Limit[] = outcomes.flatMap((outcome) => (outcome.result === null ? [] : [limitOf(outcome.result.mode, outcome.result)]));
  const middle = median(outcomes.map((outcome) => outcome.figure));
  return {
    ...base,
    summary: summarize(outcomes.map((outcome) => outcome.figure)),
    error: null,
    serverCpu: medianOf(outcomes, 'server_cpu'),
    serverCoreBusy: medianOf(outcomes, 'server_core_busy'),
    genCpu: medianOf(outcomes, 'gen_cpu'),
    genCoreBusy: medianOf(outcomes, 'gen_core_busy'),
    limit: limits.length === 0 ? null : commonLimit(limits),
    wireOut: medianOf(outcomes, 'wire_out_per_msg'),
    wireIn: medianOf(outcomes, 'wire_in_per_msg'),
    // The note of the run whose figure is the median.
    note: outcomes.find((outcome) => outcome.figure === middle)?.note ?? outcomes[0].note,
  };
}

function serversFor(workload: Workload, servers: readonly ServerDefinition[]): readonly ServerDefinition[] {
  // Memory, handshakes and compression barely touch the kernel: one simdws row, the tier select.ts picks by default.
  const defaultTier = selectKernel({}).info.name;
  const rows = workload.kernelSensitive ? servers : servers.filter((server) => server.tier === null || server.tier === defaultTier);
  return workload.deflate ? rows.flatMap(deflateRows) : rows;
}

/** Every row that ran, each once, in the order of first appearance: the overview's columns. */
function rowsRun(results: readonly WorkloadResult[]): { id: string; label: string }[] {
  const seen = new Map<string, string>();
  for (const result of results) for (const row of result.rows) if (!seen.has(row.serverId)) seen.set(row.serverId, row.label);
  return [...seen].map(([id, label]) => ({ id, label }));
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const settings = settingsFromEnv();
  const binary = buildLoadgen();
  const loadAverage = os.loadavg()[0].toFixed(2);
  const skipped = new Map<string, string>();
  for (const server of settings.servers) {
    const reason = unavailableServer(server);
    if (reason !== null) skipped.set(server.id, reason);
  }
  const servers = settings.servers.filter((server) => !skipped.has(server.id));
  const descriptions = new Map<string, string>();
  const results: WorkloadResult[] = [];
  let failures = 0;
  for (const workload of settings.workloads) {
    const contenders = serversFor(workload, servers);
    const outcomes = new Map<string, Outcome[]>(contenders.map((server) => [server.id, []]));
    const errors = new Map<string, string>();
    for (let run = 0; run < settings.runs; run++) {
      for (const server of contenders) {
        if (errors.has(server.id)) continue;
        process.stderr.write(`${workload.id} run ${run + 1}/${settings.runs}: ${server.label}… `);
        try {
          const outcome = await measureOnce(binary, workload, server, settings, descriptions);
          outcomes.get(server.id)?.push(outcome);
          process.stderr.write(`${outcome.figure.toFixed(1)} ${workload.unit}\n`);
        } catch (error) {
          const message = (error as Error).message;
          errors.set(server.id, message.split('\n').join(' ').slice(0, 300));
          failures++;
          process.stderr.write(`FAILED\n${message}\n`);
        }
      }
    }
    const result: WorkloadResult = {
      workload,
      rows: contenders.map((server) => rowOf(server, workload, outcomes.get(server.id) ?? [], errors.get(server.id) ?? null)),
    };
    results.push(result);
    console.log(`\n### ${workload.title}\n\n${workloadTable(result, BASELINE_SERVER)}\n`);
    if (!settings.full) continue;
    mkdirSync(CHARTS_DIR, { recursive: true });
    writeFileSync(
      path.join(CHARTS_DIR, `load-${workload.id}.svg`),
      renderChart({
        title: workload.title,
        unit: workload.unit,
        higherIsBetter: workload.higherIsBetter,
        bars: result.rows.map((row) => ({ label: row.label, summary: row.summary })),
      }),
    );
  }
  const machine = machineInfo();
  const columns = rowsRun(results);
  const serverLines = [...descriptions].map(([key, description]) => `${key}: ${description}`);
  for (const [id, reason] of skipped) serverLines.push(`${id}: not run: ${reason}`);
  const section = renderSection(
    {
      machine: machineLine(machine),
      node: machine.node,
      date: machine.date,
      pinning: pinningLine(),
      runs: settings.runs,
      warmupSeconds: settings.warmupSeconds,
      durationSeconds: settings.durationSeconds,
      loadAverage,
      servers: serverLines,
      minutes: (Date.now() - startedAt) / 60_000,
    },
    results,
    columns,
    BASELINE_SERVER,
  );
  if (settings.full) {
    writeSection(RESULTS_FILE, SECTION_NAME, section);
    const targets = targetsSection(results);
    if (targets !== null) console.log(`\n${targets}\n`);
    console.log(`wrote the load section of ${RESULTS_FILE} and ${results.length} charts in ${CHARTS_DIR}`);
  } else {
    console.log(`${section}\n\npartial run (SIMDWS_LOAD_SERVERS or SIMDWS_LOAD_WORKLOADS set): ${RESULTS_FILE} and the charts left as they were`);
  }
  if (failures > 0) {
    console.error(`${failures} server/workload combinations failed; see the FAILED rows`);
    process.exitCode = 1;
  }
}

runMain(main, endAllChildren);
