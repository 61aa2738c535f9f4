/**
 * The orchestrator's end of bench/alloc/heap-probe.js: one Unix-socket connection to the probe inside
 * a server, one command at a time, each answered by one JSON line.
 */
import net from 'node:net';
import readline from 'node:readline';

/** What heap-probe.js's `reading()` returns. */
export interface HeapReading {
  /** v8.getHeapStatistics().used_heap_size: every space of the JS heap. */
  readonly usedHeap: number;
  /** v8.getHeapStatistics().external_memory: ArrayBuffer backing stores and other external bytes V8 is told of. */
  readonly externalMemory: number;
  /** process.memoryUsage().arrayBuffers: the backing stores alone. */
  readonly arrayBuffers: number;
  readonly spaces: Readonly<Record<string, { readonly used: number; readonly available: number }>>;
}

export interface WindowEndReading extends HeapReading {
  /** The type of every collection since the baseline (V8's GCProfiler); empty for a clean window. */
  readonly collections: readonly string[] | null;
}

export interface BufferAllocCost {
  readonly heapPerCall: number;
  readonly externalPerCall: number;
  readonly collections: readonly string[];
}

export interface AllocationSites {
  readonly totalBytes: number;
  readonly sites: readonly { readonly site: string; readonly bytes: number }[];
}

const ANSWER_TIMEOUT_MS = 30_000;
const CONNECT_ATTEMPTS = 50;
const CONNECT_RETRY_MS = 100;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class ProbeClient {
  private readonly answers: string[] = [];
  private waiting: ((line: string) => void) | null = null;

  private constructor(private readonly socket: net.Socket) {
    readline.createInterface({ input: socket }).on('line', (line) => {
      if (this.waiting === null) this.answers.push(line);
      else this.waiting(line);
    });
  }

  /** The probe listens before the server script runs, so by "ready" it is there; retries cover a slow start. */
  static async connect(socketPath: string): Promise<ProbeClient> {
    let lastError: unknown = null;
    for (let attempt = 0; attempt < CONNECT_ATTEMPTS; attempt++) {
      try {
        const socket = await new Promise<net.Socket>((resolve, reject) => {
          const candidate = net.connect(socketPath, () => resolve(candidate));
          candidate.once('error', reject);
        });
        return new ProbeClient(socket);
      } catch (error) {
        lastError = error;
        await sleep(CONNECT_RETRY_MS);
      }
    }
    throw new Error(`cannot reach the heap probe at ${socketPath}`, { cause: lastError });
  }

  private nextLine(): Promise<string> {
    const queued = this.answers.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        reject(new Error('the heap probe did not answer'));
      }, ANSWER_TIMEOUT_MS);
      this.waiting = (line) => {
        clearTimeout(timer);
        this.waiting = null;
        resolve(line);
      };
    });
  }

  private async ask<T>(command: string): Promise<T> {
    this.socket.write(`${command}\n`);
    const answer = JSON.parse(await this.nextLine()) as { ok: boolean; result?: T; error?: string };
    if (!answer.ok) throw new Error(`heap probe: ${command}: ${answer.error ?? 'failed'}`);
    return answer.result as T;
  }

  baseline(): Promise<HeapReading> {
    return this.ask('baseline');
  }

  read(): Promise<WindowEndReading> {
    return this.ask('read');
  }

  bufferAllocCost(bytes: number, count: number): Promise<BufferAllocCost> {
    return this.ask(`buffer-alloc ${bytes} ${count}`);
  }

  async profileStart(): Promise<void> {
    await this.ask('profile-start');
  }

  profileStop(): Promise<AllocationSites> {
    return this.ask('profile-stop');
  }

  close(): void {
    this.socket.destroy();
  }
}
