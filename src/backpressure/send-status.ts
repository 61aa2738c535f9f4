/**
 * What sendWithStatus and a publish report for one connection, with uWebSockets.js's values, so code
 * ported from it keeps its comparisons.
 */

/** Sent, but the connection is now over its limit: wait for 'drain' before sending more. */
export const SEND_BACKPRESSURE = 0;
/** Sent, and the connection is under its limit. */
export const SEND_SUCCESS = 1;
/** Not sent: the connection was over maxBackpressure, or not open. */
export const SEND_DROPPED = 2;

export type SendStatusValue = typeof SEND_BACKPRESSURE | typeof SEND_SUCCESS | typeof SEND_DROPPED;

/** The three results by name: `if (ws.sendWithStatus(data) === SendStatus.BACKPRESSURE) …`. */
export const SendStatus = Object.freeze({
  BACKPRESSURE: SEND_BACKPRESSURE,
  SUCCESS: SEND_SUCCESS,
  DROPPED: SEND_DROPPED,
} as const);

/**
 * What a publish does for a subscriber found over maxBackpressure (a slow consumer):
 * - 'drop': the message is not sent to it (counted in backpressureStats.dropped);
 * - 'close': the connection is closed with 1008 (policy violation, RFC 6455 section 7.4.1);
 * - 'conflate': a message published with a `conflationKey` is held, replacing the one held with the
 *   same key (counted in backpressureStats.conflated), and the held messages are written, latest
 *   value per key, once the connection drains; a message without a key is dropped.
 */
export type SlowConsumerPolicy = 'drop' | 'close' | 'conflate';

/** The options that turn the limits on (server options, also read by the WebSocket constructor). */
export interface BackpressureOptions {
  /**
   * Bytes a connection may have buffered (`bufferedAmount`) before sends to it are dropped and its
   * reading is paused until it drains. 0 = no limit, as ws. Default 0. uWebSockets.js: maxBackpressure.
   */
  maxBackpressure?: number;
  /**
   * Close a connection with 1008 instead of dropping a send once it is over maxBackpressure.
   * Default false. uWebSockets.js: closeOnBackpressureLimit.
   */
  closeOnBackpressureLimit?: boolean;
  /**
   * The publish policy for subscribers over maxBackpressure; each connection can change its own
   * (`ws.slowConsumerPolicy`). Default 'close' with closeOnBackpressureLimit, else 'drop'.
   */
  slowConsumerPolicy?: SlowConsumerPolicy;
}

/** What backpressureStats reports (a snapshot). */
export interface BackpressureStats {
  /** Sends and published messages not sent because the connection was over maxBackpressure. */
  readonly dropped: number;
  /** Held published messages replaced by a newer one with the same conflation key. */
  readonly conflated: number;
  /** Published messages held now, waiting for the connection to drain. */
  readonly held: number;
  /** Over its limit and waiting for 'drain'. */
  readonly backpressured: boolean;
  /** Reading from the socket is paused because the connection is over maxBackpressure. */
  readonly readingPaused: boolean;
}
