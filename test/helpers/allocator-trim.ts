/**
 * trimAllocator(): glibc gives back every whole free page it keeps (allocator-trim.c), so that the
 * memory tests' servers report as RSS what is live, not also what garbage occupied between two
 * collections. Built with gcc into test/helpers/bin/ (git-ignored) the first time a process needs
 * it, again only when the source is newer; the load generator's tests need gcc already.
 */
import path from 'node:path';
import { buildIfStale } from '../../bench/lib/c-build';

let trim: (() => boolean) | null = null;

/** malloc_trim(0): true when memory was given back (always false off glibc). */
export function trimAllocator(): boolean {
  if (trim === null) {
    const file = buildIfStale({
      source: path.join(__dirname, 'allocator-trim.c'),
      output: path.join(__dirname, 'bin', 'allocator-trim.node'),
      flags: ['-O2', '-std=gnu11', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC'],
    });
    const module = { exports: {} as unknown };
    process.dlopen(module, file);
    trim = module.exports as () => boolean;
  }
  return trim();
}
