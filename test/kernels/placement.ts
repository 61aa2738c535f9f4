/**
 * Places test bytes inside a larger ArrayBuffer, at a chosen byteOffset and start index, with
 * pseudo-random guard bytes all around. A kernel must give the same answer wherever the bytes sit
 * (alignment is where word and SIMD loops go wrong) and must leave every guard byte as it was: the
 * contract allows reading and writing only chunk[start..end).
 */
import { expect } from 'vitest';

/** Guard bytes past the end of the view, so even a write past the view itself is seen. */
const TAIL_GUARD = 16;

export interface Layout {
  /** byteOffset of the view inside its ArrayBuffer. */
  viewOffset: number;
  /** Bytes of the view before `start`. */
  lead: number;
  /** Bytes of the view after `end`. */
  trail: number;
  /** A Node Buffer view instead of a plain Uint8Array (the native tier works on both). */
  asBuffer?: boolean;
}

export interface Placed {
  /** The whole ArrayBuffer, guards included: compare this to see every byte a kernel touched. */
  arena: Uint8Array;
  /** What the kernel is given. */
  view: Uint8Array;
  start: number;
  end: number;
}

/** xorshift32: fast, seeded, good enough to make guard and payload bytes look random. */
export function fillPseudoRandom(target: Uint8Array, seed: number): void {
  let state = seed | 0 || 0x9e3779b9;
  for (let i = 0; i < target.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    target[i] = state & 0xff;
  }
}

export function place(bytes: Uint8Array, layout: Layout, guardSeed = 0x5eed): Placed {
  const viewLength = layout.lead + bytes.length + layout.trail;
  const buffer = new ArrayBuffer(layout.viewOffset + viewLength + TAIL_GUARD);
  const arena = new Uint8Array(buffer);
  fillPseudoRandom(arena, guardSeed);
  arena.set(bytes, layout.viewOffset + layout.lead);
  const view = layout.asBuffer
    ? Buffer.from(buffer, layout.viewOffset, viewLength)
    : new Uint8Array(buffer, layout.viewOffset, viewLength);
  return { arena, view, start: layout.lead, end: layout.lead + bytes.length };
}

/** An identical, independent copy, so a tier and the oracle can each work on their own. */
export function clonePlaced(placed: Placed): Placed {
  const arena = placed.arena.slice();
  const view = new Uint8Array(arena.buffer, placed.view.byteOffset, placed.view.length);
  return { arena, view, start: placed.start, end: placed.end };
}

/** The first index where the two differ (or where one ends), -1 when they are equal. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : length;
}

export function expectSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  expect(firstDifference(actual, expected), `first differing byte of ${what}`).toBe(-1);
}
