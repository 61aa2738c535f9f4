/**
 * Tier selection (src/kernels/select.ts): order, SIMDWS_KERNEL, WS_NO_BUFFER_UTIL, the status list,
 * and the size thresholds below which mask/unmask stay in TypeScript. The native and wasm loaders
 * are wrapped so a test can swap in a fake tier (one that loads, or one that throws); by default
 * they are the real loaders.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Kernel, RECORD_WORDS, TierName } from '../../src/kernels/contract';
import { loadNativeKernel } from '../../src/kernels/native';
import {
  NATIVE_MASK_MIN_BYTES,
  NATIVE_UNMASK_MIN_BYTES,
  WASM_MASK_MIN_BYTES,
  WASM_UNMASK_MIN_BYTES,
  formatKernelInfo,
  selectKernel,
} from '../../src/kernels/select';
import { tsKernel } from '../../src/kernels/ts';
import { loadWasmKernel } from '../../src/kernels/wasm';
import { buildFrame } from '../helpers/frames';
import { oracleMask, oracleUnmask } from './oracle';
import { pattern } from './scan-cases';

const fakes = vi.hoisted(() => ({
  native: null as null | (() => Kernel),
  wasm: null as null | (() => Kernel),
}));

vi.mock('../../src/kernels/native', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/kernels/native')>();
  return {
    ...actual,
    loadNativeKernel: vi.fn((env?: NodeJS.ProcessEnv) => (fakes.native ?? (() => actual.loadNativeKernel(env)))()),
  };
});
vi.mock('../../src/kernels/wasm', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/kernels/wasm')>();
  return { ...actual, loadWasmKernel: vi.fn(() => (fakes.wasm ?? actual.loadWasmKernel)()) };
});

const TIERS: readonly TierName[] = ['native', 'wasm', 'ts'];

interface FakeTier extends Kernel {
  readonly calls: string[];
}

/** A tier that loads and does the right thing, logging which function was called. */
function fakeTier(name: TierName): FakeTier {
  const calls: string[] = [];
  return {
    name,
    variant: `fake-${name}`,
    calls,
    scan(chunk, start, end, records, options) {
      calls.push('scan');
      return tsKernel.scan(chunk, start, end, records, options);
    },
    mask(source, key, output, offset, length) {
      calls.push(`mask ${length}`);
      oracleMask(source, key, output, offset, length);
    },
    unmask(buffer, key, offset, length) {
      calls.push(`unmask ${length}`);
      oracleUnmask(buffer, key, offset, length);
    },
  };
}

const failing = (why: string) => (): Kernel => {
  throw new Error(why);
};

function firstRealTierThatLoads(): TierName {
  for (const [name, load] of [
    ['native', () => loadNativeKernel({})],
    ['wasm', () => loadWasmKernel()],
  ] as const) {
    try {
      load();
      return name;
    } catch {
      // This tier is not available here; the next one is tried, as select.ts does.
    }
  }
  return 'ts';
}

beforeEach(() => {
  fakes.native = null;
  fakes.wasm = null;
  vi.mocked(loadNativeKernel).mockClear();
  vi.mocked(loadWasmKernel).mockClear();
});

describe('default order: native, then wasm, then ts', () => {
  it('picks native when it loads, without loading wasm', () => {
    fakes.native = () => fakeTier('native');
    fakes.wasm = () => fakeTier('wasm');
    const { info } = selectKernel({});
    expect(info).toMatchObject({ name: 'native', variant: 'fake-native', forced: null });
    expect(loadWasmKernel).not.toHaveBeenCalled();
  });

  it("picks wasm when native does not load, and keeps native's error", () => {
    fakes.native = failing('no compiler');
    fakes.wasm = () => fakeTier('wasm');
    const { info } = selectKernel({});
    expect(info.name).toBe('wasm');
    expect(info.tiers[0].error?.message).toBe('no compiler');
  });

  it('falls back to ts when neither native nor wasm loads', () => {
    fakes.native = failing('no compiler');
    fakes.wasm = failing('no wasm file');
    const { kernel, info } = selectKernel({});
    expect(info.name).toBe('ts');
    expect(kernel).toBe(tsKernel);
    expect(info.tiers.map((tier) => tier.error?.message ?? null)).toEqual(['no compiler', 'no wasm file', null]);
  });

  it('with the real tiers, picks the first one that loads here', () => {
    const { info } = selectKernel({});
    expect(info.name).toBe(firstRealTierThatLoads());
  });
});

