/**
 * What one connection may hold: pipelined requests and answers its client has not read, and
 * how a connection ends after an answer given before its request body was read.
 *
 * Node's HTTP parser turns a whole received chunk (up to 64 KiB, ~1,800 tiny requests) into
 * request objects at once, and an answer stays in memory until the kernel takes it; a client
 * that pipelines requests and never reads would make the node hold all of them. So:
 *
 * - at most `maxPipelined` requests of a connection are handled at once, and none while its
 *   unsent answers exceed `maxUnsentBytes`; the others wait, unhandled, in arrival order, and
 *   the socket stops being read (paused) until the client reads and the queue drains;
 * - a connection whose waiting requests exceed `maxQueuedPerConnection`, or that would take
 *   the total over `maxQueued`, or that stays paused without progress for `stallTimeoutMs`,
 *   is cut.
 *
 * Early answers (the node answers before the body was read: 413, 429, 400, 408, 503) close
 * the connection gracefully: the answer says `Connection: close`, the node sends it and then
 * half-closes (FIN), and keeps reading and dropping what the client still sends for
 * `lingerMs`, so the client reads the answer instead of a reset (closing a socket with unread
 * input makes the kernel send RST, which discards the answer on the client's side).
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionLimits {
  /** Requests of one connection being handled at once (default 16). */
  readonly maxPipelined: number;
  /** Answer bytes of one connection not yet taken by the kernel before it is paused (default 256 KiB). */
  readonly maxUnsentBytes: number;
  /** The same, all connections together: beyond it, only connections with nothing unsent start requests (default 64 MiB). */
  readonly maxUnsentTotal: number;
  /** Parsed requests of one connection waiting for their turn (default 4,096). */
  readonly maxQueuedPerConnection: number;
  /** Parsed requests waiting, all connections together (default 16,384). */
  readonly maxQueued: number;
  /** A paused connection whose answers do not move for this long is cut (default 30 s). */
  readonly stallTimeoutMs: number;
  /** After an early answer, how long the rest of the client's input is read and dropped (default 5 s). */
  readonly lingerMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = Object.freeze({
  maxPipelined: 16,
  maxUnsentBytes: 256 * 1024,
  maxUnsentTotal: 64 * 1024 * 1024,
  maxQueuedPerConnection: 4_096,
  maxQueued: 16_384,
  stallTimeoutMs: 30_000,
  lingerMs: 5_000,
});

/** Why a connection was cut, for metrics and logs. */
export type CutReason = 'queue' | 'total-queue' | 'stalled';

/** Bytes handed to Node's HTTP parser at a time outside a body: at most ~30 tiny requests. */
export const PARSE_SLICE_BYTES = 1024;
/** Bytes handed at a time inside a body of known length (never more than what is left of it). */
export const BODY_SLICE_BYTES = 64 * 1024;
/** Requests one connection may start in one turn of the event loop before others get theirs. */
export const REQUESTS_PER_TURN = 16;

class Connection {
  /** Feeds held input to the parser now (see {@link ConnectionControl.meter}). */
  feed: () => void = () => undefined;
  /**
   * The same in the event loop's check phase: what resumes a connection (a finished answer, a
   * drained queue) runs between I/O callbacks, where parsing a flood of requests would delay
   * everything else, accepting new connections included.
   */
  feedLater: () => void = () => undefined;
  /** Whether input is held that the parser may not take now (Node itself waits for a drain). */
  holding: () => boolean = () => false;
  /** Requests that arrived since this connection last yielded the event loop. */
  arrivals = 0;
  /** Requests parsed on this connection so far. */
  parsed = 0;
  /** Body bytes of the last parsed request not yet fed (an upper bound; 0 when unknown). */
  bodyLeft = 0;
  active = 0;
  unsent = 0;
  readonly queue: (() => void)[] = [];
  paused = false;
  closing = false;
  lastProgress: number;
  stallTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: Socket,
    now: number,
  ) {
    this.lastProgress = now;
  }
}

export class ConnectionControl {
  readonly limits: ConnectionLimits;
  readonly #conns = new WeakMap<Socket, Connection>();
  readonly #onCut: (reason: CutReason) => void;
  #queued = 0;
  #unsent = 0;

  constructor(
    limits: Partial<ConnectionLimits> = {},
    onCut: (reason: CutReason) => void = () => undefined,
  ) {
    this.limits = { ...DEFAULT_CONNECTION_LIMITS, ...limits };
    this.#onCut = onCut;
  }

  /** Requests parsed and waiting, all connections. */
  get queued(): number {
    return this.#queued;
  }

