/**
 * The JSON form of a key event (spec/IDENTITY.md §5.3): the same fields and values as the CBOR
 * form, with the byte strings (`prior`, `target`, `next`, each `signatures[i].sig`) as
 * lowercase hex. A JSON key event is valid exactly when its CBOR encoding is.
 */
import { fromHex, hasLoneSurrogate, toHex, utf8Length } from '../protocol/bytes.js';
import { type CborMap, type CborValue, MAX_SAFE } from '../protocol/cbor.js';
import type { Hasher } from '../protocol/event.js';
import { Reason } from '../protocol/reasons.js';
import {
  type DecodedKeyEvent,
  isEstablishment,
  KEL_LIMITS,
  KEY_EVENT_CBOR_LIMITS,
  type KeyEvent,
  keyEventFromValue,
} from './key-event.js';
import { type KelRejection, type KelResult, kelReject } from './reasons.js';

export interface KeyEventJson {
  v: number;
  type: string;
  identity?: string;
  seq?: number;
  prior?: string;
  target?: string;
  created_at: number;
  keys?: string[];
  threshold?: number;
  next?: string;
  guardians?: string[];
  guardian_threshold?: number;
  recovery_delay?: number;
  revoked_from?: number;
  signatures: Array<{ signer: string; sig: string }>;
}

/** Longest JSON text read: hex doubles byte strings, escapes add more. */
export const MAX_KEY_EVENT_JSON_CHARS = 4 * KEL_LIMITS.maxKeyEventBytes;

const HEX_FIELDS: ReadonlySet<string> = new Set(['prior', 'target', 'next']);

class Stop {
  constructor(readonly rejection: KelRejection) {}
}
function stop(reason: KelRejection['reason'], detail: string): never {
  throw new Stop(kelReject(reason, detail));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * JSON values to the CBOR data model under the key event limits. `bytes` is a lower bound of
 * the encoded size (content bytes plus one head byte per item), so stopping on it never
 * refuses a key event that would fit.
 */
class Converter {
  private bytes = 0;

  private grow(n: number): void {
    this.bytes += n;
    if (this.bytes > KEL_LIMITS.maxKeyEventBytes) {
      stop(Reason.TOO_LARGE, `key event encodes to more than ${KEL_LIMITS.maxKeyEventBytes} bytes`);
    }
  }

  private text(value: string): string {
    if (hasLoneSurrogate(value)) stop(Reason.MALFORMED, 'text has an unpaired surrogate');
    const n = utf8Length(value);
    if (n > KEY_EVENT_CBOR_LIMITS.maxTextBytes) stop(Reason.TOO_LARGE, `text string of ${n} bytes`);
    this.grow(1 + n);
    return value;
  }

  private hex(value: unknown, field: string, depth: number): CborValue {
    if (typeof value !== 'string') return this.value(value, depth); // the schema names the type
    if (value.length > 2 * KEY_EVENT_CBOR_LIMITS.maxByteStringBytes) {
      stop(
        Reason.TOO_LARGE,
        `${field} longer than ${KEY_EVENT_CBOR_LIMITS.maxByteStringBytes} bytes`,
      );
    }
    const out = fromHex(value);
    if (out === null) stop(Reason.MALFORMED, `${field} must be lowercase hex of even length`);
    this.grow(1 + out.length);
    return out;
  }

  value(
    value: unknown,
    depth: number,
    hexKeys: (key: string, depth: number) => boolean = () => false,
  ): CborValue {
    switch (typeof value) {
      case 'boolean':
        this.grow(1);
        return value;
      case 'number':
        if (!Number.isInteger(value) || Math.abs(value) > MAX_SAFE) {
          stop(Reason.MALFORMED, `${value} is not an integer within ±(2^53-1)`);
        }
        this.grow(1);
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
    if (depth > KEY_EVENT_CBOR_LIMITS.maxDepth)
      stop(Reason.TOO_DEEP, 'containers nested too deeply');
    if (Array.isArray(value)) {
      if (value.length > KEY_EVENT_CBOR_LIMITS.maxEntries)
        stop(Reason.TOO_LARGE, `array of ${value.length} entries`);
      this.grow(1);
      return (value as unknown[]).map((item) => this.value(item, depth + 1, hexKeys));
    }
    if (!isPlainObject(value)) stop(Reason.MALFORMED, 'not a JSON value (object with a prototype)');
    const keys = Object.keys(value);
    if (keys.length > KEY_EVENT_CBOR_LIMITS.maxEntries)
      stop(Reason.TOO_LARGE, `map of ${keys.length} entries`);
    this.grow(1);
    const out = Object.create(null) as CborMap;
    for (const key of keys) {
      this.text(key);
      out[key] = hexKeys(key, depth)
        ? this.hex(value[key], key, depth + 1)
        : this.value(value[key], depth + 1, hexKeys);
    }
    return out;
  }
}

/** Byte-string members: `prior`/`target`/`next` of the key event, `sig` of a signature entry. */
function isHexMember(key: string, depth: number): boolean {
  return depth === 1 ? HEX_FIELDS.has(key) : depth === 3 && key === 'sig';
}

/** The JSON form (a value from `JSON.parse`) checked as {@link decodeKeyEvent} checks bytes. */
export function parseKeyEventJson(hasher: Hasher, value: unknown): KelResult<DecodedKeyEvent> {
  if (!isPlainObject(value)) return kelReject(Reason.MALFORMED, 'a key event is a JSON object');
  let map: CborValue;
  try {
    map = new Converter().value(value, 1, isHexMember);
  } catch (error) {
    if (error instanceof Stop) return error.rejection;
    throw error;
  }
  return keyEventFromValue(hasher, map);
}

/**
 * The first member name that appears twice in one object of a (valid) JSON text, or `null`.
 * JSON.parse keeps the last silently; key events, like events, refuse such texts.
 */
export function duplicateMemberName(text: string): string | null {
  const stack: Array<{ names: Set<string>; expectName: boolean } | null> = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22) {
      const start = i;
      let escaped = false;
      for (i++; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c === 0x5c) {
          escaped = true;
          i++;
        } else if (c === 0x22) break;
      }
      const top = stack[stack.length - 1];
      if (top?.expectName === true) {
        const name = escaped
          ? (JSON.parse(text.slice(start, i + 1)) as string)
          : text.slice(start + 1, i);
        if (top.names.has(name)) return name;
        top.names.add(name);
        top.expectName = false;
      }
    } else if (ch === 0x7b) stack.push({ names: new Set(), expectName: true });
    else if (ch === 0x5b) stack.push(null);
    else if (ch === 0x7d || ch === 0x5d) stack.pop();
    else if (ch === 0x2c) {
      const top = stack[stack.length - 1];
      if (top) top.expectName = true;
    }
  }
  return null;
}