describe('SIMDWS_KERNEL', () => {
  for (const forced of TIERS) {
    it(`=${forced} picks exactly that tier and loads no other`, () => {
      fakes.native = () => fakeTier('native');
      fakes.wasm = () => fakeTier('wasm');
      const { info } = selectKernel({ SIMDWS_KERNEL: forced });
      expect(info.name).toBe(forced);
      expect(info.forced).toBe(forced);
      expect(vi.mocked(loadNativeKernel).mock.calls.length).toBe(forced === 'native' ? 1 : 0);
      expect(vi.mocked(loadWasmKernel).mock.calls.length).toBe(forced === 'wasm' ? 1 : 0);
      // Tiers ahead of the forced one say they were skipped for it; those after it were not needed.
      for (const tier of info.tiers.slice(0, TIERS.indexOf(forced))) {
        expect(tier.error?.message).toMatch(/SIMDWS_KERNEL/);
      }
      for (const tier of info.tiers.slice(TIERS.indexOf(forced) + 1)) {
        expect(tier.error).toBeInstanceOf(Error);
      }
    });
  }

  for (const forced of ['native', 'wasm'] as const) {
    it(`=${forced} throws when that tier does not load, instead of falling back`, () => {
      fakes[forced] = failing(`${forced} is broken`);
      expect(() => selectKernel({ SIMDWS_KERNEL: forced })).toThrow(/SIMDWS_KERNEL.*broken|broken.*SIMDWS_KERNEL/);
      try {
        selectKernel({ SIMDWS_KERNEL: forced });
      } catch (error) {
        expect((error as Error).cause).toBeInstanceOf(Error);
        expect(((error as Error).cause as Error).message).toBe(`${forced} is broken`);
      }
    });
  }

  it('with the real tiers, each tier that loads here can be forced', () => {
    for (const forced of TIERS) {
      let loads = true;
      try {
        if (forced === 'native') loadNativeKernel({});
        if (forced === 'wasm') loadWasmKernel();
      } catch {
        loads = false;
      }
      if (loads) expect(selectKernel({ SIMDWS_KERNEL: forced }).info.name).toBe(forced);
      else expect(() => selectKernel({ SIMDWS_KERNEL: forced })).toThrow(/SIMDWS_KERNEL/);
    }
  });

  it.each(['simd', 'NATIVE', 'js', ' ts'])('=%j is refused with an error', (value) => {
    expect(() => selectKernel({ SIMDWS_KERNEL: value })).toThrow(/SIMDWS_KERNEL/);
  });

  it('an empty value means no override', () => {
    fakes.native = () => fakeTier('native');
    expect(selectKernel({ SIMDWS_KERNEL: '' }).info).toMatchObject({ name: 'native', forced: null });
  });
});

describe('WS_NO_BUFFER_UTIL', () => {
  it('=1 skips native, says so, and does not even load it', () => {
    fakes.native = () => fakeTier('native');
    fakes.wasm = () => fakeTier('wasm');
    const { info } = selectKernel({ WS_NO_BUFFER_UTIL: '1' });
    expect(info.name).toBe('wasm');
    expect(info.tiers[0].name).toBe('native');
    expect(info.tiers[0].error?.message).toMatch(/WS_NO_BUFFER_UTIL/);
    expect(loadNativeKernel).not.toHaveBeenCalled();
  });
});

