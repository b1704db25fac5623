/**
 * The one reader of JSON texts (spec/PROTOCOL.md §3.4): the UTF-8 bytes of one JSON text in,
 * the canonical CBOR of its value (§3.2) or a typed rejection out. Every path that takes events
 * as JSON (HTTP, the worker pool, the CLI, the reference validator, the vector generator) reads
 * them here, from the bytes it received, so that no lossy step (JSON.parse turning `1e400` into
 * Infinity, or keeping the last of two equal member names) can sit between the wire and the
 * rules. Turning that CBOR into an event is json-event.ts.
 *
 * It reads the bytes once, front to back, and checks as it goes: UTF-8 (RFC 3629), the JSON
 * grammar (RFC 8259), member names unique per object, numbers by their exact decimal value,
 * and every limit of §3.2/§6 (the JSON text size before anything else, then nesting, entries,
 * text and byte-string sizes, and the size of the canonical CBOR the value will encode to).
 * So its work and memory are bounded by the limits, whatever the input.
 *
 * It writes the canonical CBOR while it reads, without building the value first: a number, a
 * string or a literal is written where it stands; a container's head is reserved and set when
 * its count is known; an object's members are written as they come and put in canonical key
 * order at its end, only when they were not in it already (the order is kept as each key
 * arrives, which is also how a duplicate name is found at once). The top-level members that the
 * profile names (an event's `nonce` and `key_state`; a key event's `prior`, `target`, `next`)
 * and `sig` in an entry of `signatures` are lowercase hex, written as the byte strings they
 * spell. Key events (spec/IDENTITY.md §5.3) are read by this same reader under their profile.
 */
import { LIMITS, MAX_EVENT_JSON_BYTES } from './limits.js';
import { Reason } from './reasons.js';

/**
 * What differs between the kinds of JSON text the reader reads: the name of the top-level
 * object (for messages), which of its members hold byte strings as hex (besides `sig` in the
 * entries of `signatures`, which both kinds have), and the size limits. Text, byte-string and
 * entry limits are the protocol's (`LIMITS`) for every profile.
 */
export interface JsonTextProfile {
  /** How messages name the top-level object: "an event", "a key event". */
  readonly what: string;
  /** Top-level members whose string values are byte strings written as lowercase hex. */
  readonly hexMembers: ReadonlySet<string>;
  /** Nesting of containers, the top-level object being level 1. */
  readonly maxDepth: number;
  /** Bytes of the canonical CBOR the value encodes to. */
  readonly maxEncodedBytes: number;
  /** Bytes of the JSON text, whitespace included; checked before anything is read. */
  readonly maxJsonBytes: number;
}

/** The profile of an event (§3.4): `nonce` and `key_state` are hex; the limits of §6. */
export const EVENT_JSON_PROFILE: JsonTextProfile = Object.freeze({
  what: 'an event',
  hexMembers: new Set(['nonce', 'key_state']),
  maxDepth: LIMITS.maxPayloadDepth + 1, // the event object is level 1, as in CBOR
  maxEncodedBytes: LIMITS.maxEventBytes,
  maxJsonBytes: MAX_EVENT_JSON_BYTES,
});

/** A profile's hex member names as the reader writes them (CBOR text items), once per profile. */
const hexKeysOf = new WeakMap<JsonTextProfile, readonly (readonly number[])[]>();
function hexKeys(profile: JsonTextProfile): readonly (readonly number[])[] {
  let keys = hexKeysOf.get(profile);
  if (keys === undefined) {
    keys = [...profile.hexMembers].map((k) => {
      const bytes = [...new TextEncoder().encode(k)];
      if (bytes.length > 23) throw new RangeError(`hex member name too long: ${k}`);
      return [0x60 + bytes.length, ...bytes];
    });
    hexKeysOf.set(profile, keys);
  }
  return keys;
}
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_SAFE_DIGITS = '9007199254740991';
/** Objects with more members than this get member lists of their own, not kept for reuse. */
const KEPT_MEMBERS = 64;
/** Exponents are clamped here: beyond it every nonzero value is out of range or not integral. */
const EXPONENT_CLAMP = 1_000_000_000;

/** What a value is, by where it sits: only these places read differently (hex strings). */
export const Role = {
  GENERIC: 0,
  /** The top-level object of an event. */
  EVENT: 1,
  /** The value of the event's `signatures`. */
  SIGNATURES: 2,
  /** An element of that array. */
  ENTRY: 3,
  /** `nonce`, and `sig` in an entry: lowercase hex of a byte string. */
  HEX: 4,
} as const;
const { GENERIC, EVENT, SIGNATURES, ENTRY, HEX } = Role;

