/**
 * The wasm tier: assembly/ compiled by scripts/build-wasm.js (`npm run build:wasm`) into
 * build/wasm/kernel-simd.wasm and build/wasm/kernel-scalar.wasm, which export the same ABI
 * (assembly/index.ts).
 *
 * Which build loads: the SIMD one when WebAssembly.validate accepts it (the engine has WebAssembly
 * SIMD), else the scalar one. The environment variable SIMDWS_WASM_BUILD overrides that:
 *   SIMDWS_WASM_BUILD=scalar  the scalar build, even where SIMD works (tests run both builds so)
 *   SIMDWS_WASM_BUILD=simd    the SIMD build; an error where the engine cannot run it
 * It is read at every loadWasmKernel() call; each build is instantiated once, on first use.
 *
 * WASM sees only its own memory: scan copies the chunk into the staging region in windows, scans
 * there, and copies each unmasked payload back into the chunk; mask and unmask go through staging
 * in pieces (src/buffers/wasm-staging.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  INFO_MASKED,
  KIND_ERROR,
  KIND_FRAME,
  KIND_FULL,
  KIND_NEED_HEADER,
  KIND_SHIFT,
  Kernel,
  RECORD_WORDS,
  WORD_EXTRA,
  WORD_FRAME_START,
  WORD_LENGTH_HIGH,
  WORD_LENGTH_LOW,
  WORD_PAYLOAD_START,
  writeRecord,
} from './contract';
import { StagingXor, WasmMemory, WasmStaging } from '../buffers/wasm-staging';

type WasmBuild = 'simd' | 'scalar';

const BUILD_FILES: Readonly<Record<WasmBuild, string>> = {
  simd: 'kernel-simd.wasm',
  scalar: 'kernel-scalar.wasm',
};

/** The part of the WebAssembly API used here (the project's type libraries do not declare it). */
interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
}

/** The exports of assembly/index.ts. */
interface KernelExports {
  readonly memory: WasmMemory;
  readonly STAGING_START: { readonly value: number };
  readonly STAGING_SIZE: { readonly value: number };
  readonly RECORDS_START: { readonly value: number };
  readonly RECORDS_CAPACITY: { readonly value: number };
  scanStaging(length: number, capacity: number, options: number): number;
  xorStaging: StagingXor;
}

/** A loaded build: the Kernel, and the raw staging access the benchmark measures. */
interface LoadedBuild {
  readonly kernel: Kernel;
  readonly staging: WasmStaging;
  readonly xor: StagingXor;
}

const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
const builds = new Map<WasmBuild, LoadedBuild>();

/** The key as the wasm side wants it: octet 0 in the low byte (RFC 6455 section 5.3). */
function keyWord(bytes: Uint8Array, at: number): number {
  return bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24);
}

function createKernel(variant: WasmBuild, exports: KernelExports): LoadedBuild {
  const wasmCapacity = exports.RECORDS_CAPACITY.value;
  const staging = new WasmStaging(
    exports.memory,
    exports.STAGING_START.value,
    exports.STAGING_SIZE.value,
    exports.RECORDS_START.value,
    wasmCapacity * RECORD_WORDS,
  );
  if (staging.stagingSize % 4 !== 0) {
    throw new Error(`the wasm staging region (${staging.stagingSize} bytes) is not a multiple of 4`);
  }
  const windowSize = staging.stagingSize;
  const scanStaging = exports.scanStaging;
  const xor = exports.xorStaging;

  /**
   * contract.ts's scan, one staging window at a time. The wasm scan sees only its window, so its
   * terminal record may be an artefact of the window or of its own records capacity; those are
   * resolved here, and only what the ts tier would also report reaches `records`.
   */
  function scan(chunk: Uint8Array, start: number, end: number, records: Int32Array, options: number): number {
    const capacity = (records.length / RECORD_WORDS) | 0;
    let count = 0;
    let pos = start;
    staging.refresh();
    const found = staging.records;
    while (pos < end) {
      const windowLength = Math.min(end - pos, windowSize);
      const room = capacity - count;
      const callCapacity = Math.max(1, Math.min(room, wasmCapacity));
      staging.copyIn(chunk, pos, windowLength);
      // windowLength > 0, so the wasm scan writes at least one record.
      const written = scanStaging(windowLength, callCapacity, options);
      const last = (written - 1) * RECORD_WORDS;
      const lastKind = (found[last] >>> KIND_SHIFT) & 7;
      const frames = lastKind === KIND_FRAME ? written : written - 1;
      // One copy back for all the window's payloads: the wasm scan changes payload bytes only, so the
      // header bytes in between go back unchanged, and one copy beats one per frame 2-3x for small frames.
      let dirtyStart = -1;
      let dirtyEnd = 0;
      for (let i = 0; i < frames; i++) {
        const at = i * RECORD_WORDS;
        const info = found[at];
        const payloadAt = found[at + WORD_PAYLOAD_START];
        const length = found[at + WORD_LENGTH_LOW];
        if ((info & INFO_MASKED) !== 0 && length !== 0) {
          if (dirtyStart < 0) dirtyStart = payloadAt;
          dirtyEnd = payloadAt + length;
        }
        writeRecord(records, count++, info, pos + found[at + WORD_FRAME_START], pos + payloadAt, length, 0, 0);
      }
      if (dirtyStart >= 0) staging.copyOut(dirtyStart, dirtyEnd - dirtyStart, chunk, pos + dirtyStart);
      if (lastKind === KIND_FRAME) {
        pos += windowLength;
        continue;
      }
      const info = found[last];
      const frameStart = pos + found[last + WORD_FRAME_START];
      if (lastKind === KIND_ERROR) {
        writeRecord(records, count, info, frameStart, 0, found[last + WORD_LENGTH_LOW], 0, found[last + WORD_EXTRA]);
        return count + 1;
      }
      if (lastKind === KIND_FULL) {
        // Only the caller's capacity makes a FULL the caller sees; ours just ends the window.
        if (room <= wasmCapacity) {
          writeRecord(records, count, info, frameStart, 0, 0, 0, 0);
          return count + 1;
        }
        pos = frameStart;
        continue;
      }
      if (lastKind === KIND_NEED_HEADER) {
        if (pos + windowLength === end) {
          writeRecord(records, count, info, frameStart, 0, 0, 0, 0);
          return count + 1;
        }
        pos = frameStart;
        continue;
      }
      // PARTIAL: the payload runs past the window. Past `end` too, it is the caller's PARTIAL.
      const payloadStart = pos + found[last + WORD_PAYLOAD_START];
      const lengthLow = found[last + WORD_LENGTH_LOW];
      const lengthHigh = found[last + WORD_LENGTH_HIGH];
      if (lengthHigh !== 0 || (lengthLow >>> 0) > end - payloadStart) {
        writeRecord(records, count, info, frameStart, payloadStart, lengthLow, lengthHigh, found[last + WORD_EXTRA]);
        return count + 1;
      }
      // A whole frame longer than the window: unmask it in pieces; the key is the 4 header bytes
      // before the payload (RFC 6455 section 5.2), which nothing has modified.
      const length = lengthLow >>> 0;
      if ((info & INFO_MASKED) !== 0) {
        staging.xorThrough(chunk, payloadStart, chunk, payloadStart, length, keyWord(chunk, payloadStart - 4), xor);
      }
      const frameInfo = (info & ~(7 << KIND_SHIFT)) | (KIND_FRAME << KIND_SHIFT);
      writeRecord(records, count++, frameInfo, frameStart, payloadStart, length, 0, 0);
      pos = payloadStart + length;
    }
    return count;
  }

  const kernel: Kernel = {
    name: 'wasm',
    variant,
    scan,
    mask(source, key, output, offset, length) {
      staging.refresh();
      staging.xorThrough(source, 0, output, offset, length, keyWord(key, 0), xor);
    },
    unmask(buffer, key, offset, length) {
      staging.refresh();
      staging.xorThrough(buffer, offset, buffer, offset, length, keyWord(key, 0), xor);
    },
  };
  return { kernel, staging, xor };
}

