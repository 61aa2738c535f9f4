/**
 * The wasm tier (src/kernels/wasm.ts) against the shared kernel suite, once per build: the SIMD build
 * that Node 20 picks by default, and the scalar build for engines without WebAssembly SIMD, forced
 * with SIMDWS_WASM_BUILD=scalar. Each build is loaded from a fresh import of the module, so neither
 * run reuses what the other loaded. A build that does not load fails its run.
 */
import { vi } from 'vitest';
import { Kernel } from '../../src/kernels/contract';
import { describeKernelSuite } from './kernel-suite';

async function loadBuild(build: 'scalar' | undefined): Promise<Kernel> {
  const saved = process.env.SIMDWS_WASM_BUILD;
  if (build === undefined) delete process.env.SIMDWS_WASM_BUILD;
  else process.env.SIMDWS_WASM_BUILD = build;
  try {
    vi.resetModules();
    const { loadWasmKernel } = await import('../../src/kernels/wasm');
    return loadWasmKernel();
  } finally {
    if (saved === undefined) delete process.env.SIMDWS_WASM_BUILD;
    else process.env.SIMDWS_WASM_BUILD = saved;
  }
}

describeKernelSuite('wasm (default build: simd)', () => loadBuild(undefined), { name: 'wasm', variants: ['simd'] });
describeKernelSuite('wasm (SIMDWS_WASM_BUILD=scalar)', () => loadBuild('scalar'), {
  name: 'wasm',
  variants: ['scalar'],
});
