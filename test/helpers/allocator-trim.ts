/**
 * trimAllocator(): glibc gives back every whole free page it keeps (allocator-trim.c), so that the
 * memory tests' servers report as RSS what is live, not also what garbage occupied between two
 * collections. Built with gcc into test/helpers/bin/ (git-ignored) the first time a process needs
 * it, again only when the source is newer; the load generator's tests need gcc already.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';

const SOURCE = path.join(__dirname, 'allocator-trim.c');
const MODULE = path.join(__dirname, 'bin', 'allocator-trim.node');
const FLAGS = ['-O2', '-std=gnu11', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC'];

function build(compiler = process.env.CC ?? 'gcc'): void {
  if (existsSync(MODULE) && statSync(MODULE).mtimeMs >= statSync(SOURCE).mtimeMs) return;
  mkdirSync(path.dirname(MODULE), { recursive: true });
  // Two server processes may build it at once: each writes its own file and renames it into place.
  const partial = `${MODULE}.${process.pid}`;
  const result = spawnSync(compiler, [...FLAGS, '-o', partial, SOURCE], { encoding: 'utf8' });
  if (result.error !== undefined) throw new Error(`cannot run ${compiler} to build ${SOURCE}`, { cause: result.error });
  if (result.status !== 0) throw new Error(`${compiler} failed to build ${SOURCE}:\n${result.stderr}`);
  renameSync(partial, MODULE);
}

let trim: (() => boolean) | null = null;

/** malloc_trim(0): true when memory was given back (always false off glibc). */
export function trimAllocator(): boolean {
  if (trim === null) {
    build();
    const module = { exports: {} as unknown };
    process.dlopen(module, MODULE);
    trim = module.exports as () => boolean;
  }
  return trim();
}
