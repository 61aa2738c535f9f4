/**
 * A FIFO of events that a test awaits one at a time. Events that arrive before anyone waits are
 * kept, so a test never races the peer it drives.
 */
export class EventQueue<T> {
  private readonly items: T[] = [];
  private readonly waiters: ((item: T) => void)[] = [];

  push(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter === undefined) this.items.push(item);
    else waiter(item);
  }

  next(): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift() as T);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Events received and not yet taken by next(). */
  get pending(): number {
    return this.items.length;
  }
}
