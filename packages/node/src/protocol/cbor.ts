/**
 * The CBOR profile of the protocol (spec/PROTOCOL.md §3): RFC 8949 §4.2.1 deterministic
 * encoding over a small data model (null, booleans, safe integers, byte strings, UTF-8 text,
 * arrays, maps with text keys). The decoder accepts exactly the canonical bytes of a value of
 * that model and nothing else, so `encode(decode(b))` equals `b` for every accepted `b`.
 *
 * The decoder throws only {@link CborError}, whatever the input. It knows no format built on
 * it: the caller passes the limits (an event's are event.ts's `EVENT_CBOR_LIMITS`).
 */
import { compareBytes, hasLoneSurrogate, utf8, utf8Length } from './bytes.js';
import { AcceptedResult, ProtocolError, Reason } from './reasons.js';

export type CborValue = null | boolean | number | string | Uint8Array | CborValue[] | CborMap;

/** A map with text keys. Decoded maps have a null prototype, so `__proto__` is an ordinary key. */
export interface CborMap {
  [key: string]: CborValue;
}

type CborReason = typeof Reason.MALFORMED | typeof Reason.TOO_LARGE | typeof Reason.TOO_DEEP;

/** A value outside the profile (code ERR_MALFORMED) or beyond a limit (ERR_TOO_LARGE, ERR_TOO_DEEP). */
export class CborError extends ProtocolError {
  declare readonly code: CborReason;

  constructor(reason: CborReason, detail: string) {
    super(reason, detail);
  }
}

export interface CborLimits {
  /** Longest input accepted. */
  readonly maxInputBytes: number;
  /** Most containers nested inside each other (the top-level item counts as level 1). */
  readonly maxDepth: number;
  /** Longest text string, in UTF-8 bytes (map keys included). */
  readonly maxTextBytes: number;
  /** Longest byte string. */
  readonly maxByteStringBytes: number;
  /** Most entries in one array or one map (a map entry is a key and its value). */
  readonly maxEntries: number;
}

export const MAX_SAFE = Number.MAX_SAFE_INTEGER; // 2^53 - 1

// ---------------------------------------------------------------------------------------------
// Encoder

class Writer {
  buf = new Uint8Array(256);
  len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  head(major: number, arg: number): void {
    this.ensure(9);
    const m = major << 5;
    const b = this.buf;
    if (arg < 24) {
      b[this.len++] = m | arg;
    } else if (arg < 0x100) {
      b[this.len++] = m | 24;
      b[this.len++] = arg;
    } else if (arg < 0x10000) {
      b[this.len++] = m | 25;
      b[this.len++] = arg >>> 8;
      b[this.len++] = arg & 0xff;
    } else if (arg < 0x100000000) {
      b[this.len++] = m | 26;
      b[this.len++] = arg >>> 24;
      b[this.len++] = (arg >>> 16) & 0xff;
      b[this.len++] = (arg >>> 8) & 0xff;
      b[this.len++] = arg & 0xff;
    } else {
      const hi = Math.floor(arg / 0x100000000);
      const lo = arg >>> 0;
      b[this.len++] = m | 27;
      for (const word of [hi, lo]) {
        b[this.len++] = word >>> 24;
        b[this.len++] = (word >>> 16) & 0xff;
        b[this.len++] = (word >>> 8) & 0xff;
        b[this.len++] = word & 0xff;
      }
    }
  }

  bytes(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
  }

  /** Writes a string known to be ASCII, one byte per character. */
  ascii(text: string): void {
    this.ensure(text.length);
    const b = this.buf;
    for (let i = 0; i < text.length; i++) b[this.len++] = text.charCodeAt(i);
  }
}

const scratch = new Writer();

const ENCODE_DEPTH_GUARD = 512; // stops cycles; real limits are the decoder's

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return false;
  return true;
}

function writeText(w: Writer, text: string): void {
  if (isAscii(text)) {
    w.head(3, text.length);
    w.ascii(text);
    return;
  }
  if (hasLoneSurrogate(text)) {
    throw new CborError(Reason.MALFORMED, 'text has an unpaired surrogate (no UTF-8 form)');
  }
  const data = utf8(text);
  w.head(3, data.length);
  w.bytes(data);
}

/**
 * RFC 8949 §4.2.1 orders map keys by their encoded bytes. For text keys the head encodes the
 * UTF-8 length, so that is: shorter first, then bytewise. (UTF-16 order differs from UTF-8
 * order outside ASCII, hence the byte comparison there.)
 */
function compareKeys(
  a: { key: string; length: number },
  b: { key: string; length: number },
): number {
  if (a.length !== b.length) return a.length - b.length;
  if (isAscii(a.key) && isAscii(b.key)) return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  return compareBytes(utf8(a.key), utf8(b.key));
}

