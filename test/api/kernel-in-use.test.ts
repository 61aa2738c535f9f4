/**
 * Which tier carries this run's traffic: the forced one under SIMDWS_KERNEL (vitest.config.mts runs the
 * end-to-end suites once per tier), else native, the first choice, unless the run allows it missing.
 */
import { describe, expect, it } from 'vitest';
import { kernelInfo } from '../../src/kernels/select';

describe('kernel tier in use', () => {
  it('is the forced tier, or native when none is forced', () => {
    const forced = process.env.SIMDWS_KERNEL;
    if (forced) {
      expect(kernelInfo.forced).toBe(forced);
      expect(kernelInfo.name).toBe(forced);
    } else if (process.env.SIMDWS_ALLOW_NO_NATIVE === '1') {
      expect(['native', 'wasm']).toContain(kernelInfo.name);
    } else {
      expect(kernelInfo.name).toBe('native');
    }
  });
});