describe('the status list', () => {
  const configurations: [string, () => void, NodeJS.ProcessEnv, TierName][] = [
    [
      'all load',
      () => {
        fakes.native = () => fakeTier('native');
      },
      {},
      'native',
    ],
    [
      'native fails',
      () => {
        fakes.native = failing('x');
        fakes.wasm = () => fakeTier('wasm');
      },
      {},
      'wasm',
    ],
    ['ts forced', () => {}, { SIMDWS_KERNEL: 'ts' }, 'ts'],
    [
      'WS_NO_BUFFER_UTIL',
      () => {
        fakes.wasm = failing('y');
      },
      { WS_NO_BUFFER_UTIL: '1' },
      'ts',
    ],
  ];

  it.each(configurations)(
    'reports every tier in order, and only the chosen one as loaded (%s)',
    (_, arrange, env, chosen) => {
      arrange();
      const { info } = selectKernel(env);
      expect(info.tiers.map((tier) => tier.name)).toEqual(TIERS);
      for (const tier of info.tiers) {
        if (tier.name === chosen) expect(tier).toMatchObject({ error: null, variant: info.variant });
        else expect(tier).toMatchObject({ variant: null, error: expect.any(Error) });
      }
      const printed = formatKernelInfo(info);
      for (const name of TIERS) expect(printed).toContain(`${name}:`);
    },
  );
});

describe('size thresholds: small mask/unmask stay in TypeScript', () => {
  const key = Uint8Array.of(0x9a, 0x01, 0xfe, 0x7c);
  const cases = [
    { tier: 'native', maskMin: NATIVE_MASK_MIN_BYTES, unmaskMin: NATIVE_UNMASK_MIN_BYTES },
    { tier: 'wasm', maskMin: WASM_MASK_MIN_BYTES, unmaskMin: WASM_UNMASK_MIN_BYTES },
  ] as const;

  for (const { tier, maskMin, unmaskMin } of cases) {
    it(`${tier}: below ${maskMin}/${unmaskMin} bytes in ts, at and above in the tier; same results`, () => {
      const fake = fakeTier(tier);
      fakes[tier] = () => fake;
      const { kernel } = selectKernel({ SIMDWS_KERNEL: tier });
      for (const length of [0, 1, maskMin - 1, maskMin, maskMin + 1]) {
        const output = new Uint8Array(length + 3);
        const expected = new Uint8Array(length + 3);
        kernel.mask(pattern(length), key, output, 3, length);
        oracleMask(pattern(length), key, expected, 3, length);
        expect(output).toEqual(expected);
      }
      for (const length of [0, 1, unmaskMin - 1, unmaskMin, unmaskMin + 1]) {
        const buffer = pattern(length + 1);
        const expected = pattern(length + 1);
        kernel.unmask(buffer, key, 1, length);
        oracleUnmask(expected, key, 1, length);
        expect(buffer).toEqual(expected);
      }
      const frame = buildFrame({ opcode: 1, mask: true, payload: 'hi' });
      kernel.scan(frame, 0, frame.length, new Int32Array(2 * RECORD_WORDS), 1);
      expect(fake.calls).toEqual([
        `mask ${maskMin}`,
        `mask ${maskMin + 1}`,
        `unmask ${unmaskMin}`,
        `unmask ${unmaskMin + 1}`,
        'scan',
      ]);
    });
  }

  it('with the real tiers, the selected kernel masks and unmasks like the oracle around every threshold', () => {
    const { kernel } = selectKernel({});
    const lengths = [
      0,
      1,
      3,
      15,
      16,
      17,
      ...[NATIVE_MASK_MIN_BYTES, NATIVE_UNMASK_MIN_BYTES, WASM_MASK_MIN_BYTES, WASM_UNMASK_MIN_BYTES].flatMap((n) => [
        n - 1,
        n,
        n + 1,
      ]),
    ];
    for (const length of lengths) {
      const output = new Uint8Array(length + 5);
      const expected = new Uint8Array(length + 5);
      kernel.mask(pattern(length, 1), key, output, 5, length);
      oracleMask(pattern(length, 1), key, expected, 5, length);
      expect(output).toEqual(expected);
      const buffer = pattern(length + 2, 2);
      const reference = pattern(length + 2, 2);
      kernel.unmask(buffer, key, 2, length);
      oracleUnmask(reference, key, 2, length);
      expect(buffer).toEqual(reference);
    }
  });
});
