/**
 * Runs a test's server fixture in a process of its own (so that its memory is measured apart from
 * the clients'), with --expose-gc under tsx, and talks to it over the IPC channel: each request gets
 * one reply, in order. The fixture's first message says it listens. The process is killed when the
 * test ends (`onChild`), and a request pending when it dies fails with what it wrote to stderr.
 */
import { ChildProcess, spawn } from 'child_process';
import { join } from 'path';

const ROOT = join(__dirname, '..', '..');

export interface ServerProcess<Request, Reply> {
  /** The fixture's first message. */
  readonly ready: Reply;
  request(request: Request): Promise<Reply>;
}

export async function startServerProcess<Request, Reply>(
  fixture: string,
  args: readonly string[],
  onChild: (child: ChildProcess) => void,
): Promise<ServerProcess<Request, Reply>> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', fixture, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  onChild(child);
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const waiting: { resolve(reply: Reply): void; reject(error: Error): void }[] = [];
  child.on('message', (reply: Reply) => waiting.shift()?.resolve(reply));
  child.once('exit', (code, signal) => {
    const error = new Error(`the server process exited (${code ?? signal}): ${errors}`);
    for (const waiter of waiting.splice(0)) waiter.reject(error);
  });
  const next = () => new Promise<Reply>((resolve, reject) => waiting.push({ resolve, reject }));
  const ready = await next();
  return {
    ready,
    request(request) {
      const reply = next();
      child.send(request as object);
      return reply;
    },
  };
}
