/**
 * The one reader of the JSON form of an event (spec/PROTOCOL.md §3.4): the UTF-8 bytes of one
 * JSON text in, the checked event or a typed rejection out. Every path that takes events as
 * JSON (HTTP, the worker pool, the CLI, the reference validator, the vector generator) reads
 * them here, from the bytes it received, so that no lossy step (JSON.parse turning `1e400` into
 * Infinity, or keeping the last of two equal member names) can sit between the wire and the
 * rules.
 *
 * json-to-cbor.ts reads the text, checking UTF-8, the grammar, unique names, exact numbers and
 * every limit as it goes, and writes the canonical CBOR of the value while it reads. Here that
 * CBOR becomes an event: the usual events (by a did:key author without a policy, or by an
 * identity naming its key state) are taken from their CBOR directly against their exact shape
 * (`commonShape`); every other event has its top-level fields taken from their CBOR and checked
 * by the same schema code as the CBOR form (`eventFromMap`). Either way the canonical encoding
 * of the event and of its body are the bytes already written — no second encoding pass.
 */
import { toHex } from './bytes.js';
import { type CborMap, CborReader, type CborValue } from './cbor.js';
import { DID_CS_LENGTH, DID_KEY_LENGTH, parseDidCs, parseDidKey } from './did.js';
import {
  type CommonsEvent,
  type DecodedEvent,
  EVENT_CBOR_LIMITS,
  type EventSignature,
  eventFromMap,
  KEY_STATE_BYTES,
  type Payload,
} from './event.js';
import {
  asciiString,
  cborTextAt,
  EVENT_JSON_PROFILE,
  JsonCborReader,
  type JsonTextProfile,
  ReaderStop,
  Role,
} from './json-to-cbor.js';
import { LIMITS } from './limits.js';
import { accept, Reason, type Rejection, type Result, reject } from './reasons.js';
import { type RepeatedText, RepeatedTexts } from './repeated-texts.js';

export { EVENT_JSON_PROFILE, type JsonTextProfile } from './json-to-cbor.js';

// One reader, reused: it never calls back into itself.
const reader = new JsonCborReader();

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

/** Reads one JSON text into `reader.out`; a rejection, or null when it was read whole. */
function run(
  bytes: Uint8Array,
  start: number,
  end: number,
  profile: JsonTextProfile,
  read: (r: JsonCborReader) => void,
): Rejection | null {
  checkSpan(bytes, start, end);
  if (end - start > profile.maxJsonBytes) {
    return reject(Reason.TOO_LARGE, `a JSON text of more than ${profile.maxJsonBytes} bytes`);
  }
  reader.reset(bytes, start, end, profile);
  try {
    read(reader);
    reader.finish();
    return null;
  } catch (error) {
    if (error instanceof ReaderStop) return reject(error.reason, error.detail);
    throw error;
  } finally {
    reader.release();
  }
}

/** The argument of the CBOR head at `at` (written by the reader: shortest form). */
function argumentAt(o: Uint8Array, at: number): number {
  const ai = (o[at] as number) & 31;
  if (ai < 24) return ai;
  if (ai === 24) return o[at + 1] as number;
  if (ai === 25) return ((o[at + 1] as number) << 8) | (o[at + 2] as number);
  const word = (k: number): number =>
    (o[k] as number) * 0x1000000 +
    (((o[k + 1] as number) << 16) | ((o[k + 2] as number) << 8)) +
    (o[k + 3] as number);
  return ai === 26 ? word(at + 1) : word(at + 1) * 0x100000000 + word(at + 5);
}

/** The value of the CBOR item `o[s, e)` that the reader wrote; scalars without a decoder. */
function valueAt(o: Uint8Array, s: number, e: number): CborValue {
  const ib = o[s] as number;
  switch (ib >> 5) {
    case 0:
      return argumentAt(o, s);
    case 1:
      return -1 - argumentAt(o, s);
    case 2:
      return o.slice(e - argumentAt(o, s), e);
    case 3:
      return cborTextAt(o, s, e);
    case 7:
      return ib === 0xf4 ? false : ib === 0xf5 ? true : null;
    default:
      // a container below the event map (level 1): the limits were met while reading
      return new CborReader(o.subarray(s, e), EVENT_CBOR_LIMITS).item(1);
  }
}