export type ReaderReason =
  | typeof Reason.MALFORMED
  | typeof Reason.TOO_LARGE
  | typeof Reason.TOO_DEEP;

/** Thrown inside the reader only; the entry points turn it into a rejection. */
export class ReaderStop {
  constructor(
    readonly reason: ReaderReason,
    readonly detail: string,
  ) {}
}

function malformed(detail: string): never {
  throw new ReaderStop(Reason.MALFORMED, detail);
}

/** CBOR head size for an argument (§3.2: shortest form). */
export function headSize(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x100000000 ? 5 : 9;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isWhitespace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Digit values of hex digits (either case, for \u escapes), -1 elsewhere. */
const HEX_VALUE = Int8Array.from({ length: 256 }, (_, c) =>
  c >= 0x30 && c <= 0x39
    ? c - 0x30
    : c >= 0x61 && c <= 0x66
      ? c - 0x57
      : c >= 0x41 && c <= 0x46
        ? c - 0x37
        : -1,
);
/** Digit values of lowercase hex digits only (what a byte string's hex may hold), -1 elsewhere. */
const LOWER_HEX_VALUE = Int8Array.from(HEX_VALUE, (v, c) => (c >= 0x41 && c <= 0x46 ? -1 : v));
const hexValue = (c: number | undefined): number =>
  c === undefined ? -1 : (HEX_VALUE[c] as number);
const NO_BYTES = new Uint8Array(0);

// The encoded names that give a member value its role.
const SIGNATURES_KEY = [0x6a, ...Array.from('signatures', (c) => c.charCodeAt(0))]; // text(10)
const SIG_KEY = [0x63, 0x73, 0x69, 0x67]; // text(3) "sig"

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** ASCII bytes as a string; short runs without a call into the TextDecoder. */
export function asciiString(b: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 24) {
    let out = '';
    for (let i = start; i < end; i++) out += String.fromCharCode(b[i] as number);
    return out;
  }
  return utf8Decoder.decode(b.subarray(start, end));
}

/** The text a CBOR text item holds (written by this reader: valid UTF-8, shortest head). */
export function cborTextAt(b: Uint8Array, start: number, end: number): string {
  const ai = (b[start] as number) & 31;
  const content = start + (ai < 24 ? 1 : ai === 24 ? 2 : 3);
  for (let i = content; i < end; i++)
    if ((b[i] as number) >= 0x80) return utf8Decoder.decode(b.subarray(content, end));
  return asciiString(b, content, end);
}

function describe(c: number | undefined): string {
  if (c === undefined) return 'the end of the text';
  if (c >= 0x21 && c <= 0x7e) return `'${String.fromCharCode(c)}'`;
  return `byte 0x${c.toString(16).padStart(2, '0')}`;
}

/**
 * The reader. One instance is reused (it never calls back into itself); its output buffer
 * holds the CBOR of the last text read until the next read.
 */
export class JsonCborReader {
  private b: Uint8Array = NO_BYTES;
  private pos = 0;
  private end = 0;
  /** Bytes of canonical CBOR that what was read so far will encode to. */
  private size = 0;
  /**
   * The CBOR written so far is `out[0, len)`. Beyond the limits' 64 KiB it only ever holds a
   * string being unescaped and one reserved head per open container, so it stays near 82 KiB;
   * `ensure` grows it all the same rather than trust that count.
   */
  out: Uint8Array = new Uint8Array(96 * 1024);
  len = 0;
  /**
   * After an event object was read: each member as (key start, key end, value end) in `out`,
   * in canonical order.
   */
  readonly top: number[] = [];
  /** Per nesting depth, the member lists of the object open there (`memberLists`). */
  private readonly members: ({ entries: number[]; order: number[] } | undefined)[] = [];

  private profile: JsonTextProfile = EVENT_JSON_PROFILE;
  // the profile's fields, read on every value
  private maxBytes = EVENT_JSON_PROFILE.maxEncodedBytes;
  private maxDepth = EVENT_JSON_PROFILE.maxDepth;
  private hexKeys = hexKeys(EVENT_JSON_PROFILE);

  reset(bytes: Uint8Array, start: number, end: number, profile = EVENT_JSON_PROFILE): void {
    this.b = bytes;
    this.pos = start;
    this.end = end;
    this.size = 0;
    this.len = 0;
    this.top.length = 0;
    if (profile !== this.profile) {
      this.profile = profile;
      this.maxBytes = profile.maxEncodedBytes;
      this.maxDepth = profile.maxDepth;
      this.hexKeys = hexKeys(profile);
    }
  }

