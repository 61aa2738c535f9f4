/**
 * Builds the C load generator with gcc into bench/load/bin/ (git-ignored), again only when
 * loadgen.c is newer than the binary, so `npm run bench:load` needs nothing but a C compiler and
 * zlib's headers (the generator compresses and inflates permessage-deflate messages, RFC 7692).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';

const SOURCE = path.join(__dirname, 'loadgen.c');
export const LOADGEN_BINARY = path.join(__dirname, 'bin', 'loadgen');

const FLAGS = ['-O2', '-std=gnu11', '-Wall', '-Wextra', '-Werror'];
/** After the source, so the linker resolves the generator's zlib calls. */
const LIBRARIES = ['-lz'];

/** What a compiler's complaint means when it is about zlib: the package to install. */
export function zlibHint(stderr: string): string | null {
  if (/zlib\.h/.test(stderr) || /cannot find -lz\b/.test(stderr)) {
    return 'zlib is missing: the load generator needs its headers and library (Debian/Ubuntu: apt-get install zlib1g-dev)';
  }
  return null;
}

export function buildLoadgen(compiler = process.env.CC ?? 'gcc'): string {
  if (existsSync(LOADGEN_BINARY) && statSync(LOADGEN_BINARY).mtimeMs >= statSync(SOURCE).mtimeMs) return LOADGEN_BINARY;
  mkdirSync(path.dirname(LOADGEN_BINARY), { recursive: true });
  const result = spawnSync(compiler, [...FLAGS, '-o', LOADGEN_BINARY, SOURCE, ...LIBRARIES], { encoding: 'utf8' });
  if (result.error !== undefined) throw new Error(`cannot run ${compiler} to build the load generator`, { cause: result.error });
  if (result.status !== 0) {
    const hint = zlibHint(result.stderr);
    throw new Error(`${hint === null ? '' : `${hint}\n`}${compiler} failed to build ${SOURCE}:\n${result.stderr}`);
  }
  return LOADGEN_BINARY;
}
