/**
 * Builds the C load generator with gcc into bench/load/bin/ (git-ignored), again only when
 * loadgen.c is newer than the binary, so `npm run bench:load` needs nothing but a C compiler.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';

const SOURCE = path.join(__dirname, 'loadgen.c');
export const LOADGEN_BINARY = path.join(__dirname, 'bin', 'loadgen');

const FLAGS = ['-O2', '-std=gnu11', '-Wall', '-Wextra', '-Werror'];

export function buildLoadgen(compiler = process.env.CC ?? 'gcc'): string {
  if (existsSync(LOADGEN_BINARY) && statSync(LOADGEN_BINARY).mtimeMs >= statSync(SOURCE).mtimeMs) return LOADGEN_BINARY;
  mkdirSync(path.dirname(LOADGEN_BINARY), { recursive: true });
  const result = spawnSync(compiler, [...FLAGS, '-o', LOADGEN_BINARY, SOURCE], { encoding: 'utf8' });
  if (result.error !== undefined) throw new Error(`cannot run ${compiler} to build the load generator`, { cause: result.error });
  if (result.status !== 0) throw new Error(`${compiler} failed to build ${SOURCE}:\n${result.stderr}`);
  return LOADGEN_BINARY;
}