/** `JSON.parse` then {@link parseKeyEventJson}; bad JSON and duplicate names are ERR_MALFORMED. */
export function parseKeyEventJsonText(hasher: Hasher, text: string): KelResult<DecodedKeyEvent> {
  if (typeof text !== 'string') return kelReject(Reason.MALFORMED, 'JSON text must be a string');
  if (text.length > MAX_KEY_EVENT_JSON_CHARS)
    return kelReject(Reason.TOO_LARGE, `JSON text of ${text.length} characters`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return kelReject(Reason.MALFORMED, 'not JSON');
  }
  const duplicate = duplicateMemberName(text);
  if (duplicate !== null)
    return kelReject(Reason.MALFORMED, `duplicate JSON member name ${JSON.stringify(duplicate)}`);
  return parseKeyEventJson(hasher, value);
}

/** The JSON form of a key event. */
export function keyEventToJson(event: KeyEvent): KeyEventJson {
  const signatures = event.signatures.map((s) => ({ signer: s.signer, sig: toHex(s.sig) }));
  if (!isEstablishment(event)) {
    return {
      v: event.v,
      type: event.type,
      identity: event.identity,
      target: toHex(event.target),
      created_at: event.createdAt,
      signatures,
    };
  }
  return {
    v: event.v,
    type: event.type,
    ...(event.identity === undefined ? {} : { identity: event.identity }),
    seq: event.seq,
    ...(event.prior === undefined ? {} : { prior: toHex(event.prior) }),
    created_at: event.createdAt,
    keys: [...event.keys],
    threshold: event.threshold,
    next: toHex(event.next),
    guardians: [...event.guardians],
    guardian_threshold: event.guardianThreshold,
    recovery_delay: event.recoveryDelay,
    ...(event.revokedFrom === undefined ? {} : { revoked_from: event.revokedFrom }),
    signatures,
  };
}
