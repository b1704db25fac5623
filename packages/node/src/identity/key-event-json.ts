/**
 * The JSON form of a key event (spec/IDENTITY.md §5.3): the same fields and values as the CBOR
 * form, with the byte strings (`prior`, `target`, `next`, each `signatures[i].sig`) as
 * lowercase hex. A JSON key event is valid exactly when its CBOR encoding is. Reading is the
 * project's one JSON reader (`protocol/json-reader.ts`) under the key event's profile; writing
 * is {@link keyEventToJson}.
 */
import { toHex, utf8 } from '../protocol/bytes.js';
import type { Hasher } from '../protocol/event.js';
import { type JsonTextProfile, readJsonObject } from '../protocol/json-reader.js';
import { Reason } from '../protocol/reasons.js';
import {
  type DecodedKeyEvent,
  isEstablishment,
  KEL_LIMITS,
  KEY_EVENT_CBOR_LIMITS,
  type KeyEvent,
  keyEventFromValue,
} from './key-event.js';
import { type KelResult, kelReject } from './reasons.js';

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

/** Longest JSON text read, in bytes (spec/IDENTITY.md §4): hex doubles byte strings, escapes add more. */
export const MAX_KEY_EVENT_JSON_BYTES = 4 * KEL_LIMITS.maxKeyEventBytes;

/**
 * How the one JSON reader (`protocol/json-reader.ts`) reads a key event: `prior`, `target` and
 * `next` are hex (and `sig` in each signature entry, as for events), containers nest at most 3
 * deep, the CBOR encoding is at most 16,384 bytes.
 */
export const KEY_EVENT_JSON_PROFILE: JsonTextProfile = Object.freeze({
  what: 'a key event',
  hexMembers: new Set(['prior', 'target', 'next']),
  maxDepth: KEY_EVENT_CBOR_LIMITS.maxDepth,
  maxEncodedBytes: KEL_LIMITS.maxKeyEventBytes,
  maxJsonBytes: MAX_KEY_EVENT_JSON_BYTES,
});

/**
 * Reads the JSON text of one key event from `bytes[start, end)`, exactly as received, with the
 * strict reader of events (§5.3: UTF-8, grammar, unique names, exact numbers, limits while
 * reading), then checks it as {@link decodeKeyEvent} checks CBOR. Never throws on content.
 */
export function readKeyEventJson(
  hasher: Hasher,
  bytes: Uint8Array,
  start = 0,
  end = bytes.length,
): KelResult<DecodedKeyEvent> {
  const read = readJsonObject(bytes, KEY_EVENT_JSON_PROFILE, start, end);
  if (!read.ok) return kelReject(read.reason, read.detail);
  return keyEventFromValue(hasher, read.value);
}

/** {@link readKeyEventJson} of a string's UTF-8 bytes (for callers that hold text). */
export function parseKeyEventJsonText(hasher: Hasher, text: string): KelResult<DecodedKeyEvent> {
  if (typeof text !== 'string') return kelReject(Reason.MALFORMED, 'JSON text must be a string');
  return readKeyEventJson(hasher, utf8(text));
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