/** An event read to canonical CBOR and checked (steps 1–3), its payload left as CBOR. */
export interface EventCbor {
  /** The event's fields; `payload` is not decoded (it is in `cbor`). */
  readonly event: Omit<CommonsEvent, 'payload'>;
  /**
   * The author's public key (shared with other events by the did:key cache: do not modify), or
   * null for an identity (did:cs), whose keys are those of its key state.
   */
  readonly authorKey: Uint8Array | null;
  /** `signerKeys[i]` is the public key of `event.signatures[i].signer` (shared likewise). */
  readonly signerKeys: readonly Uint8Array[];
  /**
   * The canonical CBOR of the whole event, in the reader's own buffer: valid only until the
   * next read. Copy what must be kept.
   */
  readonly cbor: Uint8Array;
  /**
   * Where the `signatures` key starts in `cbor`: the body is `cbor[0, bodyEnd)` under a map
   * head one entry smaller (§3.3: `signatures` sorts last).
   */
  readonly bodyEnd: number;
}

// The event's keys in canonical order (§3.2: by encoded key, so shorter names first), as the
// reader wrote them: a did:key author's event without a policy, and an identity's event (a
// did:cs author and its key_state, never a policy: spec/IDENTITY.md §8).
const keysOf = (names: readonly string[]): readonly Uint8Array[] =>
  names.map((k) => Uint8Array.from([0x60 + k.length, ...Array.from(k, (c) => c.charCodeAt(0))]));
const PLAIN_KEYS = keysOf([
  'v',
  'kind',
  'nonce',
  'author',
  'payload',
  'created_at',
  'expires_at',
  'signatures',
]);
const IDENTITY_KEYS = keysOf([
  'v',
  'kind',
  'nonce',
  'author',
  'payload',
  'key_state',
  'created_at',
  'expires_at',
  'signatures',
]);
const SIG_ENTRY_HEAD = Uint8Array.of(0xa2, 0x63, 0x73, 0x69, 0x67, 0x58, 0x40); // {"sig": bytes(64)
const SIGNER_KEY = Uint8Array.of(0x66, 0x73, 0x69, 0x67, 0x6e, 0x65, 0x72, 0x78, DID_KEY_LENGTH); // "signer": text(56)
const KEY_STATE_HEAD = Uint8Array.of(0x58, KEY_STATE_BYTES); // bytes(32)

function sameBytes(o: Uint8Array, a: number, b: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (o[a + k] !== o[b + k]) return false;
  return true;
}

function bytesAt(o: Uint8Array, at: number, expected: Uint8Array): boolean {
  for (let k = 0; k < expected.length; k++) if (o[at + k] !== expected[k]) return false;
  return true;
}

/** Whether the event map's members, `top`, are exactly `keys` (in canonical order). */
function hasKeys(o: Uint8Array, top: readonly number[], keys: readonly Uint8Array[]): boolean {
  if (top.length !== 3 * keys.length) return false;
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k] as Uint8Array;
    if ((top[3 * k + 1] as number) - (top[3 * k] as number) !== key.length) return false;
    if (!bytesAt(o, top[3 * k] as number, key)) return false;
  }
  return true;
}

// The dids and kinds of the usual shapes, each turned into a string and parsed once per text
// seen (bounded tables: repeated-texts.ts); every hit is the string and verdict that
// `asciiString` then `parseDidKey` / `parseDidCs` give for the same bytes.
const DID_KEYS = new RepeatedTexts(12, asciiString, parseDidKey);
const DID_CSES = new RepeatedTexts(12, asciiString, parseDidCs);
const KINDS = new RepeatedTexts(8, asciiString, (kind) => kind);
// An identity's events keep naming the same key state: its 32 bytes are kept once, not copied
// out of every event (the entry's `bytes`; the text, its hex, is what the claims are made of).
const KEY_STATES = new RepeatedTexts(
  12,
  (bytes, start, end) => toHex(bytes.subarray(start, end)),
  () => null,
);

