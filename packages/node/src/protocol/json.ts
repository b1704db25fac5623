/**
 * The JSON form of an event (spec/PROTOCOL.md §3.4), used by the HTTP API: the same fields
 * and values as the CBOR form, with byte strings (`nonce`, `sig`) as lowercase hex.
 *
 * `parseEventJson` turns any JSON value into a checked event or a typed rejection; it applies
 * the limits of the CBOR profile while it walks, so its work is bounded by the event limit.
 */
import { fromHex, hasLoneSurrogate, toHex, utf8Length } from './bytes.js';
import { MAX_SAFE, type CborMap, type CborValue } from './cbor.js';
import {
  encodeBody,
  eventBytesFromBody,
  eventFromMap,
  type CommonsEvent,
  type DecodedEvent,
  type Payload,
} from './event.js';
import { Reason, accept, reject, type Rejection, type Result } from './reasons.js';
import { LIMITS } from './rules.js';

/** The JSON form, field for field. Optional fields are absent, never null. */
export interface EventJson {
  v: number;
  kind: string;
  author: string;
  created_at: number;
  expires_at: number;
  nonce: string;
  payload: Payload;
  threshold?: number;
  signers?: string[];
  signatures: Array<{ signer: string; sig: string }>;
}

/** Longest JSON text `parseEventJsonText` reads (hex doubles byte strings; escapes add more). */
export const MAX_EVENT_JSON_CHARS = 4 * LIMITS.maxEventBytes;

const MAX_DEPTH = LIMITS.maxPayloadDepth + 1; // the event object is level 1, as in CBOR

const GENERIC = Symbol('generic');
type Special = (key: string, v: unknown) => CborValue | typeof GENERIC;

class Stop {
  constructor(readonly rejection: Rejection) {}
}

