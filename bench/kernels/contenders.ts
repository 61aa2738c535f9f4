/**
 * Everything the kernel tables compare, loaded once. A contender that does not load stays in the
 * list with the reason, so the output shows a "not loaded" column instead of silently dropping it.
 *
 * The tiers are called raw (loadNativeKernel/loadWasmKernel, not select.ts's threshold wrapper):
 * the tables are what the thresholds are derived from.
 */
import http from 'node:http';
import path from 'node:path';
import { Kernel } from '../../dist/kernels/contract';
import { loadNativeKernel } from '../../dist/kernels/native';
import { tsKernel } from '../../dist/kernels/ts';
import { loadWasmKernel, wasmInPlaceUnmask, wasmStagingView } from '../../dist/kernels/wasm';
import { bufferPair, randomBytes } from '../lib/buffers';
import { batchLoop } from '../lib/measure';

/** bufferutil's shape, which ws calls: unmask covers the whole buffer. */
interface MaskModule {
  mask(source: Buffer, key: Buffer, output: Buffer, offset: number, length: number): void;
  unmask(buffer: Buffer, key: Buffer): void;
}

export type ContenderId = 'native' | 'wasm' | 'wasm-in-place' | 'ts' | 'bufferutil' | 'ws-js' | 'copy';

export interface Contender {
  readonly id: ContenderId;
  /** Column title. */
  readonly name: string;
  /** Why it has no numbers, or null when it loaded. */
  readonly missing: string | null;
  /** Builds a batch loop that unmasks `size` bytes `batch` times; null when it has no unmask. */
  readonly unmask: LoopBuilder | null;
  /** Builds a batch loop that masks `size` bytes into another buffer; null when it has no mask. */
  readonly mask: LoopBuilder | null;
}

/** Returns null for a size the contender cannot take (the table shows n/a there). */
export type LoopBuilder = (size: number, batch: number) => (() => void) | null;

export interface Tiers {
  readonly native: Kernel | null;
  readonly wasm: Kernel | null;
  /** Why each tier is null. */
  readonly errors: ReadonlyMap<string, string>;
}

const KEY = randomBytes(4);

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function loadTiers(): Tiers {
  const errors = new Map<string, string>();
  const attempt = (name: string, load: () => Kernel): Kernel | null => {
    try {
      return load();
    } catch (error) {
      errors.set(name, message(error));
      return null;
    }
  };
  return { native: attempt('native', loadNativeKernel), wasm: attempt('wasm', loadWasmKernel), errors };
}

function kernelContender(id: ContenderId, kernel: Kernel | null, missing: string): Contender {
  if (kernel === null) return { id, name: id, missing, unmask: null, mask: null };
  return {
    id,
    name: `${id} (${kernel.variant})`,
    missing: null,
    unmask: (size, batch) => batchLoop(kernel, kernel.unmask, [randomBytes(size), KEY, 0, size], batch),
    mask: (size, batch) => {
      const { source, target } = bufferPair(size);
      return batchLoop(kernel, kernel.mask, [source, KEY, target, 0, size], batch);
    },
  };
}

function moduleContender(id: ContenderId, name: string, load: () => MaskModule): Contender {
  let module: MaskModule;
  try {
    module = load();
  } catch (error) {
    return { id, name, missing: message(error), unmask: null, mask: null };
  }
  return {
    id,
    name,
    missing: null,
    unmask: (size, batch) => batchLoop(module, module.unmask, [randomBytes(size), KEY], batch),
    mask: (size, batch) => {
      const { source, target } = bufferPair(size);
      return batchLoop(module, module.mask, [source, KEY, target, 0, size], batch);
    },
  };
}

function loadBufferutil(): MaskModule {
  const module = require('bufferutil') as MaskModule;
  // bufferutil falls back to JavaScript silently when its prebuilt binary does not load.
  if (!Function.prototype.toString.call(module.unmask).includes('[native code]')) {
    throw new Error('bufferutil loaded its JavaScript fallback, not the native addon');
  }
  return module;
}

/**
 * ws's own JavaScript loops, as a ws user without bufferutil runs them. ws picks its mask functions
 * when buffer-util.js is first required, so a private copy is loaded with WS_NO_BUFFER_UTIL=1 and
 * the cached copy (the one ws's Receiver uses, with bufferutil) is put back.
 */
function loadWsFallback(): MaskModule {
  if (typeof (http as { websocketMask?: unknown }).websocketMask === 'function') {
    throw new Error("this Node has http.websocketMask, which ws uses even with WS_NO_BUFFER_UTIL");
  }
  const file = path.join(path.dirname(require.resolve('ws')), 'lib', 'buffer-util.js');
  const cached = require.cache[file];
  const flag = process.env.WS_NO_BUFFER_UTIL;
  delete require.cache[file];
  process.env.WS_NO_BUFFER_UTIL = '1';
  try {
    return require(file) as MaskModule;
  } finally {
    if (cached === undefined) delete require.cache[file];
    else require.cache[file] = cached;
    if (flag === undefined) delete process.env.WS_NO_BUFFER_UTIL;
    else process.env.WS_NO_BUFFER_UTIL = flag;
  }
}

/** The memory ceiling: a copy of the same size moves the same bytes with no XOR. */
function copyLoop(size: number, batch: number): () => void {
  const { source, target } = bufferPair(size);
  return batchLoop(source, source.copy, [target, 0, 0, size], batch);
}

const bufferCopy: Contender = { id: 'copy', name: 'Buffer.copy', missing: null, unmask: copyLoop, mask: copyLoop };

/**
 * The WASM loop alone: bytes already in the staging region, unmasked there, no copy in or out. It
 * bounds what the wasm tier could reach if payloads lived in WASM memory; sizes beyond the staging
 * region have no number.
 */
function wasmInPlace(wasm: Kernel | null, error: string): Contender {
  const name = 'wasm in place';
  if (wasm === null) return { id: 'wasm-in-place', name, missing: error, unmask: null, mask: null };
  return {
    id: 'wasm-in-place',
    name,
    missing: null,
    mask: null,
    unmask: (size, batch) => {
      const staging = wasmStagingView();
      if (size > staging.length) return null;
      staging.set(randomBytes(size));
      return batchLoop(null, wasmInPlaceUnmask, [size, KEY], batch);
    },
  };
}

export function loadContenders(tiers: Tiers): Contender[] {
  return [
    kernelContender('native', tiers.native, tiers.errors.get('native') ?? ''),
    kernelContender('wasm', tiers.wasm, tiers.errors.get('wasm') ?? ''),
    wasmInPlace(tiers.wasm, tiers.errors.get('wasm') ?? ''),
    kernelContender('ts', tsKernel, ''),
    moduleContender('bufferutil', 'bufferutil', loadBufferutil),
    moduleContender('ws-js', 'ws JS loop', loadWsFallback),
    bufferCopy,
  ];
}
