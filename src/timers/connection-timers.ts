/**
 * Idle timeout, automatic pings and maximum lifetime of one connection, on the timer wheel every
 * connection shares (DESIGN.md: "One timer structure serves all connections ... no setTimeout per
 * connection"): 100,000 idle connections are 100,000 wheel nodes and one Node timer.
 *
 * The semantics are uWebSockets.js's; all of it is off by default, so a ws user sees no change.
 * - idleTimeout (seconds): only what the peer sends counts; what we send does not. A connection that
 *   receives nothing for that long is dropped without a closing handshake, as uWebSockets.js drops
 *   it: the peer is silent or gone, and a close frame would only keep the socket for closeTimeout
 *   more. 'close' reports 1006 (RFC 6455 section 7.1.5: closed without a close frame).
 * - sendPingsAutomatically: once the connection has been idle for most of idleTimeout, a ping is sent
 *   (section 5.5.2); a live peer must answer with a pong (5.5.3), whose arrival resets idleness. The
 *   peer always gets the whole margin to answer, even when the ping went out late.
 * - maxLifetime (minutes): an open connection that old starts the closing handshake with 1000
 *   'please reconnect' (section 7.1.2, uWebSockets.js's code and reason); closeTimeout then applies.
 *
 * Idleness is a timestamp written once per inbound chunk; the wheel timer is moved only when it
 * fires, so the data path never touches the wheel.
 */
import { TimerHandle, TimerWheel, timerWheel } from './timer-wheel';

/** The options, as the server (and the client) accept them. */
export interface ConnectionTimerOptions {
  /**
   * Seconds without receiving anything (any frame, pongs included; sending does not count) after
   * which the connection is dropped without a closing handshake ('close' reports 1006). 0 is off.
   * Resolution: one wheel tick (20 ms). Default: 0 (off). Not in ws; uWebSockets.js's `idleTimeout`
   * (whose default there is 120).
   */
  idleTimeout?: number;
  /**
   * With idleTimeout: ping a connection that has been idle for most of idleTimeout (a quarter of it
   * before the deadline, at most 16 s before), so a live peer answers with a pong and stays open. The
   * pong is emitted as 'pong' as usual. No effect when idleTimeout is 0. Default: false. Not in ws;
   * uWebSockets.js's `sendPingsAutomatically` (whose default there is true).
   */
  sendPingsAutomatically?: boolean;
  /**
   * Minutes after which an open connection is closed with 1000 'please reconnect' (then closeTimeout
   * applies). Fractions are allowed. 0 is off. Default: 0 (off). Not in ws; uWebSockets.js's
   * `maxLifetime`.
   */
  maxLifetime?: number;
}

/** What the timers need from a connection: the WebSocket, or a stand-in in tests. */
export interface TimedConnection {
  readonly readyState: number;
  ping(): void;
  close(code: number, reason: string): void;
  terminate(): void;
}

/** The wheel and the clock it runs on; both must be the same time base. */
export interface TimerClock {
  readonly wheel: TimerWheel;
  now(): number;
}

/** The shared wheel, on its default clock (performance.now). */
export const sharedClock: TimerClock = { wheel: timerWheel, now: () => performance.now() };

/** uWebSockets.js closes an over-age connection with these. */
export const MAX_LIFETIME_CLOSE_CODE = 1000;
export const MAX_LIFETIME_CLOSE_REASON = 'please reconnect';
/** The longest a peer is given to answer an automatic ping, in milliseconds (uWebSockets.js: 16 s). */
export const MAX_PONG_WAIT_MS = 16_000;

/** WebSocket.OPEN: timers act only on open connections; closing is closeTimeout's business. */
const OPEN = 1;

/**
 * The durations and the clock: the same for every connection of a server, so one object for all of
 * them (see settingsFor), not four fields on each.
 */
interface TimerSettings {
  /** Idle time after which the connection is dropped; 0 is off. */
  readonly idleMs: number;
  /** Idle time after which a ping is sent; equal to idleMs when pings are off. */
  readonly pingAfterMs: number;
  /** Age at which the connection is closed; 0 is off. */
  readonly lifetimeMs: number;
  readonly clock: TimerClock;
}

/** The settings made last: the next connection of the same server finds its own here. */
let lastSettings: TimerSettings | null = null;

function settingsFor(idleMs: number, pingAfterMs: number, lifetimeMs: number, clock: TimerClock): TimerSettings {
  const last = lastSettings;
  if (
    last !== null &&
    last.idleMs === idleMs &&
    last.pingAfterMs === pingAfterMs &&
    last.lifetimeMs === lifetimeMs &&
    last.clock === clock
  ) {
    return last;
  }
  lastSettings = { idleMs, pingAfterMs, lifetimeMs, clock };
  return lastSettings;
}