function stop(reason: Rejection['reason'], detail: string): never {
  throw new Stop(reject(reason, detail));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** CBOR head size for an argument. */
function headSize(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x100000000 ? 5 : 9;
}

/** Converts JSON to the CBOR data model, counting the exact encoded size as it goes. */
class Converter {
  size = 0;

  private grow(n: number): void {
    this.size += n;
    if (this.size > LIMITS.maxEventBytes) {
      stop(Reason.TOO_LARGE, `event encodes to more than ${LIMITS.maxEventBytes} bytes`);
    }
  }

  text(value: string): string {
    if (hasLoneSurrogate(value)) stop(Reason.MALFORMED, 'text has an unpaired surrogate');
    const n = utf8Length(value);
    if (n > LIMITS.maxTextBytes) stop(Reason.TOO_LARGE, `text string of ${n} bytes`);
    this.grow(headSize(n) + n);
    return value;
  }

  hex(value: unknown, field: string): CborValue {
    if (typeof value !== 'string') return this.value(value, 2); // wrong type: the schema says so
    if (value.length > 2 * LIMITS.maxByteStringBytes) {
      stop(Reason.TOO_LARGE, `${field} longer than ${LIMITS.maxByteStringBytes} bytes`);
    }
    const bytes = fromHex(value);
    if (bytes === null) stop(Reason.MALFORMED, `${field} must be lowercase hex of even length`);
    this.grow(headSize(bytes.length) + bytes.length);
    return bytes;
  }

  value(value: unknown, depth: number): CborValue {
    switch (typeof value) {
      case 'boolean':
        this.grow(1);
        return value;
      case 'number':
        if (!Number.isInteger(value) || Math.abs(value) > MAX_SAFE) {
          stop(Reason.MALFORMED, `${value} is not an integer within ±(2^53-1)`);
        }
        this.grow(headSize(value < 0 ? -1 - value : value));
        return value === 0 ? 0 : value; // -0 is 0
      case 'string':
        return this.text(value);
      case 'object':
        break;
      default:
        return stop(Reason.MALFORMED, `a JSON value cannot be a ${typeof value}`);
    }
    if (value === null) {
      this.grow(1);
      return null;
    }
    if (depth > MAX_DEPTH) stop(Reason.TOO_DEEP, `containers nested more than ${MAX_DEPTH} deep`);
    if (Array.isArray(value)) {
      if (value.length > LIMITS.maxEntries) stop(Reason.TOO_LARGE, `array of ${value.length} entries`);
      this.grow(headSize(value.length));
      const out: CborValue[] = [];
      for (const item of value as unknown[]) out.push(this.value(item, depth + 1));
      return out;
    }
    return this.object(value, depth, () => GENERIC);
  }

  /** A JSON object as a map; `special` may convert a field (hex) instead of the generic walk. */
  object(value: object, depth: number, special: Special): CborMap {
    if (!isPlainObject(value)) stop(Reason.MALFORMED, 'not a JSON value (object with a prototype)');
    const keys = Object.keys(value);
    if (keys.length > LIMITS.maxEntries) stop(Reason.TOO_LARGE, `map of ${keys.length} entries`);
    this.grow(headSize(keys.length));
    const out = Object.create(null) as CborMap;
    for (const key of keys) {
      this.text(key);
      const v = value[key];
      const converted = special(key, v);
      out[key] = converted === GENERIC ? this.value(v, depth + 1) : converted;
    }
    return out;
  }

  event(value: unknown): CborMap {
    if (!isPlainObject(value)) stop(Reason.MALFORMED, 'an event is a JSON object');
    return this.object(value, 1, (key, v) => {
      if (key === 'nonce') return this.hex(v, 'nonce');
      if (key === 'signatures' && Array.isArray(v)) {
        if (v.length > LIMITS.maxEntries) stop(Reason.TOO_LARGE, `array of ${v.length} entries`);
        this.grow(headSize(v.length));
        return (v as unknown[]).map((entry) =>
          isPlainObject(entry)
            ? this.object(entry, 3, (k, s) => (k === 'sig' ? this.hex(s, 'sig') : GENERIC))
            : this.value(entry, 3),
        );
      }
      return GENERIC;
    });
  }
}

/**
 * Parses the JSON form of an event (a value from `JSON.parse`) and checks it as
 * `decodeEvent` checks bytes. Never throws on a JSON value.
 */
export function parseEventJson(value: unknown): Result<DecodedEvent> {
  let map: CborMap;
  try {
    map = new Converter().event(value);
  } catch (error) {
    if (error instanceof Stop) return error.rejection;
    throw error;
  }
  const checked = eventFromMap(map);
  if (!checked.ok) return checked;
  // The converter enforced every limit of the CBOR profile while it walked, so encoding cannot
  // fail here and needs no second decode; the size check is the converter's, made exact.
  const body = encodeBody(checked.value.event);
  const encoded = eventBytesFromBody(body, checked.value.event.signatures);
  if (encoded.length > LIMITS.maxEventBytes) {
    return reject(Reason.TOO_LARGE, `event encodes to ${encoded.length} bytes`);
  }
  return accept({ ...checked.value, body, encoded });
}

/** `JSON.parse` then {@link parseEventJson}; a syntax error is ERR_MALFORMED. */
export function parseEventJsonText(text: string): Result<DecodedEvent> {
  if (typeof text !== 'string') return reject(Reason.MALFORMED, 'JSON text must be a string');
  if (text.length > MAX_EVENT_JSON_CHARS) {
    return reject(Reason.TOO_LARGE, `JSON text of ${text.length} characters`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return reject(Reason.MALFORMED, 'not JSON');
  }
  const duplicate = duplicateJsonKey(text);
  if (duplicate !== null) {
    return reject(Reason.MALFORMED, `duplicate JSON member name ${JSON.stringify(duplicate)}`);
  }
  return parseEventJson(value);
}

/**
 * The first member name that appears twice in one object of a JSON text, or `null`. JSON.parse
 * keeps the last one silently; the protocol rejects such texts (§3.4) so that every reader sees
 * the same event. `text` must already be valid JSON.
 */
export function duplicateJsonKey(text: string): string | null {
  const stack: Array<{ keys: Set<string>; expectKey: boolean } | null> = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22) {
      const start = i;
      let escaped = false;
      for (i++; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c === 0x5c) {
          escaped = true;
          i++; // the escaped character cannot end the string
        } else if (c === 0x22) break;
      }
      const top = stack[stack.length - 1];
      if (top?.expectKey === true) {
        const key = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : text.slice(start + 1, i);
        if (top.keys.has(key)) return key;
        top.keys.add(key);
        top.expectKey = false;
      }
    } else if (ch === 0x7b) stack.push({ keys: new Set(), expectKey: true });
    else if (ch === 0x5b) stack.push(null);
    else if (ch === 0x7d || ch === 0x5d) stack.pop();
    else if (ch === 0x2c) {
      const top = stack[stack.length - 1];
      if (top) top.expectKey = true;
    }
  }
  return null;
}

/** The JSON form of an event. */
export function eventToJson(event: CommonsEvent): EventJson {
  return {
    v: event.v,
    kind: event.kind,
    author: event.author,
    created_at: event.createdAt,
    expires_at: event.expiresAt,
    nonce: toHex(event.nonce),
    payload: event.payload,
    ...(event.policy === undefined
      ? {}
      : { threshold: event.policy.threshold, signers: [...event.policy.signers] }),
    signatures: event.signatures.map((s) => ({ signer: s.signer, sig: toHex(s.sig) })),
  };
}