  /**
   * Makes the connection's input reach Node's HTTP parser in slices of
   * {@link PARSE_SLICE_BYTES}, and only while the connection may take more requests: Node
   * parses a whole received chunk at once (up to 64 KiB, ~1,800 tiny pipelined requests, each
   * a request and a response object), so a client that pipelines without reading would
   * otherwise make every connection hold that many. Call once per connection, after Node's
   * own connection listener (it removes Node's 'data' and 'end' listeners and calls them
   * itself; the parser then reads through these events instead of directly from the handle).
   * Returns false, and changes nothing, when Node's listeners are not where it expects them.
   */
  meter(socket: Socket): boolean {
    const nodeOnData = socket.listeners('data').find((f) => f.name === 'bound socketOnData') as
      | ((chunk: Buffer) => void)
      | undefined;
    const nodeOnEnd = socket.listeners('end').find((f) => f.name === 'bound socketOnEnd') as
      | (() => void)
      | undefined;
    if (nodeOnData === undefined || nodeOnEnd === undefined) return false;
    const conn = this.#conn(socket);
    const held: Buffer[] = [];
    let ended = false;
    let scheduled = false;
    const nodePaused = (): boolean => (socket as unknown as { _paused?: boolean })._paused === true;
    const feedSome = (): void => {
      while (held.length > 0) {
        if (socket.destroyed || conn.paused) return;
        if (nodePaused()) {
          this.#watchStall(conn); // Node waits for answers to drain: held input waits with it
          return;
        }
        if (conn.arrivals >= REQUESTS_PER_TURN) {
          conn.feedLater(); // a flood of small requests: let the other connections have this turn
          return;
        }
        // Inside a body of known length, up to what is left of it; else small slices, so that
        // one slice holds few requests. (bodyLeft may overstate by the body bytes that shared
        // the slice with their headers: at most one small slice.)
        const size =
          conn.bodyLeft > 0 ? Math.min(conn.bodyLeft, BODY_SLICE_BYTES) : PARSE_SLICE_BYTES;
        const head = held[0] as Buffer;
        const slice = head.length <= size ? head : head.subarray(0, size);
        if (slice === head) held.shift();
        else held[0] = head.subarray(size);
        const parsedBefore = conn.parsed;
        nodeOnData(slice);
        if (conn.parsed === parsedBefore) conn.bodyLeft = Math.max(0, conn.bodyLeft - slice.length);
      }
      if (ended && !socket.destroyed) {
        ended = false;
        nodeOnEnd();
      }
    };
    conn.feed = () => {
      feedSome();
      sync();
    };
    conn.holding = () => held.length > 0 && nodePaused();
    conn.feedLater = () => {
      if (scheduled) return;
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        conn.arrivals = 0;
        conn.feed();
      });
    };
    // The socket is read only while nothing is held and the connection may take requests.
    // (Node resumes it on its own occasions, such as each request it finishes with.)
    const sync = (): void => {
      if (socket.destroyed) return;
      if (held.length > 0 || conn.paused) {
        if (!socket.isPaused()) socket.pause();
      } else if (socket.isPaused() && !nodePaused()) {
        socket.resume();
      }
    };
    socket.removeListener('data', nodeOnData);
    socket.removeListener('end', nodeOnEnd);
    socket.on('data', (chunk: Buffer) => {
      held.push(chunk);
      conn.feed();
    });
    socket.on('end', () => {
      ended = true;
      conn.feed();
    });
    return true;
  }

  /**
   * Runs `start` for a request now, or once the connection's earlier answers have moved on.
   * `start` receives `sending(bytes)`, to call with the size of the answer it is about to write.
   * A request on a connection that is closing is never started.
   */
  admit(
    req: IncomingMessage,
    res: NodeJS.EventEmitter,
    start: (sending: (bytes: number) => void) => void,
  ): void {
    if (req.socket.destroyed) return; // the rest of a chunk parsed after the connection was cut
    const conn = this.#conn(req.socket);
    conn.arrivals++;
    conn.parsed++;
    const length = Number(req.headers['content-length']);
    conn.bodyLeft = Number.isSafeInteger(length) && length > 0 ? length : 0;
    if (conn.closing) {
      req.resume(); // input after an early answer is dropped
      return;
    }
    let bytes = 0;
    let started = false;
    const run = (): void => {
      started = true;
      conn.active++;
      start((n) => {
        bytes += n;
        conn.unsent += n;
        this.#unsent += n;
        this.#watchStall(conn);
      });
    };
    res.once('close', () => {
      if (!started) return;
      conn.active--;
      conn.unsent -= bytes;
      this.#unsent -= bytes;
      conn.lastProgress = Date.now();
      this.#pump(conn);
    });
    if (conn.queue.length === 0 && this.#hasRoom(conn)) {
      run();
      return;
    }
    conn.queue.push(run);
    this.#queued++;
    if (conn.queue.length > this.limits.maxQueuedPerConnection) this.#cut(conn, 'queue');
    else if (this.#queued > this.limits.maxQueued) this.#cut(conn, 'total-queue');
    else this.#pause(conn);
  }

  /**
   * Ends a connection after an early answer: FIN once the answer is out, then the client's
   * input is read and dropped for `lingerMs` (or until it closes), then the socket goes.
   * Installed as the socket's `destroySoon`, which Node calls after a `Connection: close` answer.
   */
  lingerOnClose(socket: Socket): void {
    const conn = this.#conn(socket);
    if (conn.closing) return;
    conn.closing = true;
    this.#dropQueue(conn);
    socket.destroySoon = () => this.#linger(conn);
  }

  /**
   * The same after an answer written straight to the socket (a request that timed out or could
   * not be parsed): the answer, FIN, linger. Returns false if the connection is already closing.
   */
  endWith(socket: Socket, answer: string): boolean {
    const conn = this.#conn(socket);
    if (conn.closing) return false;
    conn.closing = true;
    this.#dropQueue(conn);
    if (socket.writable) socket.write(answer);
    this.#linger(conn);
    return true;
  }

  #linger(conn: Connection): void {
    const { socket } = conn;
    if (socket.writable) socket.end();
    conn.paused = false;
    clearTimeout(conn.stallTimer);
    conn.stallTimer = undefined;
    conn.feedLater();
    socket.resume();
    const timer = setTimeout(() => socket.destroy(), this.limits.lingerMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }

  #conn(socket: Socket): Connection {
    let conn = this.#conns.get(socket);
    if (conn === undefined) {
      conn = new Connection(socket, Date.now());
      this.#conns.set(socket, conn);
      const c = conn;
      socket.once('close', () => {
        this.#dropQueue(c);
        clearTimeout(c.stallTimer);
      });
      // Node resumes the socket on its own occasions; keep it paused while we hold it, and
      // feed what was held once both of us let go.
      socket.on('resume', () => {
        if (c.paused) socket.pause();
        else c.feedLater();
      });
    }
    return conn;
  }

  #hasRoom(conn: Connection): boolean {
    if (conn.active >= this.limits.maxPipelined || conn.unsent >= this.limits.maxUnsentBytes)
      return false;
    return conn.unsent === 0 || this.#unsent < this.limits.maxUnsentTotal;
  }

  #pump(conn: Connection): void {
    while (conn.queue.length > 0 && this.#hasRoom(conn) && !conn.socket.destroyed) {
      const run = conn.queue.shift() as () => void;
      this.#queued--;
      run();
    }
    if (conn.paused && conn.queue.length === 0 && conn.unsent <= this.limits.maxUnsentBytes / 2) {
      conn.paused = false;
      clearTimeout(conn.stallTimer);
      conn.stallTimer = undefined;
      conn.feedLater();
      conn.socket.resume();
    }
  }

  #pause(conn: Connection): void {
    if (conn.paused) return;
    conn.paused = true;
    conn.lastProgress = Date.now();
    conn.socket.pause();
    this.#watchStall(conn);
  }

  /**
   * Cuts the connection if it stays blocked (answers written that the kernel has not taken,
   * paused by us, or holding input while Node waits for a drain) with no answer finishing for
   * `stallTimeoutMs`: a client that does not read.
   */
  #watchStall(conn: Connection): void {
    if (conn.stallTimer !== undefined) return;
    const blocked = (): boolean => conn.unsent > 0 || conn.paused || conn.holding();
    const check = (): void => {
      conn.stallTimer = undefined;
      if (!blocked() || conn.socket.destroyed) return;
      const idle = Date.now() - conn.lastProgress;
      if (idle >= this.limits.stallTimeoutMs) {
        this.#cut(conn, 'stalled');
        return;
      }
      conn.stallTimer = setTimeout(check, this.limits.stallTimeoutMs - idle);
      conn.stallTimer.unref();
    };
    conn.stallTimer = setTimeout(check, this.limits.stallTimeoutMs);
    conn.stallTimer.unref();
  }

  #dropQueue(conn: Connection): void {
    this.#queued -= conn.queue.length;
    conn.queue.length = 0;
  }

  #cut(conn: Connection, reason: CutReason): void {
    this.#dropQueue(conn);
    conn.paused = false;
    clearTimeout(conn.stallTimer);
    this.#onCut(reason);
    conn.socket.destroy();
  }
}