/** The per-connection state: one small object and one or two wheel nodes; no closures. */
export class ConnectionTimers {
  /** clock.now() when the last chunk arrived (or when the timers started). */
  private lastInbound = 0;
  /** An automatic ping went out and nothing has arrived since. */
  private awaitingPong = false;
  private readonly idle: TimerHandle<ConnectionTimers> | null;
  private readonly lifetime: TimerHandle<ConnectionTimers> | null;

  constructor(
    readonly connection: TimedConnection,
    private readonly settings: TimerSettings,
  ) {
    this.idle = settings.idleMs > 0 ? new TimerHandle<ConnectionTimers>(onIdleTimer, this) : null;
    this.lifetime = settings.lifetimeMs > 0 ? new TimerHandle<ConnectionTimers>(onLifetimeTimer, this) : null;
  }

  /** The connection is open: idleness and age count from now. */
  start(): void {
    const { clock, pingAfterMs, lifetimeMs } = this.settings;
    this.lastInbound = clock.now();
    this.awaitingPong = false;
    if (this.idle !== null) clock.wheel.schedule(this.idle, pingAfterMs);
    if (this.lifetime !== null) clock.wheel.schedule(this.lifetime, lifetimeMs);
  }

  /** Bytes arrived: the connection is not idle. Called once per inbound chunk. */
  touch(): void {
    this.lastInbound = this.settings.clock.now();
    this.awaitingPong = false;
  }

  /** The socket closed: no wheel node is left behind. */
  stop(): void {
    const wheel = this.settings.clock.wheel;
    if (this.idle !== null) wheel.cancel(this.idle);
    if (this.lifetime !== null) wheel.cancel(this.lifetime);
  }

  /** @internal The idle timer fired: wait longer, ping, or drop the connection. */
  idleExpired(): void {
    const connection = this.connection;
    if (connection.readyState !== OPEN) return;
    const { clock, idleMs, pingAfterMs } = this.settings;
    const idleFor = clock.now() - this.lastInbound;
    const wheel = clock.wheel;
    const idle = this.idle as TimerHandle<ConnectionTimers>;
    if (idleFor < pingAfterMs) {
      wheel.schedule(idle, pingAfterMs - idleFor);
    } else if (pingAfterMs < idleMs && !this.awaitingPong) {
      this.awaitingPong = true;
      wheel.schedule(idle, idleMs - pingAfterMs);
      connection.ping();
    } else {
      connection.terminate();
    }
  }

  /** @internal The lifetime timer fired. */
  lifetimeExpired(): void {
    if (this.connection.readyState === OPEN) this.connection.close(MAX_LIFETIME_CLOSE_CODE, MAX_LIFETIME_CLOSE_REASON);
  }
}

function onIdleTimer(timers: ConnectionTimers): void {
  timers.idleExpired();
}

function onLifetimeTimer(timers: ConnectionTimers): void {
  timers.lifetimeExpired();
}

/** Throws on a value the options cannot mean, so a server fails at construction, not per connection. */
export function validateConnectionTimerOptions(options: ConnectionTimerOptions): void {
  checkDuration('idleTimeout', options.idleTimeout);
  checkDuration('maxLifetime', options.maxLifetime);
  const pings = options.sendPingsAutomatically;
  if (pings !== undefined && typeof pings !== 'boolean') {
    throw new TypeError('The "sendPingsAutomatically" option must be a boolean');
  }
}

function checkDuration(name: string, value: number | undefined): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`The "${name}" option must be a finite number >= 0 (0 is off)`);
  }
}

/**
 * The timers a connection needs, or null when every option is off (the ws default): a connection
 * without them costs one field. Throws as validateConnectionTimerOptions does.
 */
export function createConnectionTimers(
  connection: TimedConnection,
  options: ConnectionTimerOptions,
  clock: TimerClock = sharedClock,
): ConnectionTimers | null {
  validateConnectionTimerOptions(options);
  const idleMs = (options.idleTimeout ?? 0) * 1000;
  const lifetimeMs = (options.maxLifetime ?? 0) * 60_000;
  if (idleMs === 0 && lifetimeMs === 0) return null;
  const pongWaitMs = options.sendPingsAutomatically === true ? Math.min(idleMs / 4, MAX_PONG_WAIT_MS) : 0;
  return new ConnectionTimers(connection, settingsFor(idleMs, idleMs - pongWaitMs, lifetimeMs, clock));
}