/**
 * The author of the usual shapes: a valid did:key, or a valid did:cs (whose 32-byte
 * `key_state` `commonShape` then checks); null for anything else. `value` is the did:key's
 * public key, or the did:cs's inception id.
 */
function fastAuthor(
  o: Uint8Array,
  top: readonly number[],
  identity: boolean,
): RepeatedText<Result<Uint8Array>> | null {
  const at = top[10] as number;
  const end = top[11] as number;
  const length = identity ? DID_CS_LENGTH : DID_KEY_LENGTH;
  if (o[at] !== 0x78 || o[at + 1] !== length || end !== at + 2 + length) return null;
  const author = (identity ? DID_CSES : DID_KEYS).get(o, at + 2, end);
  return author.value.ok ? author : null;
}

/**
 * The 32 bytes of an identity's event's `key_state` (its CBOR at `top[15..17]`), or null. The
 * array is shared by every event read that names the same key state: never modify it.
 */
function keyStateOf(o: Uint8Array, top: readonly number[]): Uint8Array | null {
  const ks = top[16] as number;
  if (!bytesAt(o, ks, KEY_STATE_HEAD) || top[17] !== ks + KEY_STATE_HEAD.length + KEY_STATE_BYTES)
    return null;
  return KEY_STATES.get(o, ks + KEY_STATE_HEAD.length, top[17] as number).bytes;
}

/**
 * The usual events taken from their CBOR directly: by a did:key author without a policy, or by
 * an identity (a did:cs author naming its key state), their fields of the expected types, every
 * did valid. Null for anything else, which the schema code then judges. On every event it
 * returns one for, `eventFromMap` accepts the same values (property tests hold it to that).
 */
function commonShape(o: Uint8Array, top: readonly number[], cbor: Uint8Array): EventCbor | null {
  const identity = top.length === 3 * IDENTITY_KEYS.length;
  if (!hasKeys(o, top, identity ? IDENTITY_KEYS : PLAIN_KEYS)) return null;
  // the members from created_at on sit one place later in an identity's event (after key_state)
  const late = identity ? 3 : 0;
  // v: 1
  let at = top[1] as number;
  if (o[at] !== 0x01 || top[2] !== at + 1) return null;
  // kind: 1..64 bytes of printable ASCII
  at = top[4] as number;
  let end = top[5] as number;
  const kindHead = o[at] as number;
  const kindLength = end - at - (kindHead === 0x78 ? 2 : 1);
  if (kindHead < 0x61 || kindHead > 0x78 || kindLength < 1 || kindLength > LIMITS.maxKindBytes)
    return null;
  for (let i = end - kindLength; i < end; i++) {
    const c = o[i] as number;
    if (c < 0x21 || c > 0x7e) return null;
  }
  const kind = KINDS.get(o, end - kindLength, end).text;
  // nonce: 16..32 bytes
  at = top[7] as number;
  end = top[8] as number;
  const nonceAt = at + (o[at] === 0x58 ? 2 : 1);
  const nonceLength = end - nonceAt;
  if ((o[at] as number) >> 5 !== 2) return null;
  if (nonceLength < LIMITS.minNonceBytes || nonceLength > LIMITS.maxNonceBytes) return null;
  const nonce = o.slice(nonceAt, end);
  // author: a valid did:key, or a valid did:cs and its key_state
  const who = fastAuthor(o, top, identity);
  if (who === null) return null;
  const author = who.text;
  const authorKey = identity ? null : (who.value as { readonly value: Uint8Array }).value;
  const keyState = identity ? keyStateOf(o, top) : null;
  if (identity && keyState === null) return null;
  // created_at < expires_at, unsigned
  at = top[16 + late] as number;
  if ((o[at] as number) >> 5 !== 0) return null;
  const createdAt = argumentAt(o, at);
  at = top[19 + late] as number;
  if ((o[at] as number) >> 5 !== 0) return null;
  const expiresAt = argumentAt(o, at);
  if (expiresAt <= createdAt) return null;
  // signatures: 1..23 entries {"sig": 64 bytes, "signer": a valid did:key}
  at = top[22 + late] as number;
  end = top[23 + late] as number;
  const count = (o[at] as number) - 0x80;
  if (count < 1 || count > 23 || count > LIMITS.maxSignatures) return null;
  at++;
  const authorAt = (top[10] as number) + 2;
  const signatures: EventSignature[] = [];
  const signerKeys: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    if (!bytesAt(o, at, SIG_ENTRY_HEAD)) return null;
    const sig = o.slice(at + SIG_ENTRY_HEAD.length, at + SIG_ENTRY_HEAD.length + 64);
    at += SIG_ENTRY_HEAD.length + 64;
    if (!bytesAt(o, at, SIGNER_KEY)) return null;
    at += SIGNER_KEY.length;
    if (at + DID_KEY_LENGTH > end) return null;
    // a did:key author signing its own event, the usual case: its string and key are at hand
    // (never for a did:cs author: its string is not a did:key, whatever bytes follow it)
    if (authorKey !== null && sameBytes(o, at, authorAt, DID_KEY_LENGTH)) {
      signatures.push({ signer: author, sig });
      signerKeys.push(authorKey);
      at += DID_KEY_LENGTH;
      continue;
    }
    const signer = DID_KEYS.get(o, at, at + DID_KEY_LENGTH);
    at += DID_KEY_LENGTH;
    if (!signer.value.ok) return null;
    signatures.push({ signer: signer.text, sig });
    signerKeys.push(signer.value.value);
  }
  if (at !== end || end !== cbor.length) return null;
  const event: EventCbor['event'] =
    keyState === null
      ? { v: 1, kind, author, createdAt, expiresAt, nonce, signatures }
      : { v: 1, kind, author, keyState, createdAt, expiresAt, nonce, signatures };
  return { event, authorKey, signerKeys, cbor, bodyEnd: top[21 + late] as number };
}

