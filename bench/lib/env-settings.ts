/**
 * What the benchmark entry points read from the environment and share: positive numbers, a subset
 * of servers or workloads picked by id, and which simdws tiers can load here.
 */
import { selectKernel } from '../../src/kernels/select';

/** `name` as a positive number, or `fallback` when unset; anything else is an error. */
export function positiveFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

/** The entries whose ids `name` lists (comma-separated), or all when it is unset or empty. */
export function pickFromEnv<T>(name: string, all: readonly T[], idOf: (entry: T) => string): readonly T[] {
  const wanted = process.env[name];
  if (wanted === undefined || wanted === '') return all;
  const ids = wanted.split(',').map((id) => id.trim());
  const unknown = ids.filter((id) => !all.some((entry) => idOf(entry) === id));
  if (unknown.length > 0) throw new Error(`${name}: unknown ${unknown.join(', ')}; known: ${all.map(idOf).join(', ')}`);
  return all.filter((entry) => ids.includes(idOf(entry)));
}

/**
 * Why a server cannot run here, or null: its program cannot be fetched (Bun), or a simdws server's
 * forced tier cannot load (say, no compiler for the native addon).
 */
export function unavailableServer(server: { readonly fetchCommand?: () => unknown; readonly tier: string | null }): string | null {
  try {
    server.fetchCommand?.();
  } catch (error) {
    return (error as Error).message;
  }
  if (server.tier === null) return null;
  try {
    selectKernel({ SIMDWS_KERNEL: server.tier });
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
