/**
 * The native tier (src/kernels/native.ts) against the shared kernel suite: the loop this CPU runs
 * best, then each loop forced with SIMDWS_NATIVE_ISA (sse2, the x86-64 baseline, and words, the
 * portable one). Each is loaded from a fresh import of the module.
 *
 * SIMDWS_ALLOW_NO_NATIVE=1 skips this file when the addon does not load (a machine with no C++
 * compiler, where the native tier is optional by design). Without it, a native tier that does not
 * load FAILS the run: a broken build must not pass as a skipped one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, it, vi } from 'vitest';
import { Kernel } from '../../src/kernels/contract';
import { loadNativeKernel } from '../../src/kernels/native';
import { describeKernelSuite } from './kernel-suite';

async function loadIsa(isa: string | undefined): Promise<Kernel> {
  const saved = process.env.SIMDWS_NATIVE_ISA;
  if (isa === undefined) delete process.env.SIMDWS_NATIVE_ISA;
  else process.env.SIMDWS_NATIVE_ISA = isa;
  try {
    vi.resetModules();
    const fresh = await import('../../src/kernels/native');
    return fresh.loadNativeKernel();
  } finally {
    if (saved === undefined) delete process.env.SIMDWS_NATIVE_ISA;
    else process.env.SIMDWS_NATIVE_ISA = saved;
  }
}

/** The loop the addon should pick by itself here: AVX2 where the CPU has it, else SSE2 on x86-64. */
function bestIsa(): string[] | undefined {
  if (process.arch !== 'x64' || !existsSync('/proc/cpuinfo')) return undefined;
  return /\bavx2\b/.test(readFileSync('/proc/cpuinfo', 'utf8')) ? ['avx2'] : ['sse2'];
}

function loadError(): unknown {
  try {
    loadNativeKernel({});
    return null;
  } catch (error) {
    return error;
  }
}

const missing = loadError();
if (missing !== null && process.env.SIMDWS_ALLOW_NO_NATIVE === '1') {
  describe('kernel native', () => {
    it.skip(`skipped by SIMDWS_ALLOW_NO_NATIVE=1: ${(missing as Error).message}`, () => {});
  });
} else {
  const best = bestIsa();
  describeKernelSuite('native (best loop for this CPU)', () => loadIsa(undefined), {
    name: 'native',
    ...(best === undefined ? {} : { variants: best }),
  });
  if (process.arch === 'x64') {
    describeKernelSuite('native (SIMDWS_NATIVE_ISA=sse2)', () => loadIsa('sse2'), {
      name: 'native',
      variants: ['sse2'],
    });
  }
  describeKernelSuite('native (SIMDWS_NATIVE_ISA=words)', () => loadIsa('words'), {
    name: 'native',
    variants: ['words'],
  });
}
