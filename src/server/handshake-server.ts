/**
 * The listener a WebSocketServer owns in `port` mode: a `net.Server` that reads each connection's
 * request head with the strict parser in handshake/request-head.ts and emits 'upgrade' (req, socket,
 * head) as http.Server does, so the WebSocketServer attaches to either the same way.
 *
 * Why not http.Server: measured in bench/RESULTS.md (load section, handshakes and idle-memory rows),
 * Node's HTTP machinery (parser from a pool, IncomingMessage/ServerResponse bookkeeping, the
 * connections list it sweeps for timeouts) costs more per handshake than the handshake itself. A
 * WebSocket server needs none of it: one request per connection, no body, then the socket is ours.
 *
 * Behaviour kept from http.Server: a request without `Connection: upgrade` and an Upgrade header is an
 * ordinary request, answered 426 as ws answers them; a head over 16 KiB gets 431; a malformed head 400
 * (RFC 9112 section 5.2 for folding) or 505; a head that does not arrive within 60 s (Node's
 * headersTimeout) ends the connection; `close()` also ends the connections still sending their head
 * (as http.Server#close ends idle ones). Differences: every refusal closes the connection (no
 * keep-alive), and requests with a body (Content-Length other than 0, or Transfer-Encoding) are
 * refused with 400: an opening handshake has none (RFC 6455 section 4.1), and refusing them leaves
 * no room for request smuggling.
 */
import { Server, Socket } from 'net';
import { abortHandshake } from '../handshake/abort-handshake';
import { headerListHas } from '../handshake/header-list';
import { handshakeFields } from '../handshake/handshake-fields';
import { MAX_HEAD_BYTES, findHeadEnd, parseRequestHead } from '../handshake/request-head';
import { TimerHandle } from '../timers/timer-wheel';
import { TimerClock, sharedClock } from '../timers/connection-timers';
import { PortModeRequest } from './port-mode-request';

/** Node's default http.Server headersTimeout: a slow sender (slowloris) is cut off after this. */
export const HEAD_TIMEOUT_MS = 60_000;

/**
 * Request heads handled in one turn of the event loop; the rest wait for the next turn, their sockets
 * unread. Under a flood of upgrade requests, a turn would otherwise handle every head that arrived
 * (about 100 µs each with the refusal's write and close), and the established connections' messages,
 * read once per turn, would wait behind all of them. Measured in bench/RESULTS.md (upgrade-flood).
 */
export const HEADS_PER_TURN = 8;

/** ws's answer to an ordinary HTTP request on a server it created (RFC 9110 section 15.5.22). */
const UPGRADE_REQUIRED_HEADERS = { 'Content-Type': 'text/plain' } as const;

/** A connection whose request head is still arriving. */
class PendingHead {
  /**
   * The bytes received so far when the head spans several chunks; null while it fits in one. A head
   * waiting for its turn keeps here what arrived, head and all.
   */
  received: Buffer | null = null;
  /** Where the head ends in `received`, once complete: -1 while it is still arriving. */
  headEnd = -1;
  readonly timer: TimerHandle<PendingHead>;
  /** The server's list of pending heads (HandshakeServer.firstPending), until forgotten. */
  previous: PendingHead | null = null;
  next: PendingHead | null = null;

  constructor(
    readonly server: HandshakeServer,
    readonly socket: Socket,
  ) {
    this.timer = new TimerHandle<PendingHead>(PendingHead.onTimeout, this);
  }

  private static onTimeout(pending: PendingHead): void {
    pending.server.forget(pending);
    pending.socket.destroy();
  }
}

/**
 * Where a socket keeps its PendingHead until the head is handled. Not a WeakMap: V8 processes a
 * WeakMap's entries with young keys in every scavenge, and under an upgrade flood that made each
 * scavenge about 0.4 ms longer (a mean of 1.5 against 1.1 ms, --trace-gc-nvp, C flood; bench/RESULTS.md,
 * "Port mode under an upgrade flood: scavenges"), time the established connections wait for.
 */
const kPendingHead = Symbol('pendingHead');
type PendingSocket = Socket & { [kPendingHead]?: PendingHead };

/** Whether the connection still waits for its head to be handled: forget() has not run. */
function isPending(pending: PendingHead): boolean {
  return (pending.socket as PendingSocket)[kPendingHead] === pending;
}

function socketOnData(this: PendingSocket, chunk: Buffer): void {
  const pending = this[kPendingHead] as PendingHead;
  const previous = pending.received;
  const data = previous === null ? chunk : Buffer.concat([previous, chunk]);
  const end = findHeadEnd(data, previous === null ? 0 : previous.length - 3);
  if (end === -1) {
    if (data.length >= MAX_HEAD_BYTES) return pending.server.refuse(pending, 431);
    pending.received = data;
    return;
  }
  if (end > MAX_HEAD_BYTES) return pending.server.refuse(pending, 431);
  pending.server.headComplete(pending, data, end);
}

/** A socket error or an early end before the upgrade ends only that connection. */
function socketOnErrorOrEnd(this: PendingSocket): void {
  const pending = this[kPendingHead];
  if (pending !== undefined) pending.server.forget(pending);
  this.destroy();
}