function encodeInto(w: Writer, value: CborValue, depth: number): void {
  if (value === null) return void w.head(7, 22);
  switch (typeof value) {
    case 'boolean':
      return void w.head(7, value ? 21 : 20);
    case 'number':
      if (!Number.isInteger(value) || Math.abs(value) > MAX_SAFE) {
        throw new CborError(Reason.MALFORMED, `${value} is not an integer within ±(2^53-1)`);
      }
      if (value >= 0) w.head(0, value);
      else w.head(1, -1 - value);
      return;
    case 'string':
      writeText(w, value);
      return;
    case 'object':
      break;
    default:
      throw new CborError(Reason.MALFORMED, `a ${typeof value} has no CBOR form here`);
  }
  if (depth >= ENCODE_DEPTH_GUARD) throw new CborError(Reason.TOO_DEEP, 'value nested too deeply');
  if (value instanceof Uint8Array) {
    w.head(2, value.length);
    w.bytes(value);
    return;
  }
  if (Array.isArray(value)) {
    w.head(4, value.length);
    for (const item of value as CborValue[]) encodeInto(w, item, depth + 1);
    return;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new CborError(Reason.MALFORMED, 'only plain objects encode as maps');
  }
  const order = canonicalKeyOrder(Object.keys(value));
  w.head(5, order.length);
  for (const key of order) {
    writeText(w, key);
    encodeInto(w, (value as CborMap)[key] as CborValue, depth + 1);
  }
}

/**
 * Map keys in canonical order. Formats built on CBOR repeat the same few shapes (an event's
 * fields, the same payload layouts), so the order of a key list is remembered: a cache of at most
 * {@link KEY_ORDER_CACHE} shapes, emptied when full, keyed by the keys joined with a separator
 * that no valid key contains (a lone surrogate).
 */
const KEY_ORDER_CACHE = 1024;
const keyOrders = new Map<string, readonly string[]>();

function canonicalKeyOrder(keys: string[]): readonly string[] {
  const shape = keys.join('\ud800');
  const known = keyOrders.get(shape);
  // Equal joins of equally many keys are equal lists: a key holding the separator would add a
  // piece. Such a key is invalid (lone surrogate) and is refused below, never cached.
  if (known !== undefined && known.length === keys.length) return known;
  const sized = keys.map((key) => {
    if (hasLoneSurrogate(key)) {
      throw new CborError(Reason.MALFORMED, 'map key has an unpaired surrogate (no UTF-8 form)');
    }
    return { key, length: utf8Length(key) };
  });
  sized.sort(compareKeys);
  const order = Object.freeze(sized.map((k) => k.key));
  if (keyOrders.size >= KEY_ORDER_CACHE) keyOrders.clear();
  keyOrders.set(shape, order);
  return order;
}

/**
 * The deterministic encoding of a value of the data model. Throws {@link CborError} for a value
 * outside it (a float, an unsafe integer, a lone surrogate, a class instance, undefined).
 */
export function encodeCbor(value: CborValue): Uint8Array {
  // One scratch writer, reused: encoding never calls back into encodeCbor. A failed encoding
  // leaves it dirty, so it is reset on entry.
  const w = scratch;
  w.len = 0;
  encodeInto(w, value, 0);
  return w.buf.slice(0, w.len);
}

// ---------------------------------------------------------------------------------------------
// Decoder

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function malformed(detail: string): never {
  throw new CborError(Reason.MALFORMED, detail);
}

/**
 * A strict reader over one buffer. `pos` is public so that a format's decoder can take the
 * byte spans of top-level fields (an event's body is a prefix of the event, see event.ts).
 */
export class CborReader {
  pos = 0;
  /** Where each key of the top-level map starts, when the top-level item is a map. */
  readonly topLevelKeyOffsets: number[] = [];
  // The head last read (fields rather than a returned object: this is the hot path).
  private major = 0;
  private arg = 0;

  constructor(
    readonly bytes: Uint8Array,
    readonly limits: CborLimits,
  ) {}

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** Reads the head of an item into `major` and `arg`, requiring the shortest form. */
  private head(): void {
    const b = this.bytes;
    if (this.pos >= b.length) malformed('unexpected end of input');
    const ib = b[this.pos++] as number;
    const major = ib >> 5;
    const ai = ib & 31;
    this.major = major;
    if (major === 7) {
      if (ai >= 20 && ai <= 22) {
        this.arg = ai;
        return;
      }
      if (ai >= 25 && ai <= 27) malformed('floats are not allowed');
      if (ai === 31) malformed('break byte outside an indefinite-length item');
      malformed(`simple value ${ai} is not allowed`);
    }
    if (ai < 24) {
      this.arg = ai;
      return;
    }
    if (ai === 31) malformed('indefinite lengths are not allowed');
    if (ai > 27) malformed(`reserved additional information ${ai}`);
    const n = 1 << (ai - 24); // 1, 2, 4 or 8 bytes
    if (this.remaining < n) malformed('unexpected end of input');
    let arg = 0;
    for (let i = 0; i < n; i++) arg = arg * 256 + (b[this.pos++] as number);
    const min = n === 1 ? 24 : n === 2 ? 0x100 : n === 4 ? 0x10000 : 0x100000000;
    if (arg < min) malformed('integer or length not in shortest form');
    this.arg = arg;
  }