/**
 * Which way an event read whole is taken: the usual shapes' own when it has one of them, else
 * the schema code (`any`, what every caller uses); for the tests that hold the two ways to one
 * another, only the schema code, or only the usual shapes' way (null for another shape).
 */
type ReadPath = 'any' | 'schema' | 'fast';

type ReadEvent = Result<EventCbor & { readonly payload: Payload }>;

function readEvent(
  bytes: Uint8Array,
  start: number,
  end: number,
  decodePayload: boolean,
  path: 'any' | 'schema',
): ReadEvent;
function readEvent(
  bytes: Uint8Array,
  start: number,
  end: number,
  decodePayload: boolean,
  path: ReadPath,
): ReadEvent | null;
function readEvent(
  bytes: Uint8Array,
  start: number,
  end: number,
  decodePayload: boolean,
  path: ReadPath,
): ReadEvent | null {
  const stop = run(bytes, start, end, EVENT_JSON_PROFILE, (r) => r.event());
  if (stop !== null) return stop;
  const o = reader.out;
  const top = reader.top;
  const cbor = o.subarray(0, reader.len);
  // The reader counted the size of what it wrote as it read, against the same limit; this
  // only restates it on the bytes themselves.
  if (cbor.length > LIMITS.maxEventBytes) {
    return reject(Reason.TOO_LARGE, `the event encodes to ${cbor.length} bytes`);
  }
  const fast = path === 'schema' ? null : commonShape(o, top, cbor);
  if (fast === null && path === 'fast') return null;
  if (fast !== null) {
    // readEventCbor's callers never read `payload`: the event as it is, not copied to add one
    if (!decodePayload) return accept(fast as EventCbor & { readonly payload: Payload });
    return accept({
      ...fast,
      payload: valueAt(o, top[13] as number, top[14] as number) as Payload,
    });
  }
  const map = Object.create(null) as CborMap;
  let bodyEnd = cbor.length;
  let payload: CborValue = null;
  for (let k = 0; k < top.length; k += 3) {
    const ks = top[k] as number;
    const ke = top[k + 1] as number;
    const ve = top[k + 2] as number;
    const key = cborTextAt(o, ks, ke);
    if (key === 'payload') {
      // JSON has no byte strings, so no payload read from it holds one (§2.3): a placeholder
      // stands in for the schema check when the value is not wanted
      if (decodePayload) payload = valueAt(o, ke, ve);
      map[key] = payload;
      continue;
    }
    map[key] = valueAt(o, ke, ve);
    if (key === 'signatures') bodyEnd = ks;
  }
  // steps 2 and 3, by the schema code of the CBOR form
  const checked = eventFromMap(map);
  if (!checked.ok) return checked;
  const { payload: _placeholder, ...event } = checked.value.event;
  const { authorKey, signerKeys } = checked.value;
  return accept({ event, authorKey, signerKeys, payload: payload as Payload, cbor, bodyEnd });
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
  return decodedOf(readEvent(bytes, start, end, true, 'any'));
}

