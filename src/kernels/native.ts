/**
 * The native tier: native/ (node-addon-api, C++), built at install time by scripts/build-native.js.
 * It is optional: when the build failed or was skipped, loadNativeKernel throws with the reason the
 * build recorded, and select.ts moves on to the next tier.
 *
 * SIMDWS_NATIVE_ISA=avx2|sse2|words picks the masking loop instead of the best one this CPU runs
 * (the tests use it to cover each loop). A loop this CPU or build lacks is an error, not a fallback.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Kernel } from './contract';

type NativeFunctions = Pick<Kernel, 'scan' | 'mask' | 'unmask'>;

/** What native/src/addon.cc exports. */
interface NativeAddon extends NativeFunctions {
  /** The best loop this CPU runs. */
  readonly isa: string;
  /** Every loop this CPU runs, by name. */
  readonly variants: Readonly<Record<string, NativeFunctions>>;
}

/** The directory holding our package.json: the same from src/kernels (tests) and dist/kernels. */
function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json in or above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

/** Why the addon is missing, as scripts/build-native.js recorded it. */
function missingReason(root: string): string {
  try {
    const status = JSON.parse(readFileSync(join(root, 'build', 'native-status.json'), 'utf8')) as {
      built?: boolean;
      reason?: string;
    };
    if (status.built === false && typeof status.reason === 'string') return status.reason;
  } catch {
    // No status file (the install script never ran here): say how to build instead.
  }
  return 'native/build/Release/simdws.node is missing; run `npm run build:native`';
}

function loadAddon(): NativeAddon {
  const root = packageRoot();
  try {
    return require(root + '/native/build/Release/simdws.node') as NativeAddon;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND';
    const message = missing
      ? `native addon not built: ${missingReason(root)}`
      : `native addon did not load: ${(error as Error).message}`;
    throw new Error(message, { cause: error });
  }
}

export function loadNativeKernel(env: NodeJS.ProcessEnv = process.env): Kernel {
  const addon = loadAddon();
  const requested = env.SIMDWS_NATIVE_ISA;
  let isa = addon.isa;
  if (requested !== undefined && requested !== '') {
    if (!Object.hasOwn(addon.variants, requested)) {
      const available = Object.keys(addon.variants).join(', ');
      throw new Error(`SIMDWS_NATIVE_ISA=${requested} is not available here; this CPU and build run: ${available}`);
    }
    isa = requested;
  }
  const fns = addon.variants[isa];
  return { name: 'native', variant: isa, scan: fns.scan, mask: fns.mask, unmask: fns.unmask };
}
