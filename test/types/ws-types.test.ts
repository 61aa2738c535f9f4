/**
 * @types/ws compatibility: ws-user.ts and ws-user-esm.mts, written as ws users write them, must
 * type-check against simdws's declarations, reached as users reach them (package.json "exports",
 * "types" condition, Node16 resolution). The same files against @types/ws prove they are ordinary
 * ws code; their @ts-expect-error lines fail the compile if our types degrade to `any`.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, ensureFreshDist } from './dist-build';

const TSC = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

interface Compile {
  readonly exitCode: number;
  readonly output: string;
}

function typeCheck(project: string): Promise<Compile> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [TSC, '-p', join(__dirname, project), '--pretty', 'false'],
      { cwd: REPO_ROOT, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ exitCode: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}`.trim() });
      },
    );
  });
}

beforeAll(ensureFreshDist, 180_000);

describe('TypeScript: code written for @types/ws', () => {
  it('is valid against @types/ws itself (the oracle)', async () => {
    expect(await typeCheck('tsconfig.ws-oracle.json')).toEqual({ exitCode: 0, output: '' });
  }, 60_000);

  it('compiles unchanged against simdws (dist/*.d.ts through package.json "exports")', async () => {
    expect(await typeCheck('tsconfig.json')).toEqual({ exitCode: 0, output: '' });
  }, 60_000);
});
