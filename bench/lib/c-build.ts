/**
 * Compiles one C file with gcc (or $CC) into `output`, again only when the source is newer than it:
 * the load generator (bench/load/build-loadgen.ts) and the memory tests' allocator helper
 * (test/helpers/allocator-trim.ts). Several processes may build the same output at once (test files
 * run in parallel workers): each compiles to a file of its own and renames it into place, so none
 * ever runs a half-written binary.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';

export interface CBuild {
  readonly source: string;
  readonly output: string;
  readonly flags: readonly string[];
  /** After the source, so the linker resolves what it calls. */
  readonly libraries?: readonly string[];
  /** What a failure's stderr means, when it can say (e.g. the package to install); null otherwise. */
  readonly hint?: (stderr: string) => string | null;
}

/** Returns `output`, built from `source` if it was missing or older. */
export function buildIfStale(build: CBuild, compiler = process.env.CC ?? 'gcc'): string {
  const { source, output } = build;
  if (existsSync(output) && statSync(output).mtimeMs >= statSync(source).mtimeMs) return output;
  mkdirSync(path.dirname(output), { recursive: true });
  const partial = `${output}.${process.pid}`;
  const args = [...build.flags, '-o', partial, source, ...(build.libraries ?? [])];
  const result = spawnSync(compiler, args, { encoding: 'utf8' });
  if (result.error !== undefined) throw new Error(`cannot run ${compiler} to build ${source}`, { cause: result.error });
  if (result.status !== 0) {
    const hint = build.hint?.(result.stderr) ?? null;
    throw new Error(`${hint === null ? '' : `${hint}\n`}${compiler} failed to build ${source}:\n${result.stderr}`);
  }
  renameSync(partial, output);
  return output;
}
