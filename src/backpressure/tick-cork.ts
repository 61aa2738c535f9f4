/**
 * The end of the tick for pub/sub writes: one setImmediate writes every topic batch's open shares
 * (src/pubsub/topic-batch.ts), then uncorks every connection corked for the tick.
 *
 * A subscriber's share of one topic's publishes leaves as one write of one Buffer. A connection gets
 * more than one write in a tick only when its share was split (a direct send or a publish of another
 * topic came in between): the first split corks it for the tick, so the pieces and the sends between
 * them still leave in one writev, in call order (RFC 6455 section 5 frames, back to back on the wire).
 *
 * What a tick-corked socket holds is written early once it reaches the socket's highWaterMark
 * (`flushIfFull`), so corking never holds more than about one highWaterMark (16 KiB by default) per
 * connection, and `bufferedAmount` keeps meaning "bytes the peer has not taken yet" for the limits.
 */

/** What can be corked for the tick: a WebSocket (its socket may be gone once it closed). */
export interface TickCorkable {
  _tickCorked: boolean;
  _socket: { cork(): void; uncork(): void; writableLength: number; writableHighWaterMark: number } | null;
}

/** What has writes to make at the end of the tick: a topic batch. */
export interface TickFlushable {
  flushTick(): void;
}

const corked: TickCorkable[] = [];
const flushables: TickFlushable[] = [];
let scheduled = false;

function schedule(): void {
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushTick);
  }
}

/** Corks the connection's socket until the end of this tick (once per tick, however many writes). */
export function corkForTick(owner: TickCorkable): void {
  if (owner._tickCorked) return;
  const socket = owner._socket;
  if (socket === null) return;
  owner._tickCorked = true;
  socket.cork();
  corked.push(owner);
  schedule();
}

/** Writes what a tick-corked socket holds once it reaches its highWaterMark, and corks it again. */
export function flushIfFull(owner: TickCorkable): void {
  const socket = owner._socket;
  if (!owner._tickCorked || socket === null || socket.writableLength < socket.writableHighWaterMark) return;
  socket.uncork();
  socket.cork();
}

/** Calls `flushable.flushTick()` at the end of this tick, before the tick-corked sockets are uncorked. */
export function flushAtTickEnd(flushable: TickFlushable): void {
  flushables.push(flushable);
  schedule();
}

/** The end of the tick: the batches' writes, then one uncork per corked socket (one writev of its share). */
function flushTick(): void {
  scheduled = false;
  // Writing and uncorking run no user code (write callbacks are deferred by the stream), so the lists are stable.
  for (let i = 0; i < flushables.length; i++) flushables[i].flushTick();
  flushables.length = 0;
  for (let i = 0; i < corked.length; i++) {
    const owner = corked[i];
    owner._tickCorked = false;
    // A socket that was ended meanwhile was uncorked by end(); a second uncork does nothing.
    if (owner._socket !== null) owner._socket.uncork();
  }
  corked.length = 0;
}
