/**
 * Compress once for many. When a sender starts every message from an empty LZ77 window (it agreed to
 * server_no_context_takeover, RFC 7692 section 7.1.1.1, or client_no_context_takeover as a client),
 * a compressed message depends only on its bytes and on the deflate settings: the same payload is
 * valid for every connection with the same settings. A message sent to many connections is then
 * deflated once per distinct profile, not once per connection, and all share the one Buffer.
 *
 * The payload is what PerMessageDeflate#compress gives for a whole message: deflate with a sync flush,
 * the trailing 0x00 0x00 0xff 0xff removed (section 7.2.1); the frame that carries it gets RSV1.
 */
import * as zlib from 'zlib';
import { PerMessageDeflate, deflateWindowBits, ownNoContextTakeover } from './permessage-deflate';
import { ZlibLimiter, sharedZlibLimiter } from './zlib-limiter';

/** Everything that changes deflate's output for a message compressed from an empty window. */
export interface DeflateProfile {
  /** 9-15: the negotiated window, with 8 raised to 9 as zlib requires (see deflateWindowBits). */
  readonly windowBits: number;
  /** 0-9; zlib's default (-1) is written as the 6 it stands for. */
  readonly level: number;
  /** 1-9. */
  readonly memLevel: number;
  readonly strategy: number;
}

export type SharedCallback = (error: Error | null, payload?: Buffer) => void;

const DEFAULT_LEVEL = 6;
const DEFAULT_MEM_LEVEL = 8;
/** Section 7.2.1: the sync flush's empty stored block, removed from the end of the message. */
const TRAILER_LENGTH = 4;

/**
 * The profile `connection` compresses with, or null when its messages cannot be shared: nothing was
 * negotiated, its own side keeps context between messages (each message then depends on those before
 * it), or its zlibDeflateOptions carry a preset dictionary.
 */
export function deflateProfile(connection: PerMessageDeflate): DeflateProfile | null {
  const params = connection.params;
  if (params === null || !ownNoContextTakeover(params, connection.isServer)) return null;
  const options = connection.options.zlibDeflateOptions ?? {};
  if (options.dictionary !== undefined) return null;
  const level = options.level ?? zlib.constants.Z_DEFAULT_COMPRESSION;
  return {
    windowBits: deflateWindowBits(params, connection.isServer),
    level: level === zlib.constants.Z_DEFAULT_COMPRESSION ? DEFAULT_LEVEL : level,
    memLevel: options.memLevel ?? DEFAULT_MEM_LEVEL,
    strategy: options.strategy ?? zlib.constants.Z_DEFAULT_STRATEGY,
  };
}

/** Two profiles with the same key give byte-identical payloads. */
export function profileKey(profile: DeflateProfile): string {
  return `${profile.windowBits}:${profile.level}:${profile.memLevel}:${profile.strategy}`;
}

function zlibOptions(profile: DeflateProfile): zlib.ZlibOptions {
  return {
    windowBits: profile.windowBits,
    level: profile.level,
    memLevel: profile.memLevel,
    strategy: profile.strategy,
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  };
}

interface Entry {
  payload: Buffer | null;
  error: Error | null;
  /** Callbacks waiting for the payload; null once it is built. */
  waiting: SharedCallback[] | null;
}

/** One message, deflated at most once per profile however many connections send it. */
export class SharedDeflate {
  readonly data: Buffer;
  private readonly entries = new Map<string, Entry>();

  constructor(
    data: Buffer | string,
    private readonly limiter: ZlibLimiter = sharedZlibLimiter(),
  ) {
    this.data = typeof data === 'string' ? Buffer.from(data) : data;
  }

  /** Distinct profiles deflated (or being deflated) so far. */
  get builds(): number {
    return this.entries.size;
  }

  /**
   * The payload for `profile`: the first request deflates on the thread pool, through the process-wide
   * zlib limiter; the others wait for it or get it at once. The callback always runs asynchronously.
   */
  compress(profile: DeflateProfile, callback: SharedCallback): void {
    const key = profileKey(profile);
    const entry = this.entries.get(key);
    if (entry === undefined) {
      this.entries.set(key, { payload: null, error: null, waiting: [callback] });
      this.limiter.add((done) => {
        zlib.deflateRaw(this.data, zlibOptions(profile), (error, output) => {
          done();
          this.settle(key, error, output);
        });
      });
    } else if (entry.waiting !== null) {
      entry.waiting.push(callback);
    } else {
      process.nextTick(callback, entry.error, entry.payload ?? undefined);
    }
  }

  /**
   * The same payload built on this thread: for small messages fanned out within one tick, where a trip
   * to the thread pool costs more than deflating. Shares (and fills) the same cache as `compress`.
   */
  compressSync(profile: DeflateProfile): Buffer {
    const key = profileKey(profile);
    const entry = this.entries.get(key);
    if (entry !== undefined && entry.payload !== null) return entry.payload;
    const payload = stripTrailer(zlib.deflateRawSync(this.data, zlibOptions(profile)));
    // A deflate still on the thread pool will hand its waiters this payload, not its own copy.
    if (entry === undefined) this.entries.set(key, { payload, error: null, waiting: null });
    else entry.payload = payload;
    return payload;
  }

  private settle(key: string, error: Error | null, output: Buffer): void {
    const entry = this.entries.get(key) as Entry;
    const waiting = entry.waiting ?? [];
    entry.waiting = null;
    if (entry.payload === null) {
      if (error !== null) entry.error = error;
      else entry.payload = stripTrailer(output);
    }
    for (const callback of waiting) callback(entry.payload === null ? entry.error : null, entry.payload ?? undefined);
  }
}

function stripTrailer(output: Buffer): Buffer {
  return output.subarray(0, output.length - TRAILER_LENGTH);
}
