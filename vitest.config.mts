import { defineConfig } from 'vitest/config';

/**
 * `npm test` runs every test once with the kernel tier select.ts picks (native where it built), then
 * the suites that exercise the protocol end to end again with each other tier forced, so that each tier
 * carries real traffic (issue: "all of it passes with each kernel tier forced"). The kernel suites in
 * test/kernels load every tier directly and need no second run.
 */
const endToEnd = [
  'test/rfc6455/**/*.test.ts',
  'test/rfc7692/**/*.test.ts',
  'test/streaming/**/*.test.ts',
  'test/compat/**/*.test.ts',
  'test/interop/**/*.test.ts',
  'test/api/**/*.test.ts',
];

const shared = {
  testTimeout: 20_000,
  hookTimeout: 20_000,
  pool: 'forks' as const,
};

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: 'selected-tier', include: ['test/**/*.test.ts'] } },
      { test: { ...shared, name: 'forced-ts', include: endToEnd, env: { SIMDWS_KERNEL: 'ts' } } },
      { test: { ...shared, name: 'forced-wasm', include: endToEnd, env: { SIMDWS_KERNEL: 'wasm' } } },
    ],
  },
});
