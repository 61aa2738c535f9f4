/**
 * One coalesced timer structure for every connection (DESIGN.md: "One timer structure serves all
 * connections ... no setTimeout per connection"): a hashed timing wheel.
 *
 * Time is cut into ticks of `tickMs`; a timer lives in the slot of the tick it expires in
 * (deadline tick mod slot count), in an intrusive doubly linked list, so schedule and cancel are O(1)
 * and allocate nothing: the handle is the list node. Timers further away than one turn of the wheel
 * share a slot with nearer ones and are skipped until their own turn comes (their deadline is kept).
 *
 * A single unref'd setTimeout drives the wheel, armed for the next occupied slot and only while
 * timers exist, so an idle process neither wakes up nor is kept alive. A timer fires no earlier than
 * its delay and at most one tick after it.
 */

/** What a timer calls: a module-level function that reaches its connection through `target`. */
export type TimerCallback<T> = (target: T) => void;

/** deadlineTick of a timer that is due and about to fire in the current batch. */
const PENDING = -2;

/** The intrusive node: one per owner, reused for every schedule. Fields are the wheel's. */
export class TimerHandle<T = unknown> {
  /** @internal */ next: TimerHandle<T> | null = null;
  /** @internal */ prev: TimerHandle<T> | null = null;
  /** @internal */ deadlineTick = -1;
  /** @internal */ wheel: TimerWheel | null = null;

  constructor(
    readonly callback: TimerCallback<T>,
    readonly target: T,
  ) {}

  /** Whether the timer is scheduled and has not fired or been cancelled. */
  get active(): boolean {
    return this.wheel !== null || this.deadlineTick === PENDING;
  }
}

/** 512 slots of 20 ms: one turn is ~10 s; closeTimeout (30 s) takes three turns. */
export const DEFAULT_TICK_MS = 20;
export const DEFAULT_SLOTS = 512;

export class TimerWheel {
  private readonly slots: (TimerHandle | null)[];
  private readonly mask: number;
  /** The last tick whose slot was processed. */
  private cursor: number;
  private count = 0;
  private driver: NodeJS.Timeout | null = null;
  /** The tick the driver is armed for. */
  private armedTick = -1;
  private readonly onDriver = (): void => this.advance();
  /** The due timers of the slot being expired; reused. */
  private readonly firing: TimerHandle[] = [];

  /**
   * @param tickMs resolution in milliseconds.
   * @param slotCount a power of two.
   * @param now a monotonic clock in milliseconds (performance.now by default).
   */
  constructor(
    private readonly tickMs: number = DEFAULT_TICK_MS,
    slotCount: number = DEFAULT_SLOTS,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(tickMs > 0)) throw new RangeError('tickMs must be positive');
    if (slotCount < 2 || (slotCount & (slotCount - 1)) !== 0) throw new RangeError('slotCount must be a power of two');
    this.slots = new Array<TimerHandle | null>(slotCount).fill(null);
    this.mask = slotCount - 1;
    this.cursor = this.currentTick();
  }

  /** Timers scheduled and not yet fired or cancelled. */
  get size(): number {
    return this.count;
  }

  /** (Re)schedules `handle` to fire after `delayMs`; a scheduled handle is moved, not duplicated. */
  schedule<T>(handle: TimerHandle<T>, delayMs: number): void {
    if (handle.wheel !== null) this.cancel(handle);
    if (this.count === 0) this.cursor = this.currentTick();
    // Rounding up keeps the promise: never before `delayMs` has passed.
    const tick = Math.max(Math.ceil((this.now() + Math.max(0, delayMs)) / this.tickMs), this.cursor + 1);
    const node = handle as TimerHandle;
    const slot = tick & this.mask;
    node.deadlineTick = tick;
    node.wheel = this;
    node.prev = null;
    node.next = this.slots[slot];
    if (node.next !== null) node.next.prev = node;
    this.slots[slot] = node;
    this.count++;
    if (this.driver === null || tick < this.armedTick) this.arm(tick);
  }

  /** Unschedules `handle`; a handle that is not scheduled here is left alone. */
  cancel<T>(handle: TimerHandle<T>): void {
    if (handle.deadlineTick === PENDING) {
      handle.deadlineTick = -1;
      return;
    }
    if (handle.wheel !== this) return;
    const node = handle as TimerHandle;
    if (node.prev !== null) node.prev.next = node.next;
    else this.slots[node.deadlineTick & this.mask] = node.next;
    if (node.next !== null) node.next.prev = node.prev;
    node.next = node.prev = null;
    node.wheel = null;
    node.deadlineTick = -1;
    if (--this.count === 0) this.disarm();
  }

  private currentTick(): number {
    return Math.floor(this.now() / this.tickMs);
  }

  /** Fires every timer whose tick has come, then re-arms for the next occupied slot. */
  private advance(): void {
    this.driver = null;
    this.armedTick = -1;
    const nowTick = this.currentTick();
    // Timers a callback schedules from here on land after nowTick, in slots not visited below.
    const from = this.cursor;
    this.cursor = nowTick;
    // Past one turn every slot has been visited once; the deadline check catches the rest.
    const last = Math.min(nowTick, from + this.slots.length);
    for (let tick = from + 1; tick <= last && this.count > 0; tick++) this.expireSlot(tick & this.mask, nowTick);
    if (this.count > 0) this.arm(this.nextOccupiedTick());
  }

  /**
   * Detaches the due timers of a slot first, then fires them: a callback may schedule or cancel any
   * timer, including one of this batch (cancelled: it does not fire; rescheduled: it waits again).
   */
  private expireSlot(slot: number, nowTick: number): void {
    const batch = this.firing;
    let node = this.slots[slot];
    while (node !== null) {
      const next = node.next;
      if (node.deadlineTick <= nowTick) {
        this.cancel(node);
        node.deadlineTick = PENDING;
        batch.push(node);
      }
      node = next;
    }
    for (let i = 0; i < batch.length; i++) {
      const due = batch[i];
      if (due.deadlineTick !== PENDING) continue;
      due.deadlineTick = -1;
      due.callback(due.target);
    }
    batch.length = 0;
  }

  /** The first tick after the cursor whose slot holds a timer (a later turn's timer wakes us early). */
  private nextOccupiedTick(): number {
    for (let tick = this.cursor + 1; tick <= this.cursor + this.slots.length; tick++) {
      if (this.slots[tick & this.mask] !== null) return tick;
    }
    return this.cursor + this.slots.length;
  }

  private arm(tick: number): void {
    if (this.driver !== null) clearTimeout(this.driver);
    this.armedTick = tick;
    const delay = Math.max(0, tick * this.tickMs - this.now());
    this.driver = setTimeout(this.onDriver, Math.ceil(delay));
    this.driver.unref();
  }

  private disarm(): void {
    if (this.driver === null) return;
    clearTimeout(this.driver);
    this.driver = null;
    this.armedTick = -1;
  }
}

/** The wheel every connection shares. */
export const timerWheel = new TimerWheel();
