/**
 * The one reader of JSON texts (spec/PROTOCOL.md §3.4): the UTF-8 bytes of one JSON text in,
 * the checked event or a typed rejection out. Every path that takes events as JSON (HTTP, the
 * worker pool, the CLI, the reference validator, the vector generator) reads them here, from the
 * bytes it received, so that no lossy step (JSON.parse turning `1e400` into Infinity, or keeping
 * the last of two equal member names) can sit between the wire and the rules. Key events
 * (spec/IDENTITY.md §5.3) are read by the same reader under their own profile
 * ({@link JsonTextProfile}: which members are hex, and their limits), through
 * {@link readJsonObject}.
 *
 * It reads the bytes once, front to back, and checks as it goes: UTF-8 (RFC 3629), the JSON
 * grammar (RFC 8259), member names unique per object, numbers by their exact decimal value,
 * and every limit of §3.2/§6 (the JSON text size before anything else, then nesting, entries,
 * text and byte-string sizes, and the size of the canonical CBOR the value will encode to).
 * So its work and memory are bounded by the limits, whatever the input. The value it builds is
 * the CBOR data model, then checked by the same schema code as the CBOR form.
 */
import { fromHex } from './bytes.js';
import type { CborMap, CborValue } from './cbor.js';
import {
  type DecodedEvent,
  encodeBody,
  eventBytesFromBody,
  eventFromMap,
  type Payload,
} from './event.js';
import { LIMITS, MAX_EVENT_JSON_BYTES } from './limits.js';
import { accept, Reason, type Result, reject } from './reasons.js';

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

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_SAFE_DIGITS = '9007199254740991';
/** Exponents are clamped here: beyond it every nonzero value is out of range or not integral. */
const EXPONENT_CLAMP = 1_000_000_000;

// What a value is, by where it sits: only these places read differently (hex strings).
const GENERIC = 0;
const EVENT = 1; // the top-level object
const SIGNATURES = 2; // the value of the event's `signatures`
const ENTRY = 3; // an element of that array
const HEX = 4; // a hex member of the profile (`nonce`...), and `sig` in an entry

type ReaderReason = typeof Reason.MALFORMED | typeof Reason.TOO_LARGE | typeof Reason.TOO_DEEP;

/** Thrown inside the reader only; the entry points turn it into a rejection. */
class Stop {
  constructor(
    readonly reason: ReaderReason,
    readonly detail: string,
  ) {}
}

function malformed(detail: string): never {
  throw new Stop(Reason.MALFORMED, detail);
}

/** CBOR head size for an argument (§3.2: shortest form). */
function headSize(n: number): number {
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
const hexValue = (c: number | undefined): number =>
  c === undefined ? -1 : (HEX_VALUE[c] as number);
/** Lowercase hex digits only: what a byte string's hex may hold. */
const isLowerHex = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66);
const NO_BYTES = new Uint8Array(0);

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** ASCII bytes as a string; short runs without a call into the TextDecoder. */
function asciiString(b: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n <= 24) {
    let out = '';
    for (let i = start; i < end; i++) out += String.fromCharCode(b[i] as number);
    return out;
  }
  return utf8Decoder.decode(b.subarray(start, end));
}

function describe(c: number | undefined): string {
  if (c === undefined) return 'the end of the text';
  if (c >= 0x21 && c <= 0x7e) return `'${String.fromCharCode(c)}'`;
  return `byte 0x${c.toString(16).padStart(2, '0')}`;
}

class JsonTextReader {
  private b: Uint8Array = NO_BYTES;
  private pos = 0;
  private end = 0;
  /** Bytes of canonical CBOR that what was read so far will encode to. */
  private size = 0;
  private profile: JsonTextProfile = EVENT_JSON_PROFILE;
  // the profile's fields, read on every value
  private maxBytes = EVENT_JSON_PROFILE.maxEncodedBytes;
  private maxDepth = EVENT_JSON_PROFILE.maxDepth;
  private hexMembers = EVENT_JSON_PROFILE.hexMembers;

  reset(bytes: Uint8Array, start: number, end: number, profile: JsonTextProfile): void {
    this.b = bytes;
    this.pos = start;
    this.end = end;
    this.size = 0;
    if (profile !== this.profile) {
      this.profile = profile;
      this.maxBytes = profile.maxEncodedBytes;
      this.maxDepth = profile.maxDepth;
      this.hexMembers = profile.hexMembers;
    }
  }

