/**
 * The package tests load simdws the way users do: through package.json "exports" into dist/. They
 * rebuild dist/ (`npm run build:ts`) when it is missing or older than any file in src/. Test files
 * run in parallel processes, so one build at a time runs, under an exclusive lock file.
 */
import { execFile } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const REPO_ROOT = join(__dirname, '..', '..');
const SRC = join(REPO_ROOT, 'src');
/** build:ts writes the ESM wrapper last, so its age is the age of the whole build. */
const LAST_OUTPUT = join(REPO_ROOT, 'dist', 'wrapper.mjs');
/** Outside dist/, which may not exist yet; named after the checkout so two checkouts do not share it. */
const LOCK = join(tmpdir(), `simdws-build-ts-${Buffer.from(REPO_ROOT).toString('hex').slice(-32)}.lock`);
const BUILD_LIMIT_MS = 120_000;
const POLL_MS = 100;

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const time = entry.isDirectory() ? newestSource(path) : entry.name.endsWith('.ts') ? statSync(path).mtimeMs : 0;
    newest = Math.max(newest, time);
  }
  return newest;
}

function isFresh(): boolean {
  try {
    return statSync(LAST_OUTPUT).mtimeMs >= newestSource(SRC);
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Takes the lock, or clears it when the process that held it is gone; false while a live one holds it. */
function tryLock(): boolean {
  try {
    const fd = openSync(LOCK, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const owner = Number(readFileSync(LOCK, 'utf8'));
    if (owner > 0 && !isAlive(owner)) unlinkSync(LOCK);
    return false;
  }
}

function build(): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('npm', ['run', 'build:ts'], { cwd: REPO_ROOT, timeout: BUILD_LIMIT_MS }, (error, stdout, stderr) => {
      if (error) reject(new Error(`npm run build:ts failed:\n${stdout}\n${stderr}`, { cause: error }));
      else resolve();
    });
  });
}

/** Resolves once dist/ is at least as new as src/, building it at most once across test processes. */
export async function ensureFreshDist(): Promise<void> {
  const deadline = Date.now() + BUILD_LIMIT_MS;
  while (!isFresh()) {
    if (Date.now() > deadline) throw new Error('dist/ is still stale: another build:ts did not finish');
    if (!tryLock()) {
      await sleep(POLL_MS);
      continue;
    }
    try {
      if (!isFresh()) await build();
    } finally {
      unlinkSync(LOCK);
    }
  }
}
