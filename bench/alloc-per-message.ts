/**
 * `npm run bench:alloc`: bytes allocated per message on the SERVER, in the JS heap and in external
 * memory (Buffers), for simdws (each kernel tier), ws with bufferutil and the Node floor, on echo 32 B
 * binary, echo 1 KiB text and broadcast 64 B (per delivery and per published message), plus a sanity
 * check that the method reads a known extra allocation (issue 5). The method is in bench/alloc/window.ts
 * and bench/alloc/measurement.ts, and written out in the section it rewrites in bench/RESULTS.md.
 *
 * Environment: SIMDWS_ALLOC_WINDOWS (3), SIMDWS_ALLOC_WARMUP_S (3), SIMDWS_ALLOC_SEMI_SPACE_MIB (64),
 * SIMDWS_ALLOC_SERVERS and SIMDWS_ALLOC_WORKLOADS (comma-separated ids; default all; a run limited by
 * either only prints), SIMDWS_ALLOC_PROFILE=1 (also print the allocation sites V8's sampling heap
 * profiler finds, per message). Run it under `flock /tmp/bench.lock`: it pins the server and the
 * generator like the load benchmark. The full run takes about five minutes.
 */
import path from 'node:path';
import { selectKernel } from '../src/kernels/select';
import { machineInfo, machineLine } from './lib/machine';
import { writeSection } from './lib/results-file';
import { buildLoadgen } from './load/build-loadgen';
import { endAllChildren, pinningLine } from './load/processes';
import { SERVERS } from './load/servers';
import type { ServerDefinition } from './load/servers';
import { AllocRow, AllocSettings, measureRow, RowRequest } from './alloc/measurement';
import { endAllGenerators } from './alloc/paused-generator';
import { renderSection, SanityCheck, SECTION_NAME, workloadTable } from './alloc/results-writer';
import { ALLOC_WORKLOADS, AllocWorkload } from './alloc/workloads';
import { runMain } from './lib/run-main';
import { pickFromEnv, positiveFromEnv, unavailableServer } from './lib/env-settings';

const RESULTS_FILE = path.join(__dirname, 'RESULTS.md');
const MEASURED_SERVERS = ['node-floor', 'ws', 'simdws-native', 'simdws-wasm', 'simdws-ts'];
const EXTRA_BYTES = 100;
const SANITY_WORKLOAD = 'echo-32b';
/** Windows tried per window wanted before a row is given up (a collection costs a window). */
const ATTEMPTS_PER_WINDOW = 4;

/** The test-only server: simdws's echo with one Buffer.alloc(EXTRA_BYTES) more per message, on the default tier. */
function extraAllocServer(plain: ServerDefinition): ServerDefinition {
  return {
    ...plain,
    id: `${plain.id}-extra-alloc`,
    label: `${plain.label} + Buffer.alloc(${EXTRA_BYTES}) per message`,
    args: ['--expose-gc', path.join(__dirname, 'alloc', 'extra-alloc-server.js')],
    env: { ...plain.env, SIMDWS_ALLOC_EXTRA_BYTES: String(EXTRA_BYTES) },
  };
}

async function measureLogged(binary: string, request: RowRequest, settings: AllocSettings): Promise<AllocRow> {
  process.stderr.write(`${request.workload.load.id}: ${request.definition.label}… `);
  const row = await measureRow(binary, request, settings);
  const cost = `the readings' own cost ${Math.round(row.probeCost.heapBytes)} B heap, ${Math.round(row.probeCost.externalBytes)} B external`;
  process.stderr.write(row.error === null ? `${row.samples.length} windows; ${cost}\n` : `FAILED: ${row.error}\n`);
  for (const reason of row.discarded) process.stderr.write(`  window thrown away: ${reason}\n`);
  return row;
}

