/**
 * What the engine needs of a CommonsEvent it received (id, `created_at`, `expires_at`,
 * author), read from the top level of its canonical CBOR without decoding or checking it.
 *
 * Why: every event a peer sends is validated by the node's pipeline on exactly the bytes
 * received (a worker thread decodes, checks and verifies it). Decoding it fully on the main
 * thread first, only to learn its id and times, cost a receiving node about a sixth of its
 * main-thread time (base58 of every DID, a JS object per field, copies). This walk reads item
 * heads only and builds nothing but the four values.
 *
 * It validates nothing and decides nothing: it is a routing hint. For every input that
 * `decodeEvent` accepts it gives the same id, times and author (the body is the event's prefix
 * up to the key `signatures`, spec/PROTOCOL.md §3.3); it answers null (the caller then decodes
 * fully, which gives the reason) for anything that does not have an event's top-level shape.
 * An input it reads that is not a valid event is refused by the pipeline, with the same reason
 * as decoding would have given. The property test `net-event-peek.test.ts` holds it to that.
 */
import type { Sha256 } from '../../audit/merkle.js';
import { EVENT_FIELDS } from '../../protocol/event.js';
import { LIMITS } from '../../protocol/limits.js';

export interface EventPeek {
  /** SHA-256 of the body: the event's id if the event is valid. */
  readonly id: Uint8Array;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly author: string;
}

/** The fields an event may have (spec/PROTOCOL.md §2); any other key: not event-shaped. */
const EVENT_KEYS = EVENT_FIELDS;
type EventKey = (typeof EVENT_KEYS)[number];

/** The keys' UTF-8 bytes, by length: a key is matched on its bytes, no string is built. */
const KEYS_BY_LENGTH: ReadonlyMap<number, readonly [EventKey, Uint8Array][]> = (() => {
  const out = new Map<number, [EventKey, Uint8Array][]>();
  for (const k of EVENT_KEYS) {
    const bytes = new TextEncoder().encode(k);
    out.set(bytes.length, [...(out.get(bytes.length) ?? []), [k, bytes]]);
  }
  return out;
})();

/**
 * Containers nested deeper than this are left to the full decoder. Above the deepest an event
 * may nest (the top-level map, then a payload 16 deep: spec/PROTOCOL.md §3.2), so that the peek
 * never turns away a valid event; the bound only keeps the walk's recursion small.
 */
const MAX_PEEK_DEPTH = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A cursor over one buffer; every method answers -1 (or false) on anything unexpected. */
class HeadWalker {
  pos = 0;
  major = 0;
  arg = 0;

  constructor(private readonly bytes: Uint8Array) {}

  /** Reads one item head into `major` and `arg`. */
  head(): boolean {
    const b = this.bytes;
    if (this.pos >= b.length) return false;
    const ib = b[this.pos++] as number;
    const major = ib >> 5;
    const ai = ib & 31;
    this.major = major;
    if (major === 7) {
      this.arg = ai;
      return ai >= 20 && ai <= 22; // false, true, null: the only simple values allowed
    }
    if (ai < 24) {
      this.arg = ai;
      return true;
    }
    if (ai > 27) return false; // indefinite or reserved
    const n = 1 << (ai - 24);
    if (this.pos + n > b.length) return false;
    let arg = 0;
    for (let i = 0; i < n; i++) arg = arg * 256 + (b[this.pos++] as number);
    if (arg > Number.MAX_SAFE_INTEGER) return false;
    this.arg = arg;
    return true;
  }

  /** Skips one whole item; its nested containers are at most `depth` deep. */
  skip(depth: number): boolean {
    if (!this.head()) return false;
    switch (this.major) {
      case 2:
      case 3:
        if (this.arg > this.bytes.length - this.pos) return false;
        this.pos += this.arg;
        return true;
      case 4:
      case 5: {
        if (depth >= MAX_PEEK_DEPTH) return false;
        const items = this.major === 4 ? this.arg : this.arg * 2;
        if (items > this.bytes.length - this.pos) return false; // each item takes a byte at least
        for (let i = 0; i < items; i++) if (!this.skip(depth + 1)) return false;
        return true;
      }
      case 6:
        return false; // tags are not in the profile
      default:
        return true; // integers and simple values: the head was all of it
    }
  }

  /** The event key at `pos` (a text string), or null for any other item. */
  key(): EventKey | null {
    if (!this.head() || this.major !== 3) return null;
    const candidates = KEYS_BY_LENGTH.get(this.arg);
    if (candidates === undefined || this.arg > this.bytes.length - this.pos) return null;
    const at = this.pos;
    this.pos += this.arg;
    for (const [name, bytes] of candidates) {
      let i = 0;
      while (i < bytes.length && this.bytes[at + i] === bytes[i]) i++;
      if (i === bytes.length) return name;
    }
    return null;
  }

  /** A text string's content, or null. */
  text(): string | null {
    if (!this.head() || this.major !== 3 || this.arg > this.bytes.length - this.pos) return null;
    const at = this.pos;
    this.pos += this.arg;
    const text = this.bytes.subarray(at, this.pos);
    // short ASCII (every did:key and did:cs): one call, no decoder (and few arguments to it)
    if (text.length <= 128 && text.every((c) => c < 0x80))
      return String.fromCharCode.apply(null, text as never);
    try {
      return utf8.decode(text);
    } catch {
      return null;
    }
  }
}

/**
 * The id, times and author of what looks like a CommonsEvent, or null when `bytes` does not have
 * an event's top-level shape (a map of 8 to 11 known keys, `signatures` last, `nonce` present,
 * unsigned `created_at` and `expires_at`, a text `author`, nothing after it).
 */
export function peekEvent(sha256: Sha256, bytes: Uint8Array): EventPeek | null {
  if (bytes.length > LIMITS.maxEventBytes) return null;
  const first = bytes[0];
  // a map of 8..11 entries in one head byte (0xa8..0xab): the body's header is one less
  if (first === undefined || first < 0xa8 || first > 0xab) return null;
  const entries = first - 0xa0;
  const w = new HeadWalker(bytes);
  w.pos = 1;
  let createdAt = -1;
  let expiresAt = -1;
  let author: string | null = null;
  let nonce = false;
  let signaturesAt = -1;
  for (let i = 0; i < entries; i++) {
    const keyAt = w.pos;
    const key = w.key();
    if (key === null) return null;
    if (key === 'signatures') {
      if (i !== entries - 1) return null;
      signaturesAt = keyAt;
    }
    if (key === 'created_at' || key === 'expires_at') {
      if (!w.head() || w.major !== 0) return null;
      if (key === 'created_at') createdAt = w.arg;
      else expiresAt = w.arg;
    } else if (key === 'author') {
      author = w.text();
      if (author === null) return null;
    } else {
      if (key === 'nonce')
        nonce = bytes[w.pos] !== undefined && (bytes[w.pos] as number) >> 5 === 2;
      if (!w.skip(1)) return null;
    }
  }
  if (w.pos !== bytes.length || signaturesAt < 0 || !nonce || author === null) return null;
  if (createdAt < 0 || expiresAt < 0) return null;
  const body = bytes.slice(0, signaturesAt);
  body[0] = first - 1;
  return { id: sha256(body), createdAt, expiresAt, author };
}
