/**
 * Builds the C load generator with gcc into bench/load/bin/ (git-ignored), again only when
 * loadgen.c is newer than the binary, so `npm run bench:load` needs nothing but a C compiler and
 * zlib's headers (the generator compresses and inflates permessage-deflate messages, RFC 7692).
 */
import path from 'node:path';
import { buildIfStale } from '../lib/c-build';

export const LOADGEN_BINARY = path.join(__dirname, 'bin', 'loadgen');

/** What a compiler's complaint means when it is about zlib: the package to install. */
export function zlibHint(stderr: string): string | null {
  if (/zlib\.h/.test(stderr) || /cannot find -lz\b/.test(stderr)) {
    return 'zlib is missing: the load generator needs its headers and library (Debian/Ubuntu: apt-get install zlib1g-dev)';
  }
  return null;
}

export function buildLoadgen(compiler?: string): string {
  return buildIfStale(
    {
      source: path.join(__dirname, 'loadgen.c'),
      output: LOADGEN_BINARY,
      flags: ['-O2', '-std=gnu11', '-Wall', '-Wextra', '-Werror'],
      libraries: ['-lz'],
      hint: zlibHint,
    },
    compiler,
  );
}