  /** Drops the reference to the caller's bytes. */
  release(): void {
    this.b = NO_BYTES;
  }

  private grow(n: number): void {
    this.size += n;
    if (this.size > this.maxBytes) {
      throw new ReaderStop(
        Reason.TOO_LARGE,
        `${this.profile === EVENT_JSON_PROFILE ? 'the event' : this.profile.what} encodes to more than ${this.maxBytes} bytes`,
      );
    }
  }

  // --- writing -------------------------------------------------------------------------------

  private ensure(n: number): void {
    if (this.len + n <= this.out.length) return;
    const next = new Uint8Array(2 * (this.len + n));
    next.set(this.out.subarray(0, this.len));
    this.out = next;
  }

  private byte(x: number): void {
    this.ensure(1);
    this.out[this.len++] = x;
  }

  /** A head at `at` (room for it is there). */
  private headAt(at: number, major: number, arg: number): number {
    const o = this.out;
    const m = major << 5;
    if (arg < 24) {
      o[at] = m | arg;
      return at + 1;
    }
    if (arg < 0x100) {
      o[at] = m | 24;
      o[at + 1] = arg;
      return at + 2;
    }
    if (arg < 0x10000) {
      o[at] = m | 25;
      o[at + 1] = arg >>> 8;
      o[at + 2] = arg & 0xff;
      return at + 3;
    }
    let n = 4;
    let hi = 0;
    if (arg < 0x100000000) o[at] = m | 26;
    else {
      o[at] = m | 27;
      n = 8;
      hi = Math.floor(arg / 0x100000000);
      o[at + 1] = hi >>> 24;
      o[at + 2] = (hi >>> 16) & 0xff;
      o[at + 3] = (hi >>> 8) & 0xff;
      o[at + 4] = hi & 0xff;
    }
    const lo = arg >>> 0;
    o[at + n - 3] = lo >>> 24;
    o[at + n - 2] = (lo >>> 16) & 0xff;
    o[at + n - 1] = (lo >>> 8) & 0xff;
    o[at + n] = lo & 0xff;
    return at + n + 1;
  }

  private head(major: number, arg: number): void {
    this.ensure(9);
    this.len = this.headAt(this.len, major, arg);
  }

  /** Input bytes [s, e) to the output (checked UTF-8 or ASCII). */
  private copyIn(s: number, e: number): void {
    const n = e - s;
    this.ensure(n);
    const o = this.out;
    const b = this.b;
    let at = this.len;
    if (n <= 128) for (let i = s; i < e; i++) o[at++] = b[i] as number;
    else o.set(b.subarray(s, e), at);
    this.len += n;
  }

  /** Sets a container's head, reserved as one byte at `headAt`, now that its count is known. */
  private closeHead(headAt: number, major: number, count: number): void {
    const h = headSize(count);
    if (h > 1) {
      this.ensure(h - 1);
      this.out.copyWithin(headAt + h, headAt + 1, this.len);
      this.len += h - 1;
    }
    this.headAt(headAt, major, count);
  }

  // --- reading -------------------------------------------------------------------------------

  private skipWhitespace(): void {
    const b = this.b;
    let i = this.pos;
    while (i < this.end && isWhitespace(b[i] as number)) i++;
    this.pos = i;
  }

  /** After the value: nothing but whitespace may follow. */
  finish(): void {
    this.skipWhitespace();
    if (this.pos < this.end) malformed(`${describe(this.b[this.pos])} after the JSON value`);
  }

  /** The top level of an event: an object, read as the event map. */
  event(): void {
    this.skipWhitespace();
    const c = this.b[this.pos];
    if (this.pos >= this.end || c !== 0x7b) {
      if (
        c === 0xef &&
        this.pos + 2 < this.end &&
        this.b[this.pos + 1] === 0xbb &&
        this.b[this.pos + 2] === 0xbf
      ) {
        malformed('a byte-order mark before the JSON text');
      }
      malformed(
        `${this.profile.what} is a JSON object; found ${describe(this.pos < this.end ? c : undefined)}`,
      );
    }
    this.object(1, EVENT);
  }