  /** Drops the reference to the caller's bytes. */
  release(): void {
    this.b = NO_BYTES;
  }

  private grow(n: number): void {
    this.size += n;
    if (this.size > this.maxBytes) {
      throw new Stop(
        Reason.TOO_LARGE,
        `${this.profile === EVENT_JSON_PROFILE ? 'the event' : this.profile.what} encodes to more than ${this.maxBytes} bytes`,
      );
    }
  }

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

  /** The top level: an object, read as the event (or key event) map. */
  top(): CborMap {
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
    return this.object(1, EVENT);
  }

  /** Any value; containers in it sit at `parentDepth + 1`. */
  value(parentDepth: number, role: number): CborValue {
    this.skipWhitespace();
    if (this.pos >= this.end) malformed('a value is missing at the end of the text');
    const c = this.b[this.pos] as number;
    switch (c) {
      case 0x7b: // {
        return this.object(parentDepth + 1, role === ENTRY ? ENTRY : GENERIC);
      case 0x5b: // [
        return this.array(parentDepth + 1, role);
      case 0x22: // "
        return role === HEX ? this.hex() : this.text();
      case 0x74: // t
        this.literal('true');
        this.grow(1);
        return true;
      case 0x66: // f
        this.literal('false');
        this.grow(1);
        return false;
      case 0x6e: // n
        this.literal('null');
        this.grow(1);
        return null;
      default:
        if (c === 0x2d || isDigit(c)) return this.number();
        return malformed(`${describe(c)} cannot start a JSON value`);
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
      throw new Stop(Reason.TOO_DEEP, `containers nested more than ${this.maxDepth} deep`);
    }
  }

