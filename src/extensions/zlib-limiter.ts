/**
 * A first-in first-out queue that lets at most `concurrency` zlib jobs run at once, as ws's Limiter.
 *
 * Why a limit at all: every asynchronous zlib call runs on libuv's small thread pool and allocates its
 * window and hash tables outside the V8 heap; thousands of connections inflating at once fragment that
 * memory badly (nodejs/node#8871, websockets/ws#1202). The pool is per process, so the limit is too:
 * `sharedZlibLimiter` hands every PerMessageDeflate the same instance, sized by the first one made,
 * exactly as ws does with its `concurrencyLimit` option.
 */

/** A job calls `done` exactly once, when its zlib work has finished (or was abandoned). */
export type ZlibJob = (done: () => void) => void;

/** ws's default `concurrencyLimit`. */
export const DEFAULT_CONCURRENCY_LIMIT = 10;

export class ZlibLimiter {
  /** The most jobs running at once; Infinity when built with 0 or nothing, as ws's `concurrency || Infinity`. */
  readonly concurrency: number;
  private running = 0;
  /** Waiting jobs are jobs[head..]; the consumed prefix is dropped once it is half the array. */
  private jobs: ZlibJob[] = [];
  private head = 0;
  /** Inside run(): a job that finishes synchronously must not recurse into it (10k of them would overflow). */
  private draining = false;
  /** One `done` for every job: a job costs no closure of ours. */
  private readonly done = (): void => {
    this.running--;
    if (!this.draining) this.run();
  };

  constructor(concurrency?: number) {
    this.concurrency = concurrency !== undefined && concurrency > 0 ? concurrency : Infinity;
  }

  /** Jobs running now. */
  get pending(): number {
    return this.running;
  }

  /** Jobs waiting for a place. */
  get queued(): number {
    return this.jobs.length - this.head;
  }

  /** Queues a job; it starts at once (synchronously) when a place is free. */
  add(job: ZlibJob): void {
    this.jobs.push(job);
    this.run();
  }

  private run(): void {
    this.draining = true;
    try {
      while (this.running < this.concurrency && this.head < this.jobs.length) {
        const job = this.jobs[this.head++];
        if (this.head * 2 >= this.jobs.length) {
          this.jobs = this.jobs.slice(this.head);
          this.head = 0;
        }
        this.running++;
        job(this.done);
      }
    } finally {
      this.draining = false;
    }
  }
}

let shared: ZlibLimiter | null = null;

/**
 * The process-wide limiter. The first call creates it with `concurrency` (default 10); later calls get
 * the same instance whatever they pass, as the first PerMessageDeflate's `concurrencyLimit` wins in ws.
 */
export function sharedZlibLimiter(concurrency: number = DEFAULT_CONCURRENCY_LIMIT): ZlibLimiter {
  shared ??= new ZlibLimiter(concurrency);
  return shared;
}
