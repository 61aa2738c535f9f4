/**
 * Per-tick corking. A connection written to by a publish is corked on the first write of the tick,
 * and every corked connection is uncorked by one setImmediate at the end of the tick, so a
 * subscriber's share of the tick's publishes (and any direct send in between, in order) leaves in
 * one writev (RFC 6455 section 5 frames, back to back on the wire).
 *
 * A share that reaches the socket's highWaterMark is flushed early (`flushIfFull`), so corking
 * never holds more than about one highWaterMark (16 KiB by default) per connection, and
 * `bufferedAmount` keeps meaning "bytes the peer has not taken yet" for the backpressure limits.
 */

/** What can be corked for the tick: a WebSocket (its socket may be gone once it closed). */
export interface TickCorkable {
  _tickCorked: boolean;
  _socket: { cork(): void; uncork(): void; writableLength: number; writableHighWaterMark: number } | null;
}

const corked: TickCorkable[] = [];
let scheduled = false;

/** Corks the connection's socket until the end of this tick (once per tick, however many writes). */
export function corkForTick(owner: TickCorkable): void {
  if (owner._tickCorked) return;
  const socket = owner._socket;
  if (socket === null) return;
  owner._tickCorked = true;
  socket.cork();
  corked.push(owner);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushTick);
  }
}

/** Writes what a tick-corked socket holds once it reaches its highWaterMark, and corks it again. */
export function flushIfFull(owner: TickCorkable): void {
  const socket = owner._socket;
  if (!owner._tickCorked || socket === null || socket.writableLength < socket.writableHighWaterMark) return;
  socket.uncork();
  socket.cork();
}

/** The end of the tick: one uncork per corked socket, each one writev of its share. */
function flushTick(): void {
  scheduled = false;
  // Uncorking runs no user code (write callbacks are deferred by the stream), so the list is stable.
  for (let i = 0; i < corked.length; i++) {
    const owner = corked[i];
    owner._tickCorked = false;
    // A socket that was ended meanwhile was uncorked by end(); a second uncork does nothing.
    if (owner._socket !== null) owner._socket.uncork();
  }
  corked.length = 0;
}