function printSites(row: AllocRow): void {
  if (row.sites === null) return;
  const unit = row.workload.mode === 'broadcast' ? 'published message' : 'message';
  const count = row.sites.messages;
  console.log(`\nallocation sites, ${row.label}, ${row.workload.load.id} (sampled; ${count} messages; ${(row.sites.totalBytes / count).toFixed(1)} B per ${unit} in all):`);
  for (const { site, bytes } of row.sites.sites) console.log(`  ${(bytes / count).toFixed(1).padStart(9)} B/${unit}  ${site}`);
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const windows = Math.round(positiveFromEnv('SIMDWS_ALLOC_WINDOWS', 3));
  const settings: AllocSettings = {
    windows,
    maxAttempts: windows * ATTEMPTS_PER_WINDOW,
    warmupMs: positiveFromEnv('SIMDWS_ALLOC_WARMUP_S', 3) * 1000,
    semiSpaceMiB: Math.round(positiveFromEnv('SIMDWS_ALLOC_SEMI_SPACE_MIB', 64)),
    profile: process.env.SIMDWS_ALLOC_PROFILE === '1',
  };
  const candidates = pickFromEnv('SIMDWS_ALLOC_SERVERS', SERVERS.filter((server) => MEASURED_SERVERS.includes(server.id)), (server) => server.id);
  const workloads = pickFromEnv('SIMDWS_ALLOC_WORKLOADS', ALLOC_WORKLOADS, (workload: AllocWorkload) => workload.load.id);
  const full = candidates.length === MEASURED_SERVERS.length && workloads.length === ALLOC_WORKLOADS.length;
  const binary = buildLoadgen();
  const serverLines: string[] = [];
  const servers = candidates.filter((server) => {
    const reason = unavailableServer(server);
    if (reason !== null) serverLines.push(`${server.label}: not run: ${reason}`);
    return reason === null;
  });

  const byWorkload: AllocRow[][] = [];
  for (const workload of workloads) {
    const rows: AllocRow[] = [];
    for (const definition of servers) rows.push(await measureLogged(binary, { definition, workload, bufferAllocBytes: null }, settings));
    byWorkload.push(rows);
    console.log(`\n### ${workload.title}\n\n${workloadTable(rows)}\n`);
    rows.forEach(printSites);
  }

  // The sanity check beside the simdws row of the default tier, when that row ran.
  const defaultTier = `simdws-${selectKernel({}).info.name}`;
  const plainRow = byWorkload.flat().find((row) => row.serverId === defaultTier && row.workload.load.id === SANITY_WORKLOAD);
  let sanity: SanityCheck | null = null;
  if (plainRow !== undefined) {
    const definition = extraAllocServer(servers.find((server) => server.id === defaultTier) as ServerDefinition);
    const extra = await measureLogged(binary, { definition, workload: plainRow.workload, bufferAllocBytes: EXTRA_BYTES }, settings);
    sanity = { extraBytes: EXTRA_BYTES, plain: plainRow, extra };
  }

  for (const row of byWorkload.flat()) {
    if (!serverLines.some((line) => line.startsWith(`${row.label}:`)) && row.description !== '') {
      serverLines.push(`${row.label}: ${row.description.split('\n').map((line) => line.trim()).join('; ')}`);
    }
  }
  const machine = machineInfo();
  const section = renderSection(
    {
      machine: machineLine(machine),
      node: machine.node,
      date: machine.date,
      pinning: pinningLine(),
      semiSpaceMiB: settings.semiSpaceMiB,
      warmupSeconds: settings.warmupMs / 1000,
      windows: settings.windows,
      servers: serverLines,
      minutes: (Date.now() - startedAt) / 60_000,
    },
    byWorkload,
    sanity,
  );
  if (sanity !== null) console.log(`\n${section.slice(section.indexOf('### Sanity check'))}\n`);
  if (full) {
    writeSection(RESULTS_FILE, SECTION_NAME, section);
    console.log(`wrote the ${SECTION_NAME} section of ${RESULTS_FILE}`);
  } else {
    console.log(`\n${section}\n\npartial run (SIMDWS_ALLOC_SERVERS or SIMDWS_ALLOC_WORKLOADS set): ${RESULTS_FILE} left as it was`);
  }
  const failures = [...byWorkload.flat(), ...(sanity === null ? [] : [sanity.extra])].filter((row) => row.error !== null);
  if (failures.length > 0) {
    console.error(`${failures.length} server/workload combinations failed; see the tables`);
    process.exitCode = 1;
  }
}

function endEverything(): void {
  endAllGenerators();
  endAllChildren();
}

runMain(main, endEverything);