  /** Any value; containers in it sit at `parentDepth + 1`. */
  value(parentDepth: number, role: number): void {
    this.skipWhitespace();
    if (this.pos >= this.end) malformed('a value is missing at the end of the text');
    const c = this.b[this.pos] as number;
    switch (c) {
      case 0x7b: // {
        this.object(parentDepth + 1, role === ENTRY ? ENTRY : GENERIC);
        return;
      case 0x5b: // [
        this.array(parentDepth + 1, role);
        return;
      case 0x22: // "
        if (role === HEX) this.hex();
        else this.text();
        return;
      case 0x74: // t
        this.literal('true');
        this.grow(1);
        this.byte(0xf5);
        return;
      case 0x66: // f
        this.literal('false');
        this.grow(1);
        this.byte(0xf4);
        return;
      case 0x6e: // n
        this.literal('null');
        this.grow(1);
        this.byte(0xf6);
        return;
      default:
        if (c === 0x2d || isDigit(c)) this.number();
        else malformed(`${describe(c)} cannot start a JSON value`);
    }
  }

  private literal(word: string): void {
    const b = this.b;
    for (let k = 0; k < word.length; k++) {
      if (this.pos + k >= this.end || b[this.pos + k] !== word.charCodeAt(k))
        malformed(`not a JSON value (expected ${word})`);
    }
    this.pos += word.length;
  }

  private enter(depth: number): void {
    if (depth > this.maxDepth) {
      throw new ReaderStop(Reason.TOO_DEEP, `containers nested more than ${this.maxDepth} deep`);
    }
  }

  /** Whether the member name `out[start, end)` is one of the profile's hex members. */
  private isHexKey(start: number, end: number): boolean {
    for (const key of this.hexKeys) if (this.keyIs(start, end, key)) return true;
    return false;
  }

  private keyIs(start: number, end: number, key: readonly number[]): boolean {
    if (end - start !== key.length) return false;
    const o = this.out;
    for (let k = 0; k < key.length; k++) if (o[start + k] !== key[k]) return false;
    return true;
  }

  /** Bytewise order of two encoded keys in the output (§3.2: the canonical key order). */
  private compareKeys(a: number, aEnd: number, b: number, bEnd: number): number {
    const o = this.out;
    const n = Math.min(aEnd - a, bEnd - b);
    for (let i = 0; i < n; i++) {
      const d = (o[a + i] as number) - (o[b + i] as number);
      if (d !== 0) return d;
    }
    return aEnd - a - (bEnd - b);
  }