  item(depth: number): CborValue {
    this.head();
    const arg = this.arg;
    switch (this.major) {
      case 0:
        if (arg > MAX_SAFE) malformed('integer above 2^53-1');
        return arg;
      case 1:
        if (arg > MAX_SAFE - 1) malformed('integer below -(2^53-1)');
        return -1 - arg;
      case 2:
        if (arg > this.limits.maxByteStringBytes) {
          throw new CborError(Reason.TOO_LARGE, `byte string of ${arg} bytes`);
        }
        return this.bytes.slice(this.start(arg), this.pos);
      case 3:
        return this.text(arg);
      case 4:
      case 5:
        return this.container(this.major, arg, depth + 1);
      case 6:
        return malformed('tags are not allowed');
      default:
        // major 7 with a valid simple value: false, true, null
        return arg === 20 ? false : arg === 21 ? true : null;
    }
  }

  /** Skips `n` content bytes and returns where they start. */
  private start(n: number): number {
    if (n > this.remaining) malformed('unexpected end of input');
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private text(n: number): string {
    if (n > this.limits.maxTextBytes) {
      throw new CborError(Reason.TOO_LARGE, `text string of ${n} bytes`);
    }
    const b = this.bytes;
    const at = this.start(n);
    if (n <= 32) {
      // Short ASCII (keys, DIDs, kinds) without a call into the TextDecoder.
      let out = '';
      let i = at;
      for (; i < at + n; i++) {
        const c = b[i] as number;
        if (c >= 0x80) break;
        out += String.fromCharCode(c);
      }
      if (i === at + n) return out;
    }
    try {
      return utf8Decoder.decode(b.subarray(at, at + n));
    } catch {
      return malformed('text is not valid UTF-8');
    }
  }

  /** Bytewise order of two spans of the input. */
  private compareSpans(a: number, aEnd: number, b: number, bEnd: number): number {
    const bytes = this.bytes;
    const n = Math.min(aEnd - a, bEnd - b);
    for (let i = 0; i < n; i++) {
      const d = (bytes[a + i] as number) - (bytes[b + i] as number);
      if (d !== 0) return d;
    }
    return aEnd - a - (bEnd - b);
  }

  private container(major: number, n: number, depth: number): CborValue {
    if (depth > this.limits.maxDepth) {
      throw new CborError(
        Reason.TOO_DEEP,
        `containers nested more than ${this.limits.maxDepth} deep`,
      );
    }
    if (n > this.limits.maxEntries) {
      throw new CborError(Reason.TOO_LARGE, `${major === 4 ? 'array' : 'map'} of ${n} entries`);
    }
    if (n * (major === 4 ? 1 : 2) > this.remaining) malformed('unexpected end of input');
    if (major === 4) {
      const out: CborValue[] = new Array<CborValue>(n);
      for (let i = 0; i < n; i++) out[i] = this.item(depth);
      return out;
    }
    const out = Object.create(null) as CborMap;
    let prevStart = -1;
    let prevEnd = -1;
    for (let i = 0; i < n; i++) {
      const keyStart = this.pos;
      if (depth === 1) this.topLevelKeyOffsets.push(keyStart);
      if (this.pos < this.bytes.length && (this.bytes[this.pos] as number) >> 5 !== 3) {
        malformed('map keys must be text strings');
      }
      const key = this.item(depth) as string;
      const keyEnd = this.pos;
      if (prevStart >= 0) {
        const order = this.compareSpans(prevStart, prevEnd, keyStart, keyEnd);
        if (order === 0) malformed(`duplicate map key ${JSON.stringify(key)}`);
        if (order > 0) malformed(`map keys not in canonical order at ${JSON.stringify(key)}`);
      }
      prevStart = keyStart;
      prevEnd = keyEnd;
      out[key] = this.item(depth);
    }
    return out;
  }

  /** Throws unless every byte was read. */
  end(): void {
    if (this.pos !== this.bytes.length) malformed(`${this.remaining} trailing bytes`);
  }
}

/**
 * Decodes exactly one canonical item that fills `bytes`. Throws {@link CborError} (and nothing
 * else) for any input that is not the deterministic encoding of a value within `limits`.
 */
export function decodeCbor(bytes: Uint8Array, limits: CborLimits): CborValue {
  if (!(bytes instanceof Uint8Array)) malformed('input is not a Uint8Array');
  if (bytes.length > limits.maxInputBytes) {
    throw new CborError(
      Reason.TOO_LARGE,
      `input of ${bytes.length} bytes (limit ${limits.maxInputBytes})`,
    );
  }
  const reader = new CborReader(bytes, limits);
  const value = reader.item(0);
  reader.end();
  return value;
}

/** `decodeCbor` without the throw: the value or the {@link CborError}. */
export function tryDecodeCbor(
  bytes: Uint8Array,
  limits: CborLimits,
): { ok: true; value: CborValue } | { ok: false; error: CborError } {
  try {
    return new AcceptedResult(decodeCbor(bytes, limits)); // (not a literal: reasons.ts)
  } catch (error) {
    if (error instanceof CborError) return { ok: false, error };
    throw error;
  }
}

/** True for a plain map value of the data model (not an array, not bytes). */
export function isCborMap(value: unknown): value is CborMap {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array)
  );
}