  private object(depth: number, role: number): CborMap {
    this.enter(depth);
    const b = this.b;
    this.pos++; // {
    const out = Object.create(null) as CborMap;
    let count = 0;
    this.skipWhitespace();
    if (b[this.pos] === 0x7d && this.pos < this.end) {
      this.pos++;
      this.grow(1);
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.pos >= this.end || b[this.pos] !== 0x22)
        malformed(`expected a member name, found ${describe(this.at())}`);
      if (++count > LIMITS.maxEntries)
        throw new Stop(Reason.TOO_LARGE, `an object of more than ${LIMITS.maxEntries} members`);
      const key = this.text();
      if (out[key] !== undefined) malformed(`duplicate JSON member name ${JSON.stringify(key)}`);
      this.skipWhitespace();
      if (this.pos >= this.end || b[this.pos] !== 0x3a)
        malformed(`expected ':' after a member name, found ${describe(this.at())}`);
      this.pos++;
      let child = GENERIC;
      if (role === EVENT)
        child = key === 'signatures' ? SIGNATURES : this.hexMembers.has(key) ? HEX : GENERIC;
      else if (role === ENTRY && key === 'sig') child = HEX;
      out[key] = this.value(depth, child);
      this.skipWhitespace();
      const c = this.at();
      this.pos++;
      if (c === 0x2c) continue;
      if (c === 0x7d) break;
      malformed(`expected ',' or '}' in an object, found ${describe(c)}`);
    }
    this.grow(headSize(count));
    return out;
  }

  private array(depth: number, role: number): CborValue[] {
    this.enter(depth);
    const b = this.b;
    this.pos++; // [
    const out: CborValue[] = [];
    this.skipWhitespace();
    if (b[this.pos] === 0x5d && this.pos < this.end) {
      this.pos++;
      this.grow(1);
      return out;
    }
    const child = role === SIGNATURES ? ENTRY : GENERIC;
    for (;;) {
      if (out.length === LIMITS.maxEntries)
        throw new Stop(Reason.TOO_LARGE, `an array of more than ${LIMITS.maxEntries} entries`);
      out.push(this.value(depth, child));
      this.skipWhitespace();
      const c = this.at();
      this.pos++;
      if (c === 0x2c) continue;
      if (c === 0x5d) break;
      malformed(`expected ',' or ']' in an array, found ${describe(c)}`);
    }
    this.grow(headSize(out.length));
    return out;
  }

  private at(): number | undefined {
    return this.pos < this.end ? this.b[this.pos] : undefined;
  }

  /** A string value or member name as text (§3.1): its size counts toward the limits. */
  private text(): string {
    const { value, bytes } = this.string();
    this.grow(headSize(bytes) + bytes);
    return value;
  }

  /** A hex member (`nonce`, `sig`...): lowercase hex of even length, at most 64 bytes. */
  private hex(): Uint8Array | string {
    const b = this.b;
    const start = this.pos + 1;
    let i = start;
    while (i < this.end) {
      if (!isLowerHex(b[i] as number)) break;
      i++;
    }
    let text: string | undefined;
    let length = i - start;
    if (i >= this.end || b[i] !== 0x22) {
      // escapes or other characters: read the string, then judge its value
      const read = this.string();
      text = read.value;
      length = read.bytes;
    }
    if (length > 2 * LIMITS.maxByteStringBytes) {
      throw new Stop(Reason.TOO_LARGE, `hex for more than ${LIMITS.maxByteStringBytes} bytes`);
    }
    let out: Uint8Array | null;
    if (text === undefined) {
      if (length % 2 !== 0) malformed('hex of odd length');
      out = new Uint8Array(length / 2);
      for (let k = 0; k < out.length; k++) {
        out[k] =
          ((HEX_VALUE[b[start + 2 * k] as number] as number) << 4) |
          (HEX_VALUE[b[start + 2 * k + 1] as number] as number);
      }
      this.pos = i + 1;
    } else {
      out = fromHex(text);
      if (out === null) malformed('a byte string must be lowercase hex of even length');
    }
    this.grow(headSize(out.length) + out.length);
    return out;
  }

  /**
   * A JSON string: its value and UTF-8 length. Checks UTF-8, control characters, escapes
   * (an unpaired surrogate has no UTF-8 form) and the text limit as it reads.
   */
  private string(): { value: string; bytes: number } {
    const b = this.b;
    const end = this.end;
    const start = this.pos + 1;
    let i = start;
    // Printable ASCII without escapes: keys, dids, kinds, most text.
    while (i < end) {
      const c = b[i] as number;
      if (c === 0x22 || c === 0x5c || c < 0x20 || c >= 0x80) break;
      i++;
    }
    if (i - start > LIMITS.maxTextBytes)
      throw new Stop(Reason.TOO_LARGE, `a text string of more than ${LIMITS.maxTextBytes} bytes`);
    if (i < end && b[i] === 0x22) {
      this.pos = i + 1;
      return { value: asciiString(b, start, i), bytes: i - start };
    }
    return this.stringSlow(start, i);
  }

  private stringSlow(start: number, from: number): { value: string; bytes: number } {
    const b = this.b;
    const end = this.end;
    let value = '';
    let segment = start; // bytes since the last escape, copied as they are
    let nonAscii = false;
    let bytes = from - start;
    let i = from;
    const flush = (to: number): void => {
      if (to > segment)
        value += nonAscii
          ? utf8Decoder.decode(b.subarray(segment, to))
          : asciiString(b, segment, to);
    };
    for (;;) {
      if (bytes > LIMITS.maxTextBytes)
        throw new Stop(Reason.TOO_LARGE, `a text string of more than ${LIMITS.maxTextBytes} bytes`);
      if (i >= end) malformed('a string runs to the end of the text');
      const c = b[i] as number;
      if (c === 0x22) {
        flush(i);
        this.pos = i + 1;
        return { value, bytes };
      }
      if (c === 0x5c) {
        flush(i);
        const { code, length } = this.escape(i);
        i += length;
        value += String.fromCharCode(code);
        if (code >= 0xd800 && code <= 0xdbff) {
          // a high surrogate must be followed by a low one, as an escape
          // (never a byte past `end`: the span is the whole text, whatever follows it in the buffer)
          if (i + 1 >= end || b[i] !== 0x5c || b[i + 1] !== 0x75)
            malformed('an unpaired surrogate escape (no UTF-8 form)');
          const low = this.escape(i);
          if (low.code < 0xdc00 || low.code > 0xdfff)
            malformed('an unpaired surrogate escape (no UTF-8 form)');
          i += low.length;
          value += String.fromCharCode(low.code);
          bytes += 4;
        } else if (code >= 0xdc00 && code <= 0xdfff) {
          malformed('an unpaired surrogate escape (no UTF-8 form)');
        } else {
          bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : 3;
        }
        segment = i;
        nonAscii = false;
        continue;
      }
      if (c < 0x20)
        malformed(
          `control character 0x${c.toString(16).padStart(2, '0')} in a string (must be escaped)`,
        );
      if (c < 0x80) {
        i++;
        bytes++;
        continue;
      }
      const n = utf8SequenceLength(b, i, end);
      if (n === 0) malformed('invalid UTF-8');
      nonAscii = true;
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
  private number(): number {
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
      return 0; // -0 is 0
    }
    this.grow(headSize(negative ? value - 1 : value));
    return negative ? -value : value;
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

// One reader, reused: it never calls back into itself.
const reader = new JsonTextReader();

function checkSpan(bytes: Uint8Array, start: number, end: number): void {
  if (!(bytes instanceof Uint8Array))
    throw new TypeError('JSON text must be given as bytes (a Uint8Array)');
  if (
    !Number.isInteger(start) ||
    !Number.isInteger(end) ||
    start < 0 ||
    end > bytes.length ||
    start > end
  ) {
    throw new RangeError(`span [${start}, ${end}) outside ${bytes.length} bytes`);
  }
}

function run<T>(
  bytes: Uint8Array,
  start: number,
  end: number,
  profile: JsonTextProfile,
  read: (r: JsonTextReader) => T,
): Result<T> {
  reader.reset(bytes, start, end, profile);
  try {
    const value = read(reader);
    reader.finish();
    return accept(value);
  } catch (error) {
    if (error instanceof Stop) return reject(error.reason, error.detail);
    throw error;
  } finally {
    reader.release();
  }
}

/**
 * Reads the JSON text of one event from `bytes[start, end)` and checks it as `decodeEvent`
 * checks CBOR (§7 steps 1–3). Never throws on any content; throws only for a span outside
 * `bytes` (a caller bug).
 */
export function readEventJson(
  bytes: Uint8Array,
  start = 0,
  end = bytes.length,
): Result<DecodedEvent> {
  const read = readJsonObject(bytes, EVENT_JSON_PROFILE, start, end);
  if (!read.ok) return read;
  const checked = eventFromMap(read.value);
  if (!checked.ok) return checked;
  // The reader enforced every limit of the CBOR profile, so encoding cannot fail here; the
  // size it counted is exact, and checked once more on the bytes themselves.
  const body = encodeBody(checked.value.event);
  const encoded = eventBytesFromBody(body, checked.value.event.signatures);
  if (encoded.length > LIMITS.maxEventBytes) {
    return reject(Reason.TOO_LARGE, `the event encodes to ${encoded.length} bytes`);
  }
  return accept({ ...checked.value, body, encoded });
}

/**
 * Reads a JSON text as a payload value (§2.3) with the limits that apply to a payload inside an
 * event (its containers start at depth 2). For tools that take a payload as JSON.
 */
export function readJsonPayload(bytes: Uint8Array, start = 0, end = bytes.length): Result<Payload> {
  checkSpan(bytes, start, end);
  if (end - start > MAX_EVENT_JSON_BYTES) {
    return reject(Reason.TOO_LARGE, `a JSON text of more than ${MAX_EVENT_JSON_BYTES} bytes`);
  }
  return run(bytes, start, end, EVENT_JSON_PROFILE, (r) => r.value(1, GENERIC) as Payload);
}

/**
 * Reads the JSON text `bytes[start, end)` as one object under `profile` (§3.4: its size first,
 * then UTF-8, grammar, unique names, exact numbers, the profile's hex members as bytes and
 * every limit while reading), into the CBOR data model. The caller checks the value's schema.
 * Never throws on any content; throws only for a span outside `bytes` (a caller bug).
 */
export function readJsonObject(
  bytes: Uint8Array,
  profile: JsonTextProfile,
  start = 0,
  end = bytes.length,
): Result<CborMap> {
  checkSpan(bytes, start, end);
  if (end - start > profile.maxJsonBytes) {
    return reject(Reason.TOO_LARGE, `a JSON text of more than ${profile.maxJsonBytes} bytes`);
  }
  return run(bytes, start, end, profile, (r) => r.top());
}