export class HandshakeServer extends Server {
  /**
   * The connections whose head is still arriving or waiting for a turn, as an intrusive list through
   * PendingHead. Not a Set: under an upgrade flood (thousands added and deleted a second), a Set made
   * every scavenge copy about 230 KB more and take 0.45 ms longer (2.0 against 1.55 ms, measured with
   * --trace-gc-nvp under the C flood; bench/RESULTS.md, "Port mode under an upgrade flood: scavenges"),
   * time the established connections wait for.
   */
  private firstPending: PendingHead | null = null;
  /** Complete heads waiting for a turn with room (HEADS_PER_TURN), oldest first. */
  private readonly waiting: PendingHead[] = [];
  /** Heads handled since the turn began; the turn ends with the check phase (setImmediate). */
  private headsThisTurn = 0;
  private readonly endTurn = (): void => {
    this.headsThisTurn = 0;
    this.handleWaiting();
  };

  /** @param clock the timer wheel for the head timeout (a test passes a fake one). */
  constructor(private readonly clock: TimerClock = sharedClock) {
    super({ noDelay: true });
    this.on('connection', this.onConnection);
  }

  /** Stops listening and ends the connections that have not finished their request head. */
  override close(callback?: (error?: Error) => void): this {
    super.close(callback);
    while (this.firstPending !== null) {
      const pending = this.firstPending;
      this.forget(pending);
      pending.socket.destroy();
    }
    return this;
  }

  /** @internal */
  forget(pending: PendingHead): void {
    this.clock.wheel.cancel(pending.timer);
    // unlist checks the socket still points here (isPending), so it goes before that is cleared.
    this.unlist(pending);
    (pending.socket as PendingSocket)[kPendingHead] = undefined;
    pending.socket.removeListener('data', socketOnData);
    pending.socket.removeListener('error', socketOnErrorOrEnd);
    pending.socket.removeListener('end', socketOnErrorOrEnd);
  }

  /** @internal */
  refuse(pending: PendingHead, status: number, message?: string): void {
    this.forget(pending);
    // The rest of what the client sends is not read: the socket is destroyed once the answer is out.
    pending.socket.on('error', socketOnErrorOrEnd);
    abortHandshake(pending.socket, status, message);
  }

  /** @internal Handles the head now if this turn has room, else stops reading its socket until one does. */
  headComplete(pending: PendingHead, data: Buffer, end: number): void {
    if (this.waiting.length === 0 && this.takeTurn()) {
      this.headReceived(pending, data, end);
      return;
    }
    pending.socket.pause();
    pending.received = data;
    pending.headEnd = end;
    this.waiting.push(pending);
  }

  /** Counts one head against this turn's budget; false when the turn has none left. */
  private takeTurn(): boolean {
    if (this.headsThisTurn === HEADS_PER_TURN) return false;
    if (this.headsThisTurn++ === 0) setImmediate(this.endTurn);
    return true;
  }

  /** A new turn: the waiting heads it has room for, oldest first; those whose connection ended are gone. */
  private handleWaiting(): void {
    while (this.waiting.length > 0) {
      const pending = this.waiting[0];
      const live = isPending(pending);
      if (live && !this.takeTurn()) return;
      this.waiting.shift();
      if (live) this.headReceived(pending, pending.received as Buffer, pending.headEnd);
    }
  }

  /** @internal The head is `data[0..end)`; what follows it is the start of the WebSocket stream. */
  headReceived(pending: PendingHead, data: Buffer, end: number): void {
    const head = parseRequestHead(data, end);
    if (!head.ok) return this.refuse(pending, head.status, head.message);

    const headers = handshakeFields(head.rawHeaders);
    const contentLength = headers['content-length'];
    if (headers['transfer-encoding'] !== undefined || (contentLength !== undefined && contentLength !== '0')) {
      return this.refuse(pending, 400, 'An opening handshake has no body');
    }

    const socket = pending.socket;
    this.forget(pending);
    const isUpgrade = headers.upgrade !== undefined && headerListHas(headers.connection ?? '', 'upgrade');
    if (!isUpgrade) {
      socket.on('error', socketOnErrorOrEnd);
      abortHandshake(socket, 426, undefined, UPGRADE_REQUIRED_HEADERS);
      return;
    }

    const req = new PortModeRequest(socket, head, headers);
    // As http.Server before its 'upgrade': the socket neither flows nor is paused, so what arrives
    // is kept until the WebSocket attaches its 'data' listener (perhaps after an async verifyClient).
    (socket as { readableFlowing: boolean | null }).readableFlowing = null;
    this.emit('upgrade', req, socket, data.subarray(end));
  }

  private unlist(pending: PendingHead): void {
    if (!isPending(pending)) return;
    if (pending.previous !== null) pending.previous.next = pending.next;
    else this.firstPending = pending.next;
    if (pending.next !== null) pending.next.previous = pending.previous;
    pending.previous = pending.next = null;
  }

  private onConnection(socket: Socket): void {
    const pending = new PendingHead(this, socket);
    pending.next = this.firstPending;
    if (this.firstPending !== null) this.firstPending.previous = pending;
    this.firstPending = pending;
    (socket as PendingSocket)[kPendingHead] = pending;
    this.clock.wheel.schedule(pending.timer, HEAD_TIMEOUT_MS);
    socket.on('data', socketOnData);
    socket.on('error', socketOnErrorOrEnd);
    socket.on('end', socketOnErrorOrEnd);
  }
}
