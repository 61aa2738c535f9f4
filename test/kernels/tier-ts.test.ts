// The TypeScript tier (src/kernels/ts.ts) against the shared kernel suite.
import { tsKernel } from '../../src/kernels/ts';
import { describeKernelSuite } from './kernel-suite';

describeKernelSuite('ts (words)', () => tsKernel, { name: 'ts', variants: ['words'] });
