/** What the numbers were measured on: they mean little without the CPU, its SIMD flags and Node. */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  /** The SIMD flags the native tier dispatches on (SSE2 baseline, AVX2 where present). */
  readonly simdFlags: string;
  readonly node: string;
  readonly date: string;
}

function cpuFlags(): Set<string> {
  try {
    const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
    const line = cpuinfo.split('\n').find((entry) => entry.startsWith('flags'));
    return new Set(line === undefined ? [] : line.slice(line.indexOf(':') + 1).trim().split(/\s+/));
  } catch {
    return new Set();
  }
}

/** The machine as the results files' headers give it: CPU model, cores and SIMD flags. */
export function machineLine(machine: MachineInfo): string {
  return `${machine.cpuModel}, ${machine.cores} cores; ${machine.simdFlags}`;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  const flags = cpuFlags();
  const simd = ['sse2', 'sse4_1', 'avx2', 'avx512f'].map((flag) => `${flag} ${flags.has(flag) ? 'yes' : 'no'}`);
  return {
    cpuModel: cpus.length > 0 ? cpus[0].model.trim() : 'unknown',
    cores: cpus.length,
    simdFlags: flags.size === 0 ? 'unknown (no /proc/cpuinfo)' : simd.join(', '),
    node: process.version,
    date: new Date().toISOString(),
  };
}
