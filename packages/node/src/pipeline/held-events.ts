/**
 * Events held back by a verdict that a later record can change (an identity's key event, a
 * governance record), bounded in count, bytes and per author: the one store both the identity
 * stage and the trust stage keep them in. Reaching a bound only means the event is refused now
 * (its sender may send it again); it never changes a verdict.
 */
import { toHex } from '../protocol/bytes.js';
import { replayKey, type Store } from '../storage/index.js';
import type { Prepared } from './prepare.js';

export interface HeldBounds {
  /** Held events, all authors together. */
  readonly maxHeldEvents: number;
  /** Their encoded bytes together. */
  readonly maxHeldBytes: number;
  /** Held events of one author. */
  readonly maxHeldPerAuthor: number;
}

/** A held event and what its stage keeps with it. */
export interface Held<E extends Prepared> {
  readonly event: E;
  readonly idHex: string;
  /** The latest refusal (the identity stage updates it as key events come). */
  reason: string;
}

export class HeldEvents<E extends Prepared> {
  readonly #held = new Map<string, Held<E>>();
  readonly #byAuthor = new Map<string, Set<string>>();
  #bytes = 0;

  constructor(private readonly bounds: HeldBounds) {}

  /**
   * Holds `event` (refused for `reason`) unless a bound is reached; an event held already keeps
   * its place and takes the new reason. Returns whether it is held.
   */
  hold(event: E, reason: string): boolean {
    const idHex = toHex(event.id);
    const existing = this.#held.get(idHex);
    if (existing !== undefined) {
      existing.reason = reason;
      return true;
    }
    const mine = this.#byAuthor.get(event.author);
    if (
      this.#held.size >= this.bounds.maxHeldEvents ||
      this.#bytes + event.encoded.length > this.bounds.maxHeldBytes ||
      (mine?.size ?? 0) >= this.bounds.maxHeldPerAuthor
    )
      return false;
    this.#held.set(idHex, { event, idHex, reason });
    this.#bytes += event.encoded.length;
    if (mine === undefined) this.#byAuthor.set(event.author, new Set([idHex]));
    else mine.add(idHex);
    return true;
  }

  get size(): number {
    return this.#held.size;
  }

  /** Drops a held event (stored, accepted, expired or refused for good); unknown ids are ignored. */
  release(idHex: string): void {
    const h = this.#held.get(idHex);
    if (h === undefined) return;
    this.#held.delete(idHex);
    this.#bytes -= h.event.encoded.length;
    const mine = this.#byAuthor.get(h.event.author);
    mine?.delete(idHex);
    if (mine?.size === 0) this.#byAuthor.delete(h.event.author);
  }

  /** Drops held events that expired at `nowSeconds`. */
  prune(nowSeconds: number): void {
    for (const [idHex, h] of this.#held) if (h.event.expiresAt <= nowSeconds) this.release(idHex);
  }

  /**
   * The held events (of `author` only, if given) in ascending id order, so that what is done
   * with them does not depend on arrival order.
   */
  inIdOrder(author?: string): Held<E>[] {
    const ids = author === undefined ? this.#held.keys() : (this.#byAuthor.get(author) ?? []);
    return [...ids].sort().map((idHex) => this.#held.get(idHex) as Held<E>);
  }

  /**
   * Of `candidates` (held events now valid, in id order), those that can be accepted: the ones
   * whose (author, nonce) is not stored already nor taken by an earlier candidate; the others
   * are released (a stored duplicate, or a replay: protocol step 5 would refuse or dedupe them).
   */
  acceptable(candidates: readonly Held<E>[], store: Store): Held<E>[] {
    if (candidates.length === 0) return [];
    const known = store.findReplays(candidates.map((h) => h.event));
    const used = new Set<string>();
    const out: Held<E>[] = [];
    for (const h of candidates) {
      const key = replayKey(h.event.author, h.event.nonce);
      if (known.has(key) || used.has(key)) {
        this.release(h.idHex);
        continue;
      }
      used.add(key);
      out.push(h);
    }
    return out;
  }
}
