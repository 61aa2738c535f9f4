/**
 * Bun, a peer of the load benchmark, fetched on first use into bench/load/bin/ (git-ignored) from
 * its npm package, as `npm pack` gives it: not a dependency, so installing simdws never downloads a
 * 100 MB runtime. Where it cannot be had (no registry, or not Linux x64 with glibc: the package's
 * platforms) the Bun rows are skipped, saying why.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';

/** The version the table was measured with (Bun 1.4). */
export const BUN_PACKAGE = '@oven/bun-linux-x64@1.4.4';
const DIRECTORY = path.join(__dirname, 'bin', 'bun-1.4.4');
export const BUN_BINARY = path.join(DIRECTORY, 'package', 'bin', 'bun');

/** The binary's path, fetched if missing; throws with what went wrong. */
export function fetchBun(): string {
  if (existsSync(BUN_BINARY)) return BUN_BINARY;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`${BUN_PACKAGE} is for Linux x64; this is ${process.platform} ${process.arch}`);
  }
  rmSync(DIRECTORY, { recursive: true, force: true });
  mkdirSync(DIRECTORY, { recursive: true });
  const pack = spawnSync('npm', ['pack', BUN_PACKAGE, '--json', '--pack-destination', DIRECTORY], { encoding: 'utf8' });
  if (pack.status !== 0) throw new Error(`npm pack ${BUN_PACKAGE} failed: ${pack.stderr || pack.error?.message}`);
  const [{ filename }] = JSON.parse(pack.stdout) as { filename: string }[];
  const untar = spawnSync('tar', ['-xzf', path.join(DIRECTORY, filename), '-C', DIRECTORY], { encoding: 'utf8' });
  if (untar.status !== 0) throw new Error(`cannot unpack ${filename}: ${untar.stderr}`);
  rmSync(path.join(DIRECTORY, filename));
  const version = spawnSync(BUN_BINARY, ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) throw new Error(`${BUN_BINARY} does not run here: ${version.stderr || version.error?.message}`);
  return BUN_BINARY;
}
