/**
 * The C load generator as a tap that can be closed: it runs with no end of its own (pinned to the
 * generator's core, as in the load benchmark), and SIGSTOP / SIGCONT to its PID stop and restart the
 * traffic, so the server can be read while it is idle between windows. It is ended by its PID.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { GENERATOR_CORE, tasksetWorks } from '../load/processes';

/** Longer than any measurement: the generator is killed when the measurement is done. */
const OPEN_ENDED_SECONDS = 3600;

const running = new Set<ChildProcess>();

/** Kills every generator still running, by PID: for an interrupted run. */
export function endAllGenerators(): void {
  for (const child of running) if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
}

export class PausedGenerator {
  private stderrText = '';
  private exited: string | null = null;

  private constructor(private readonly child: ChildProcess) {
    running.add(child);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderrText = (this.stderrText + chunk).slice(-4000);
    });
    child.on('exit', (code, signal) => {
      running.delete(child);
      this.exited = `exited (${signal ?? code})`;
    });
    child.on('error', (error) => {
      this.exited = `could not run (${error.message})`;
    });
  }

  /** Starts sending at once (no warmup phase of its own: the caller decides what is warmup). */
  static start(binary: string, workloadArgs: readonly string[], port: number): PausedGenerator {
    const args = [...workloadArgs, '--port', String(port), '--warmup', '0', '--duration', String(OPEN_ENDED_SECONDS)];
    const command = tasksetWorks() ? ['taskset', '-c', String(GENERATOR_CORE), binary, ...args] : [binary, ...args];
    const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    return new PausedGenerator(child);
  }

  private signal(signal: NodeJS.Signals): void {
    this.assertRunning();
    process.kill(this.child.pid as number, signal);
  }

  /** Throws with the generator's complaint if it has stopped by itself (a broken server is fatal to it). */
  assertRunning(): void {
    if (this.exited !== null) throw new Error(`the load generator ${this.exited}${this.stderrText === '' ? '' : `: ${this.stderrText.trim()}`}`);
  }

  pause(): void {
    this.signal('SIGSTOP');
  }

  resume(): void {
    this.signal('SIGCONT');
  }

  /** SIGKILL: a stopped process leaves other signals pending until it is continued. */
  end(): Promise<void> {
    if (this.exited !== null || this.child.pid === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      process.kill(this.child.pid as number, 'SIGKILL');
    });
  }
}