  /**
   * Puts member `n` (key at [ks, ke)) into `order[0, n]`, the members by encoded key; a name
   * met before is ERR_MALFORMED here, before its value is read.
   */
  private placeKey(
    entries: readonly number[],
    order: number[],
    n: number,
    ks: number,
    ke: number,
  ): void {
    if (n === 0) {
      order[0] = 0;
      return;
    }
    const last = 3 * (order[n - 1] as number);
    const c = this.compareKeys(entries[last] as number, entries[last + 1] as number, ks, ke);
    if (c < 0) {
      order[n] = n; // the usual case: in order so far
      return;
    }
    if (c === 0) this.duplicate(ks, ke);
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = 3 * (order[mid] as number);
      const d = this.compareKeys(entries[e] as number, entries[e + 1] as number, ks, ke);
      if (d === 0) this.duplicate(ks, ke);
      if (d < 0) lo = mid + 1;
      else hi = mid;
    }
    for (let i = n; i > lo; i--) order[i] = order[i - 1] as number;
    order[lo] = n;
  }

  /**
   * The two lists an object at `depth` keeps its members in (written from index 0; an object
   * reads only the members it wrote): reused from one object to the next (an object's nested
   * objects sit deeper, so no two open objects share them). Lists that an object with many
   * members grew are replaced by new ones at the next object of that depth, so no more than
   * {@link KEPT_MEMBERS} members' worth per depth stays held from one text to the next.
   */
  private memberLists(depth: number): { entries: number[]; order: number[] } {
    let lists = this.members[depth];
    if (lists === undefined || lists.order.length > KEPT_MEMBERS) {
      lists = { entries: [], order: [] };
      this.members[depth] = lists;
    }
    return lists;
  }

  private duplicate(ks: number, ke: number): never {
    return malformed(`duplicate JSON member name ${JSON.stringify(cborTextAt(this.out, ks, ke))}`);
  }

  private object(depth: number, role: number): void {
    this.enter(depth);
    const b = this.b;
    this.pos++; // {
    const headAt = this.len;
    this.byte(0xa0); // the head, set at the end
    this.skipWhitespace();
    if (b[this.pos] === 0x7d && this.pos < this.end) {
      this.pos++;
      this.grow(1);
      return;
    }
    // key start, key end, value end of each member, as read; the members in canonical order
    const { entries, order } = this.memberLists(depth);
    let count = 0;
    for (;;) {
      this.skipWhitespace();
      if (this.pos >= this.end || b[this.pos] !== 0x22)
        malformed(`expected a member name, found ${describe(this.at())}`);
      if (++count > LIMITS.maxEntries)
        throw new ReaderStop(
          Reason.TOO_LARGE,
          `an object of more than ${LIMITS.maxEntries} members`,
        );
      const ks = this.len;
      this.text();
      const ke = this.len;
      this.placeKey(entries, order, count - 1, ks, ke);
      this.skipWhitespace();
      if (this.pos >= this.end || b[this.pos] !== 0x3a)
        malformed(`expected ':' after a member name, found ${describe(this.at())}`);
      this.pos++;
      let child: number = GENERIC;
      if (role === EVENT)
        child = this.keyIs(ks, ke, SIGNATURES_KEY)
          ? SIGNATURES
          : this.isHexKey(ks, ke)
            ? HEX
            : GENERIC;
      else if (role === ENTRY && this.keyIs(ks, ke, SIG_KEY)) child = HEX;
      this.value(depth, child);
      const e = 3 * (count - 1);
      entries[e] = ks;
      entries[e + 1] = ke;
      entries[e + 2] = this.len;
      this.skipWhitespace();
      const c = this.at();
      this.pos++;
      if (c === 0x2c) continue;
      if (c === 0x7d) break;
      malformed(`expected ',' or '}' in an object, found ${describe(c)}`);
    }
    this.grow(headSize(count));
    this.sortMembers(headAt + 1, entries, order, count);
    this.closeHead(headAt, 5, count);
    if (role === EVENT) {
      // where each member ended up, for json-event.ts
      let at = headAt + headSize(count);
      for (let m = 0; m < count; m++) {
        const k = order[m] as number;
        const key = (entries[3 * k + 1] as number) - (entries[3 * k] as number);
        const value = (entries[3 * k + 2] as number) - (entries[3 * k + 1] as number);
        this.top.push(at, at + key, at + key + value);
        at += key + value;
      }
    }
  }

  /** Rewrites the members (contiguous from `from`) in canonical order, unless they are in it. */
  private sortMembers(
    from: number,
    entries: readonly number[],
    order: readonly number[],
    count: number,
  ): void {
    let k = 0;
    while (k < count && order[k] === k) k++;
    if (k === count) return;
    const total = this.len - from;
    this.ensure(total);
    const o = this.out;
    let at = this.len; // assembled past the end, then moved back
    for (let j = 0; j < count; j++) {
      const m = order[j] as number;
      const s = entries[3 * m] as number;
      const e = entries[3 * m + 2] as number;
      // most members are a few dozen bytes: a loop costs less than a call into copyWithin
      if (e - s <= 48) for (let i = s; i < e; i++) o[at++] = o[i] as number;
      else {
        o.copyWithin(at, s, e);
        at += e - s;
      }
    }
    o.copyWithin(from, this.len, this.len + total);
  }

  private array(depth: number, role: number): void {
    this.enter(depth);
    const b = this.b;
    this.pos++; // [
    const headAt = this.len;
    this.byte(0x80);
    this.skipWhitespace();
    if (b[this.pos] === 0x5d && this.pos < this.end) {
      this.pos++;
      this.grow(1);
      return;
    }
    const child = role === SIGNATURES ? ENTRY : GENERIC;
    let count = 0;
    for (;;) {
      if (count === LIMITS.maxEntries)
        throw new ReaderStop(
          Reason.TOO_LARGE,
          `an array of more than ${LIMITS.maxEntries} entries`,
        );
      this.value(depth, child);
      count++;
      this.skipWhitespace();
      const c = this.at();
      this.pos++;
      if (c === 0x2c) continue;
      if (c === 0x5d) break;
      malformed(`expected ',' or ']' in an array, found ${describe(c)}`);
    }
    this.grow(headSize(count));
    this.closeHead(headAt, 4, count);
  }

  private at(): number | undefined {
    return this.pos < this.end ? this.b[this.pos] : undefined;
  }

  /** Printable ASCII without escapes from `start`: where the run stops. */
  private plainRun(start: number): number {
    const b = this.b;
    const end = this.end;
    let i = start;
    while (i < end) {
      const c = b[i] as number;
      if (c === 0x22 || c === 0x5c || c < 0x20 || c >= 0x80) break;
      i++;
    }
    if (i - start > LIMITS.maxTextBytes)
      throw new ReaderStop(
        Reason.TOO_LARGE,
        `a text string of more than ${LIMITS.maxTextBytes} bytes`,
      );
    return i;
  }

  /** A string value or member name, written as text (§3.1): its size counts toward the limits. */
  private text(): void {
    const start = this.pos + 1;
    const i = this.plainRun(start);
    if (i < this.end && this.b[i] === 0x22) {
      // keys, dids, kinds, most text
      const n = i - start;
      this.grow(headSize(n) + n);
      this.head(3, n);
      this.copyIn(start, i);
      this.pos = i + 1;
      return;
    }
    const headAt = this.len;
    const at = headAt + 3; // room for the longest head a text within the limit needs
    const n = this.stringSlow(start, i, at);
    this.grow(headSize(n) + n);
    const h = headSize(n);
    if (h !== 3) this.out.copyWithin(headAt + h, at, at + n);
    this.headAt(headAt, 3, n);
    this.len = headAt + h + n;
  }

  /** `nonce` or `sig`: lowercase hex of even length, at most 64 bytes. */
  private hex(): void {
    const b = this.b;
    const start = this.pos + 1;
    // The usual text, lowercase hex pairs then the closing quote, decoded as it is checked, in
    // one pass, behind room for the longest head; any other text is read again below.
    const max = LIMITS.maxByteStringBytes;
    this.ensure(2 + max);
    const o = this.out;
    const at = this.len + 2;
    let w = at;
    let i = start;
    const last = this.end - 1;
    while (i < last && w - at < max) {
      const hi = LOWER_HEX_VALUE[b[i] as number] as number;
      const lo = LOWER_HEX_VALUE[b[i + 1] as number] as number;
      if ((hi | lo) < 0) break;
      o[w++] = (hi << 4) | lo;
      i += 2;
    }
    if (i < this.end && b[i] === 0x22) {
      const n = w - at;
      this.grow(headSize(n) + n);
      const h = this.headAt(this.len, 2, n);
      if (h !== at) for (let k = 0; k < n; k++) o[h + k] = o[at + k] as number;
      this.len = h + n;
      this.pos = i + 1;
      return;
    }
    this.hexRead(start);
  }

  /** {@link hex} for a text other than plain lowercase hex pairs: judged as the spec says. */
  private hexRead(start: number): void {
    const b = this.b;
    let i = start;
    while (i < this.end && (LOWER_HEX_VALUE[b[i] as number] as number) >= 0) i++;
    if (i < this.end && b[i] === 0x22) {
      const length = i - start;
      if (length > 2 * LIMITS.maxByteStringBytes)
        throw new ReaderStop(
          Reason.TOO_LARGE,
          `hex for more than ${LIMITS.maxByteStringBytes} bytes`,
        );
      if (length % 2 !== 0) malformed('hex of odd length');
      const n = length / 2;
      this.grow(headSize(n) + n);
      this.head(2, n);
      const o = this.out;
      let at = this.len;
      for (let k = start; k < i; k += 2)
        o[at++] =
          ((LOWER_HEX_VALUE[b[k] as number] as number) << 4) |
          (LOWER_HEX_VALUE[b[k + 1] as number] as number);
      this.len = at;
      this.pos = i + 1;
      return;
    }
    // escapes or other characters: read the string, then judge its value
    const headAt = this.len;
    const at = headAt + 3;
    let n: number;
    const run = this.plainRun(start);
    if (run < this.end && b[run] === 0x22) {
      this.len = at;
      this.copyIn(start, run);
      this.pos = run + 1;
      n = run - start;
    } else n = this.stringSlow(start, run, at);
    if (n > 2 * LIMITS.maxByteStringBytes)
      throw new ReaderStop(
        Reason.TOO_LARGE,
        `hex for more than ${LIMITS.maxByteStringBytes} bytes`,
      );
    const o = this.out;
    let even = n % 2 === 0;
    for (let k = at; even && k < at + n; k++)
      even = (LOWER_HEX_VALUE[o[k] as number] as number) >= 0;
    if (!even) malformed('a byte string must be lowercase hex of even length');
    const m = n / 2;
    this.grow(headSize(m) + m);
    let w = this.headAt(headAt, 2, m); // behind the digits it decodes, never past them
    for (let k = at; k < at + n; k += 2)
      o[w++] =
        ((LOWER_HEX_VALUE[o[k] as number] as number) << 4) |
        (LOWER_HEX_VALUE[o[k + 1] as number] as number);
    this.len = w;
  }

  /**
   * The rest of a string from `from` (the plain run `[start, from)` before it), with escapes or
   * non-ASCII: writes its UTF-8 at `at` and returns the byte count. Checks UTF-8, control
   * characters, escapes (an unpaired surrogate has no UTF-8 form) and the text limit as it reads.
   */
  private stringSlow(start: number, from: number, at: number): number {
    this.len = at;
    this.ensure(LIMITS.maxTextBytes + 8);
    const o = this.out;
    const b = this.b;
    const end = this.end;
    let w = at;
    for (let k = start; k < from; k++) o[w++] = b[k] as number;
    let bytes = from - start;
    let i = from;
    for (;;) {
      if (bytes > LIMITS.maxTextBytes)
        throw new ReaderStop(
          Reason.TOO_LARGE,
          `a text string of more than ${LIMITS.maxTextBytes} bytes`,
        );
      if (i >= end) malformed('a string runs to the end of the text');
      const c = b[i] as number;
      if (c === 0x22) {
        this.pos = i + 1;
        return bytes;
      }
      if (c === 0x5c) {
        let { code, length } = this.escape(i);
        i += length;
        if (code >= 0xd800 && code <= 0xdbff) {
          // a high surrogate must be followed by a low one, as an escape
          // (never a byte past `end`: the span is the whole text, whatever follows it in the buffer)
          if (i + 1 >= end || b[i] !== 0x5c || b[i + 1] !== 0x75)
            malformed('an unpaired surrogate escape (no UTF-8 form)');
          const low = this.escape(i);
          if (low.code < 0xdc00 || low.code > 0xdfff)
            malformed('an unpaired surrogate escape (no UTF-8 form)');
          i += low.length;
          code = 0x10000 + ((code - 0xd800) << 10) + (low.code - 0xdc00);
          o[w++] = 0xf0 | (code >> 18);
          o[w++] = 0x80 | ((code >> 12) & 0x3f);
          o[w++] = 0x80 | ((code >> 6) & 0x3f);
          o[w++] = 0x80 | (code & 0x3f);
          bytes += 4;
        } else if (code >= 0xdc00 && code <= 0xdfff) {
          malformed('an unpaired surrogate escape (no UTF-8 form)');
        } else if (code < 0x80) {
          o[w++] = code;
          bytes += 1;
        } else if (code < 0x800) {
          o[w++] = 0xc0 | (code >> 6);
          o[w++] = 0x80 | (code & 0x3f);
          bytes += 2;
        } else {
          o[w++] = 0xe0 | (code >> 12);
          o[w++] = 0x80 | ((code >> 6) & 0x3f);
          o[w++] = 0x80 | (code & 0x3f);
          bytes += 3;
        }
        continue;
      }
      if (c < 0x20)
        malformed(
          `control character 0x${c.toString(16).padStart(2, '0')} in a string (must be escaped)`,
        );
      if (c < 0x80) {
        o[w++] = c;
        i++;
        bytes++;
        continue;
      }
      const n = utf8SequenceLength(b, i, end);
      if (n === 0) malformed('invalid UTF-8');
      for (let k = 0; k < n; k++) o[w++] = b[i + k] as number;
      i += n;
      bytes += n;
    }
  }

  /** The escape at `at` (a backslash): the UTF-16 code unit it stands for and its length. */
  private escape(at: number): { code: number; length: number } {
    const b = this.b;
    const c = at + 1 < this.end ? (b[at + 1] as number) : -1;
    switch (c) {
      case 0x22:
        return { code: 0x22, length: 2 };
      case 0x5c:
        return { code: 0x5c, length: 2 };
      case 0x2f:
        return { code: 0x2f, length: 2 };
      case 0x62:
        return { code: 0x08, length: 2 };
      case 0x66:
        return { code: 0x0c, length: 2 };
      case 0x6e:
        return { code: 0x0a, length: 2 };
      case 0x72:
        return { code: 0x0d, length: 2 };
      case 0x74:
        return { code: 0x09, length: 2 };
      case 0x75: {
        if (at + 6 > this.end) malformed('a \\u escape needs four hex digits');
        let code = 0;
        for (let k = 2; k < 6; k++) {
          const d = hexValue(b[at + k]);
          if (d < 0) malformed('a \\u escape needs four hex digits');
          code = code * 16 + d;
        }
        return { code, length: 6 };
      }
      default:
        return malformed(
          `invalid escape ${c < 0 ? 'at the end of the text' : `\\${String.fromCharCode(c)}`}`,
        );
    }
  }

  /**
   * A number by its exact decimal value (§3.4): an integer within ±(2^53 − 1) however it is
   * written, else ERR_MALFORMED. Exponents are clamped, so `1e999999999` costs nothing.
   */
  private number(): void {
    const b = this.b;
    const end = this.end;
    let i = this.pos;
    const negative = b[i] === 0x2d;
    if (negative) i++;
    const intStart = i;
    if (i >= end || !isDigit(b[i] as number)) malformed('a number needs digits');
    if (b[i] === 0x30) i++;
    else while (i < end && isDigit(b[i] as number)) i++;
    const intEnd = i;
    let fracStart = i;
    let fracEnd = i;
    if (i < end && b[i] === 0x2e) {
      fracStart = ++i;
      while (i < end && isDigit(b[i] as number)) i++;
      fracEnd = i;
      if (fracEnd === fracStart) malformed('a number needs digits after the decimal point');
    }
    let exponent = 0;
    let hasExponent = false;
    if (i < end && (b[i] === 0x65 || b[i] === 0x45)) {
      hasExponent = true;
      i++;
      let sign = 1;
      if (i < end && (b[i] === 0x2b || b[i] === 0x2d)) sign = b[i++] === 0x2d ? -1 : 1;
      const expStart = i;
      while (i < end && isDigit(b[i] as number)) {
        exponent = Math.min(EXPONENT_CLAMP, exponent * 10 + ((b[i] as number) - 0x30));
        i++;
      }
      if (i === expStart) malformed('a number needs digits in its exponent');
      exponent *= sign;
    }
    if (i < end && isDigit(b[i] as number)) malformed('a number with a leading zero');
    this.pos = i;

    let value: number;
    const intDigits = intEnd - intStart;
    if (!hasExponent && fracEnd === fracStart && intDigits <= 15) {
      value = 0; // the common case: a plain integer, exact in a double
      for (let k = intStart; k < intEnd; k++) value = value * 10 + ((b[k] as number) - 0x30);
    } else {
      value = this.exactInteger(intStart, intEnd, fracStart, fracEnd, exponent);
    }
    if (value === 0) {
      this.grow(1);
      this.byte(0); // -0 is 0
      return;
    }
    const arg = negative ? value - 1 : value;
    this.grow(headSize(arg));
    this.head(negative ? 1 : 0, arg);
  }

  /** |value| of digits × 10^exponent when it is an integer ≤ 2^53 − 1; else ERR_MALFORMED. */
  private exactInteger(
    intStart: number,
    intEnd: number,
    fracStart: number,
    fracEnd: number,
    exponent: number,
  ): number {
    const b = this.b;
    // The digits, integer part then fraction, as one sequence; value = digits × 10^(exponent − fraction length).
    const total = intEnd - intStart + (fracEnd - fracStart);
    const digit = (k: number): number => {
      const at = k < intEnd - intStart ? intStart + k : fracStart + (k - (intEnd - intStart));
      return (b[at] as number) - 0x30;
    };
    let first = 0;
    while (first < total && digit(first) === 0) first++;
    if (first === total) return 0;
    let last = total - 1;
    while (digit(last) === 0) last--;
    const scale = exponent - (fracEnd - fracStart) + (total - 1 - last); // value = significant × 10^scale
    if (scale < 0) malformed('a number that is not an integer (exact decimal value)');
    const significant = last - first + 1;
    if (significant + scale > MAX_SAFE_DIGITS.length) malformed('an integer beyond ±(2^53-1)');
    let text = '';
    for (let k = first; k <= last; k++) text += String.fromCharCode(0x30 + digit(k));
    text += '0'.repeat(scale);
    if (text.length === MAX_SAFE_DIGITS.length && text > MAX_SAFE_DIGITS)
      malformed('an integer beyond ±(2^53-1)');
    const value = Number(text);
    if (value > MAX_SAFE) malformed('an integer beyond ±(2^53-1)'); // cannot happen after the test above
    return value;
  }
}

/**
 * Length of the UTF-8 sequence at `i` (RFC 3629 Table 3-7: no overlong forms, no surrogates,
 * nothing above U+10FFFF), or 0 when it is not one.
 */
function utf8SequenceLength(b: Uint8Array, i: number, end: number): number {
  const c = b[i] as number;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => {
    if (i + k >= end) return false;
    const x = b[i + k] as number;
    return x >= lo && x <= hi;
  };
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}