/**
 * {@link readEventJson} by one way only, for the tests that hold the ways to one another:
 * `schema`, every event by the schema code of the CBOR form; `fast`, the usual shapes' own way,
 * null for an event of another shape (a text the reader itself refuses is that refusal, either
 * way).
 * @internal
 */
export function readEventJsonBy(
  path: 'schema' | 'fast',
  bytes: Uint8Array,
  start = 0,
  end = bytes.length,
): Result<DecodedEvent> | null {
  const read = readEvent(bytes, start, end, true, path);
  return read === null ? null : decodedOf(read);
}

function decodedOf(read: ReadEvent): Result<DecodedEvent> {
  if (!read.ok) return read;
  const { event, authorKey, signerKeys, payload, cbor, bodyEnd } = read.value;
  const encoded = cbor.slice();
  const body = encoded.slice(0, bodyEnd);
  body[0] = (encoded[0] as number) - 1; // one entry fewer: 0xa8..0xab -> 0xa7..0xaa
  return accept({ event: { ...event, payload }, authorKey, signerKeys, encoded, body });
}

/**
 * {@link readEventJson} for the pipeline's hot path: the same verdicts, but the event's
 * canonical CBOR is left in the reader's buffer (see {@link EventCbor.cbor}) and its payload
 * is not turned into a value.
 */
export function readEventCbor(bytes: Uint8Array, start: number, end: number): Result<EventCbor> {
  return readEvent(bytes, start, end, false, 'any');
}

/**
 * Reads a JSON text as a payload value (§2.3) with the limits that apply to a payload inside an
 * event (its containers start at depth 2). For tools that take a payload as JSON.
 */
export function readJsonPayload(bytes: Uint8Array, start = 0, end = bytes.length): Result<Payload> {
  const stop = run(bytes, start, end, EVENT_JSON_PROFILE, (r) => r.value(1, Role.GENERIC));
  if (stop !== null) return stop;
  return accept(valueAt(reader.out, 0, reader.len) as Payload);
}

/**
 * Reads the JSON text `bytes[start, end)` as one object under `profile` (§3.4: its size first,
 * then UTF-8, grammar, unique names, exact numbers, the profile's hex members as bytes and
 * every limit while reading), into the CBOR data model (members in canonical order). The
 * caller checks the value's schema. Never throws on any content; throws only for a span
 * outside `bytes` (a caller bug).
 */
export function readJsonObject(
  bytes: Uint8Array,
  profile: JsonTextProfile,
  start = 0,
  end = bytes.length,
): Result<CborMap> {
  const stop = run(bytes, start, end, profile, (r) => r.event());
  if (stop !== null) return stop;
  const o = reader.out;
  const top = reader.top;
  const map = Object.create(null) as CborMap;
  for (let k = 0; k < top.length; k += 3) {
    const ke = top[k + 1] as number;
    map[cborTextAt(o, top[k] as number, ke)] = valueAt(o, ke, top[k + 2] as number);
  }
  return accept(map);
}