/** The directory holding package.json: src/kernels/ and dist/kernels/ both sit two levels below it. */
function packageRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`the wasm tier found no package.json above ${__dirname}`);
  }
}

function readBuild(build: WasmBuild): Uint8Array {
  const file = path.join(packageRoot(), 'build', 'wasm', BUILD_FILES[build]);
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw new Error(`the wasm tier's ${build} build is missing (${file}); run npm run build:wasm`, {
      cause: error,
    });
  }
}

let simdRuns: boolean | null = null;

function chooseBuild(): WasmBuild {
  const forced = process.env.SIMDWS_WASM_BUILD;
  if (forced !== undefined && forced !== '' && forced !== 'simd' && forced !== 'scalar') {
    throw new Error(`SIMDWS_WASM_BUILD must be simd or scalar; got ${JSON.stringify(forced)}`);
  }
  if (forced === 'scalar') return 'scalar';
  if (simdRuns === null) simdRuns = webAssembly.validate(readBuild('simd'));
  if (simdRuns) return 'simd';
  if (forced === 'simd') throw new Error('SIMDWS_WASM_BUILD=simd, but this engine cannot run WebAssembly SIMD');
  return 'scalar';
}

function instantiate(build: WasmBuild): LoadedBuild {
  const bytes = readBuild(build);
  let exports: KernelExports;
  try {
    exports = new webAssembly.Instance(new webAssembly.Module(bytes), {}).exports as KernelExports;
  } catch (error) {
    throw new Error(`the wasm tier's ${build} build did not instantiate; run npm run build:wasm`, { cause: error });
  }
  return createKernel(build, exports);
}

/** The build the last loadWasmKernel() call returned: what the benchmark helpers below use. */
let current: LoadedBuild | null = null;

function loadBuild(): LoadedBuild {
  const build = chooseBuild();
  let loaded = builds.get(build);
  if (loaded === undefined) {
    loaded = instantiate(build);
    builds.set(build, loaded);
  }
  current = loaded;
  return loaded;
}

/** The wasm tier's kernel; throws (with the reason) when its build is missing or cannot load. */
export function loadWasmKernel(): Kernel {
  return loadBuild().kernel;
}

/**
 * For the benchmark: the staging region of the build the last loadWasmKernel() call returned (or
 * of the one it would return, when none was loaded yet), to fill before wasmInPlaceUnmask. Its
 * bytes belong to the kernel: any kernel call overwrites them.
 */
export function wasmStagingView(): Uint8Array {
  const { staging } = current ?? loadBuild();
  staging.refresh();
  return staging.bytes;
}

/**
 * For the benchmark: unmasks staging[0, length) in place with `key`, with no copy in or out, so the
 * WASM loop can be measured apart from the copies the tier's mask/unmask pay. Same build as
 * wasmStagingView; it reads no environment and no file, so the measurement is the loop's.
 */
export function wasmInPlaceUnmask(length: number, key: Uint8Array): void {
  const { staging, xor } = current ?? loadBuild();
  if (!(length >= 0 && length <= staging.stagingSize)) {
    throw new RangeError(`length must be within 0..${staging.stagingSize}; got ${length}`);
  }
  xor(0, length, keyWord(key, 0));
}
