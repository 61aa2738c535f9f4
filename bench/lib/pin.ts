/**
 * Pins the benchmark to one core: the machine is shared, and a process that migrates between cores
 * loses its caches mid-measurement. The entry re-executes itself under `taskset -c 0` once; the
 * child reports what it actually got from /proc, so the output never claims a pin it does not have.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const PINNED_ENV = 'SIMDWS_BENCH_PINNED';
const CORE = '0';

/**
 * In the parent: runs this same script under taskset and returns its exit status, or null when
 * taskset is missing or refused (then the caller goes on unpinned). In the child: returns null.
 */
export function reexecPinned(): number | null {
  if (process.env[PINNED_ENV] !== undefined) return null;
  const probe = spawnSync('taskset', ['-c', CORE, 'true']);
  if (probe.error !== undefined || probe.status !== 0) {
    process.env[PINNED_ENV] = 'unavailable';
    return null;
  }
  const child = spawnSync(
    'taskset',
    ['-c', CORE, process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: 'inherit', env: { ...process.env, [PINNED_ENV]: CORE } },
  );
  return child.status ?? 1;
}

function allowedCpus(): string {
  const status = readFileSync('/proc/self/status', 'utf8');
  const line = status.split('\n').find((entry) => entry.startsWith('Cpus_allowed_list:'));
  return line === undefined ? 'unknown' : line.slice('Cpus_allowed_list:'.length).trim();
}

/** One line for the report: where this process may run, as the kernel sees it. */
export function describePinning(): string {
  const cpus = allowedCpus();
  const requested = process.env[PINNED_ENV];
  if (requested === CORE && cpus === CORE) return `pinned to CPU ${CORE} (taskset)`;
  if (requested === 'unavailable') return `not pinned: taskset unavailable (CPUs ${cpus})`;
  return `not pinned (CPUs ${cpus})`;
}
