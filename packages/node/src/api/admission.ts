/**
 * Admission by what a request costs. A request body costs memory while it is read and until
 * its request is answered, and a slot of the ingest pipeline only once it has fully arrived;
 * so the server counts, per client address and in total:
 *
 * - connections (per client);
 * - bodies being read (per client and in total), and the bytes they hold, reserved from
 *   Content-Length when it is declared, else counted as they arrive;
 * - ingest slots, taken only after the body arrived: a client that sends slowly holds no
 *   ingest capacity at all, only its own share of the reading budget.
 *
 * A body that arrives more slowly than `minBodyBytesPerSecond` (after a grace period) is cut,
 * so slow senders cannot hold even the reading budget for long.
 *
 * A "client" is an IPv4 address, or the /64 prefix of an IPv6 address (one host usually owns
 * a whole /64). Pure bookkeeping: no sockets or timers here; the server drives it.
 */
import { isIPv6 } from 'node:net';

import { ApiCode, HttpError } from './errors.js';

/** Seconds a client should wait before retrying a 429. */
export const RETRY_AFTER_OVERLOADED_S = 1;

export interface AdmissionLimits {
  /** Open connections per client (default 64). */
  readonly maxConnectionsPerClient: number;
  /** Request bodies being read at once, per client (default 16). */
  readonly maxBodiesPerClient: number;
  /** Request bodies being read at once, all clients (default 256). */
  readonly maxBodies: number;
  /** Body bytes held (reserved or received, until answered), per client (default 32 MiB). */
  readonly maxBufferedBytesPerClient: number;
  /** Body bytes held, all clients (default 256 MiB). */
  readonly maxBufferedBytes: number;
  /** POST /v1/events requests whose body arrived and that are being ingested (default 32). */
  readonly maxIngestInFlight: number;
  /** Slowest body accepted, in bytes per second averaged since the headers (default 4 KiB/s)... */
  readonly minBodyBytesPerSecond: number;
  /** ...once the body has been arriving for this long (default 5 s). */
  readonly bodyRateGraceMs: number;
}

export const DEFAULT_ADMISSION_LIMITS: AdmissionLimits = Object.freeze({
  maxConnectionsPerClient: 64,
  maxBodiesPerClient: 16,
  maxBodies: 256,
  maxBufferedBytesPerClient: 32 * 1024 * 1024,
  maxBufferedBytes: 256 * 1024 * 1024,
  maxIngestInFlight: 32,
  minBodyBytesPerSecond: 4 * 1024,
  bodyRateGraceMs: 5_000,
});

/** The 429 every refusal for load gives: always with Retry-After. */
export function overloaded(message: string): HttpError {
  return new HttpError(429, ApiCode.OVERLOADED, message, {
    'Retry-After': String(RETRY_AFTER_OVERLOADED_S),
  });
}

