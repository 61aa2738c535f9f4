/**
 * Which kernel tier runs, and when a call is not worth crossing into it.
 *
 * Order: native, then wasm (its SIMD build, else its scalar build), then ts. Every load error is
 * kept and reported. `SIMDWS_KERNEL=native|wasm|ts` forces a tier: a forced tier that cannot load
 * is an error, never a silent fallback. `WS_NO_BUFFER_UTIL` (ws's switch) disables the native tier.
 */
import { Kernel, TierName } from './contract';
import { tsKernel } from './ts';
import { loadNativeKernel } from './native';
import { loadWasmKernel } from './wasm';

/**
 * Below these payload sizes, mask/unmask stay in TypeScript: crossing into the tier costs more than
 * the loop. Each value is the size from which the tier took at most 90% of the ts tier's time at
 * every larger size in `npm run bench:kernels` (bench/RESULTS.md, "Crossover" and "Thresholds"):
 * on an AMD EPYC (AVX2) with Node 20, a native call costs ~125-150 ns whatever the size and a wasm
 * call ~130-230 ns with its copies, while ts needs ~125 ns for 256 bytes and ~300 ns for 1 KiB.
 */
export const NATIVE_MASK_MIN_BYTES = 512;
export const NATIVE_UNMASK_MIN_BYTES = 512;
export const WASM_MASK_MIN_BYTES = 1024;
export const WASM_UNMASK_MIN_BYTES = 1024;

export interface TierStatus {
  readonly name: TierName;
  /** The build that loaded ('avx2', 'sse2', 'simd', 'scalar', 'words'), or null. */
  readonly variant: string | null;
  /** Why the tier did not load or was skipped; null when it loaded. */
  readonly error: Error | null;
}

export interface KernelInfo {
  /** The tier that handles calls at or above its thresholds. */
  readonly name: TierName;
  readonly variant: string;
  /** The tier SIMDWS_KERNEL forced, or null. */
  readonly forced: TierName | null;
  readonly tiers: readonly TierStatus[];
}

const TIER_ORDER: readonly TierName[] = ['native', 'wasm', 'ts'];

function parseForced(value: string | undefined): TierName | null {
  if (value === undefined || value === '') return null;
  if (value === 'native' || value === 'wasm' || value === 'ts') return value;
  throw new Error(`SIMDWS_KERNEL must be one of native, wasm, ts; got ${JSON.stringify(value)}`);
}

function loadTier(name: TierName): Kernel {
  if (name === 'native') return loadNativeKernel();
  if (name === 'wasm') return loadWasmKernel();
  return tsKernel;
}

/**
 * Wraps a tier so that small mask/unmask calls stay in TypeScript. scan always goes to the tier:
 * it is called once per socket chunk, so its crossing is paid once for many frames.
 */
function withThresholds(tier: Kernel, maskMin: number, unmaskMin: number): Kernel {
  return {
    name: tier.name,
    variant: tier.variant,
    scan: tier.scan,
    mask(source, key, output, offset, length) {
      if (length < maskMin) tsKernel.mask(source, key, output, offset, length);
      else tier.mask(source, key, output, offset, length);
    },
    unmask(buffer, key, offset, length) {
      if (length < unmaskMin) tsKernel.unmask(buffer, key, offset, length);
      else tier.unmask(buffer, key, offset, length);
    },
  };
}

function describe(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export function selectKernel(env: NodeJS.ProcessEnv = process.env): { kernel: Kernel; info: KernelInfo } {
  const forced = parseForced(env.SIMDWS_KERNEL);
  const statuses: TierStatus[] = [];
  let chosen: Kernel | null = null;
  for (const name of TIER_ORDER) {
    if (chosen !== null) {
      statuses.push({ name, variant: null, error: new Error(`not needed: ${chosen.name} loaded first`) });
      continue;
    }
    if (forced !== null && name !== forced) {
      statuses.push({ name, variant: null, error: new Error(`skipped: SIMDWS_KERNEL=${forced}`) });
      continue;
    }
    if (name === 'native' && forced !== 'native' && env.WS_NO_BUFFER_UTIL) {
      statuses.push({ name, variant: null, error: new Error('disabled by WS_NO_BUFFER_UTIL') });
      continue;
    }
    try {
      chosen = loadTier(name);
      statuses.push({ name, variant: chosen.variant, error: null });
    } catch (error) {
      const cause = describe(error);
      if (forced === name) {
        throw new Error(`SIMDWS_KERNEL=${forced} was forced, but that tier did not load: ${cause.message}`, {
          cause,
        });
      }
      statuses.push({ name, variant: null, error: cause });
    }
  }
  // The ts tier cannot fail to load, so a tier was chosen.
  const tier = chosen as Kernel;
  const kernel =
    tier.name === 'native'
      ? withThresholds(tier, NATIVE_MASK_MIN_BYTES, NATIVE_UNMASK_MIN_BYTES)
      : tier.name === 'wasm'
        ? withThresholds(tier, WASM_MASK_MIN_BYTES, WASM_UNMASK_MIN_BYTES)
        : tier;
  return { kernel, info: { name: tier.name, variant: tier.variant, forced, tiers: statuses } };
}

const selected = selectKernel();

/** The kernel every connection uses. */
export const kernel: Kernel = selected.kernel;
/** Which tier is active and why the others are not: printed by `npm test` and the benchmarks. */
export const kernelInfo: KernelInfo = selected.info;

export function formatKernelInfo(info: KernelInfo): string {
  const lines = [`simdws kernel: ${info.name} (${info.variant})${info.forced ? ' [forced by SIMDWS_KERNEL]' : ''}`];
  for (const tier of info.tiers) {
    lines.push(
      tier.error === null ? `  ${tier.name}: loaded (${tier.variant})` : `  ${tier.name}: ${tier.error.message}`,
    );
  }
  return lines.join('\n');
}