/** The accounting key of a remote address: IPv4 as is, IPv6 by its /64 prefix. */
export function clientKey(address: string | undefined): string {
  if (address === undefined || address === '') return '?';
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4 !== null) return v4[1] as string;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::')
    ? [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

interface ClientUse {
  connections: number;
  bodies: number;
  bytes: number;
}

/** One request body being read and held: release it once its request is answered. */
export class BodyTicket {
  readonly startedMs: number;
  received = 0;
  #held = 0;
  #reading = true;
  #released = false;
  #onCut: ((error: Error) => void) | undefined;

  /** @internal */
  constructor(
    private readonly owner: AdmissionControl,
    readonly client: string,
    startedMs: number,
    reserved: number,
  ) {
    this.startedMs = startedMs;
    this.#held = reserved;
  }

  /** Counts `n` more received bytes; throws a 429 when they do not fit the budgets. */
  add(n: number): void {
    this.received += n;
    if (this.received > this.#held) {
      const extra = this.received - this.#held;
      this.owner.hold(this.client, extra);
      this.#held += extra;
    }
  }

  /** The body is complete (or abandoned): it no longer counts as being read. */
  doneReading(): void {
    if (!this.#reading) return;
    this.#reading = false;
    this.owner.bodyRead(this);
  }

  get reading(): boolean {
    return this.#reading;
  }

  /** The reader's hook: `cut` stops the read with `error` (a body too slow). */
  onCut(listener: (error: Error) => void): void {
    this.#onCut = listener;
  }

  /** Stops reading this body with `error`, if it is still being read. */
  cut(error: Error): void {
    if (this.#reading) this.#onCut?.(error);
  }

  /** Gives back everything the ticket holds. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.doneReading();
    this.#released = true;
    this.owner.unhold(this.client, this.#held);
    this.#held = 0;
  }
}

export class AdmissionControl {
  readonly limits: AdmissionLimits;
  readonly #clients = new Map<string, ClientUse>();
  readonly #reading = new Set<BodyTicket>();
  #bodies = 0;
  #bytes = 0;
  #ingest = 0;

  constructor(limits: Partial<AdmissionLimits> = {}) {
    this.limits = { ...DEFAULT_ADMISSION_LIMITS, ...limits };
  }

  /** Counts a new connection; false when its client already has its share. */
  connectionOpened(client: string): boolean {
    const use = this.#use(client);
    use.connections++;
    return use.connections <= this.limits.maxConnectionsPerClient;
  }

  connectionsOf(client: string): number {
    return this.#clients.get(client)?.connections ?? 0;
  }

  connectionClosed(client: string): void {
    const use = this.#clients.get(client);
    if (use === undefined) return;
    use.connections--;
    this.#forgetIdle(client, use);
  }

  /**
   * Admits a body for reading, reserving its declared length; a 429 when the client or the
   * server reads too many bodies or holds too many bytes already.
   */
  startBody(client: string, declaredLength: number | undefined, nowMs: number): BodyTicket {
    const use = this.#use(client);
    if (use.bodies >= this.limits.maxBodiesPerClient) {
      this.#forgetIdle(client, use);
      throw overloaded(`this client already sends ${use.bodies} request bodies; retry later`);
    }
    if (this.#bodies >= this.limits.maxBodies) {
      this.#forgetIdle(client, use);
      throw overloaded(`the node is reading ${this.#bodies} request bodies; retry later`);
    }
    const reserve = declaredLength ?? 0;
    this.hold(client, reserve);
    use.bodies++;
    this.#bodies++;
    const ticket = new BodyTicket(this, client, nowMs, reserve);
    this.#reading.add(ticket);
    return ticket;
  }

  /** Takes an ingest slot for a request whose body arrived; false when all are taken. */
  tryStartIngest(): boolean {
    if (this.#ingest >= this.limits.maxIngestInFlight) return false;
    this.#ingest++;
    return true;
  }

  endIngest(): void {
    this.#ingest = Math.max(0, this.#ingest - 1);
  }

  /** Bodies being read more slowly than the minimum rate allows, at `nowMs`. */
  tooSlow(nowMs: number): BodyTicket[] {
    const { minBodyBytesPerSecond: rate, bodyRateGraceMs: grace } = this.limits;
    const slow: BodyTicket[] = [];
    for (const t of this.#reading) {
      const elapsed = nowMs - t.startedMs;
      if (elapsed > grace && t.received < (rate * elapsed) / 1000) slow.push(t);
    }
    return slow;
  }

  get usage(): { bodies: number; bytes: number; ingest: number; clients: number } {
    return {
      bodies: this.#bodies,
      bytes: this.#bytes,
      ingest: this.#ingest,
      clients: this.#clients.size,
    };
  }

  /** @internal Holds `n` more bytes for `client`, or throws a 429 and holds nothing. */
  hold(client: string, n: number): void {
    const use = this.#use(client);
    if (use.bytes + n > this.limits.maxBufferedBytesPerClient) {
      this.#forgetIdle(client, use);
      throw overloaded(
        `this client's request bodies would hold more than ${this.limits.maxBufferedBytesPerClient} bytes; retry later`,
      );
    }
    if (this.#bytes + n > this.limits.maxBufferedBytes) {
      this.#forgetIdle(client, use);
      throw overloaded('the node holds too many request bytes; retry later');
    }
    use.bytes += n;
    this.#bytes += n;
  }

  /** @internal */
  unhold(client: string, n: number): void {
    const use = this.#clients.get(client);
    this.#bytes -= n;
    if (use === undefined) return;
    use.bytes -= n;
    this.#forgetIdle(client, use);
  }

  /** @internal */
  bodyRead(ticket: BodyTicket): void {
    if (!this.#reading.delete(ticket)) return;
    this.#bodies--;
    const use = this.#clients.get(ticket.client);
    if (use !== undefined) use.bodies--;
  }

  #use(client: string): ClientUse {
    let use = this.#clients.get(client);
    if (use === undefined) {
      use = { connections: 0, bodies: 0, bytes: 0 };
      this.#clients.set(client, use);
    }
    return use;
  }

  #forgetIdle(client: string, use: ClientUse): void {
    if (use.connections <= 0 && use.bodies <= 0 && use.bytes <= 0) this.#clients.delete(client);
  }
}
