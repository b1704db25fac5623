/**
 * Key events (spec/IDENTITY.md §3–§5): the envelope, its schema shared by the CBOR and JSON
 * forms, canonical encodings, ids, the signing input and the next-keys commitment.
 *
 * Key events are a separate envelope from CommonsEvents: no expiry, no nonce, a `type` instead
 * of a `kind`, and their own signature domain, so that neither can pass for the other.
 * Everything that depends on input returns a {@link KelResult}; nothing here throws on input.
 */
import { concatBytes, toHex, utf8 } from '../protocol/bytes.js';
import {
  CborError,
  type CborLimits,
  type CborMap,
  type CborValue,
  decodeCbor,
  encodeCbor,
  isCborMap,
} from '../protocol/cbor.js';
import { didKeyFromPublicKey, parseDidKey } from '../protocol/did.js';
import type { EventSignature, Hasher, SignatureCheck, Signer } from '../protocol/event.js';
import { Reason } from '../protocol/reasons.js';
import { identifierFromInceptionId, parseIdentifier } from './identifier.js';
import {
  KEL_OK,
  type KelCheck,
  KelReason,
  type KelRejection,
  type KelResult,
  kelAccept,
  kelReject,
} from './reasons.js';

export const KEY_EVENT_VERSION = 1;

/** The limits of §4. Changing one changes which key events are valid: a protocol change. */
export const KEL_LIMITS = Object.freeze({
  /** Canonical CBOR of a whole key event, signatures included. */
  maxKeyEventBytes: 16_384,
  /** Entries of `keys`, of `guardians`, of `signatures`. */
  maxKeys: 32,
  maxGuardians: 32,
  maxSignatures: 32,
  /** `recovery_delay` when guardians are named, in seconds (1 hour .. 365 days). */
  minRecoveryDelay: 3_600,
  maxRecoveryDelay: 31_536_000,
  /** How far before its `created_at` a revocation may start (`revoked_from`), in seconds. */
  maxRevocationReach: 604_800,
  signatureBytes: 64,
  digestBytes: 32,
});

/** The CBOR profile of the event protocol with a key event's own size and depth bounds. */
export const KEY_EVENT_CBOR_LIMITS: CborLimits = Object.freeze({
  maxInputBytes: KEL_LIMITS.maxKeyEventBytes,
  maxDepth: 3, // the event map, the keys/signatures arrays, a signature map
  maxTextBytes: 16_384,
  maxByteStringBytes: 64,
  maxEntries: 4_096,
});

export type EstablishmentType = 'inception' | 'rotation' | 'revocation' | 'recovery';
export type KeyEventType = EstablishmentType | 'veto';
export const KEY_EVENT_TYPES: readonly KeyEventType[] = Object.freeze([
  'inception',
  'rotation',
  'revocation',
  'recovery',
  'veto',
]);

/** What an establishment event sets: the key state's keys, commitment and guardians. */
export interface KeyConfig {
  /** did:keys, strictly ascending, 1..32. */
  readonly keys: readonly string[];
  /** 1..keys.length distinct keys must sign. */
  readonly threshold: number;
  /** Commitment to the next keys and threshold ({@link nextCommitment}). */
  readonly next: Uint8Array;
  /** did:keys, strictly ascending, 0..32. */
  readonly guardians: readonly string[];
  /** 0 when there are no guardians, else 1..guardians.length. */
  readonly guardianThreshold: number;
  /** Seconds a recovery waits (and the current keys may veto it); 0 without guardians. */
  readonly recoveryDelay: number;
}

export interface EstablishmentBody extends KeyConfig {
  readonly v: 1;
  readonly type: EstablishmentType;
  /** The did:cs; absent in an inception (it is derived from it). */
  readonly identity?: string;
  /** 0 for the inception, then one more than the prior. */
  readonly seq: number;
  /** The id of the establishment event this one follows; absent in an inception. */
  readonly prior?: Uint8Array;
  readonly createdAt: number;
  /** Revocation (required) and recovery (optional): the retired keys are void from here on. */
  readonly revokedFrom?: number;
}

export interface VetoBody {
  readonly v: 1;
  readonly type: 'veto';
  readonly identity: string;
  /** The id of the recovery vetoed. */
  readonly target: Uint8Array;
  readonly createdAt: number;
}

export type KeyEventBody = EstablishmentBody | VetoBody;
export type KeyEvent = KeyEventBody & { readonly signatures: readonly EventSignature[] };

/** A key event that passed decoding and the stateless rules (§6 steps 1–3). */
export interface DecodedKeyEvent {
  readonly event: KeyEvent;
  /** Canonical CBOR of the whole key event (a copy). */
  readonly encoded: Uint8Array;
  /** Canonical CBOR of the body: the key event without `signatures`. */
  readonly body: Uint8Array;
  /** SHA-256 of `body`. */
  readonly id: Uint8Array;
  readonly idHex: string;
  /** The did:cs it belongs to: derived from `id` for an inception, else its `identity` field. */
  readonly identity: string;
  /** `signerKeys[i]` is the public key of `event.signatures[i].signer`. */
  readonly signerKeys: readonly Uint8Array[];
}

export function isEstablishment(event: KeyEventBody): event is EstablishmentBody {
  return event.type !== 'veto';
}

// ---------------------------------------------------------------------------------------------
// Schema (§4), shared by the CBOR and JSON forms

/** Wire fields in check order, and for which types each is required (R) or allowed (O). */
const FIELD_RULES: ReadonlyArray<
  readonly [string, Readonly<Partial<Record<KeyEventType, 'R' | 'O'>>>]
> = [
  ['identity', { rotation: 'R', revocation: 'R', recovery: 'R', veto: 'R' }],
  ['seq', { inception: 'R', rotation: 'R', revocation: 'R', recovery: 'R' }],
  ['prior', { rotation: 'R', revocation: 'R', recovery: 'R' }],
  ['target', { veto: 'R' }],
  ['created_at', { inception: 'R', rotation: 'R', revocation: 'R', recovery: 'R', veto: 'R' }],
  ['keys', { inception: 'R', rotation: 'R', revocation: 'R', recovery: 'R' }],
  ['threshold', { inception: 'R', rotation: 'R', revocation: 'R', recovery: 'R' }],
  ['next', { inception: 'R', rotation: 'R', revocation: 'R', recovery: 'R' }],
  ['guardians', { inception: 'R', rotation: 'R', revocation: 'R', recovery: 'R' }],
  ['guardian_threshold', { inception: 'R', rotation: 'R', revocation: 'R', recovery: 'R' }],
  ['recovery_delay', { inception: 'R', rotation: 'R', revocation: 'R', recovery: 'R' }],
  ['revoked_from', { revocation: 'R', recovery: 'O' }],
];
const KNOWN_FIELDS: ReadonlySet<string> = new Set([
  'v',
  'type',
  ...FIELD_RULES.map(([f]) => f),
  'signatures',
]);

class Stop {
  constructor(readonly rejection: KelRejection) {}
}
function fail(reason: KelRejection['reason'], detail: string): never {
  throw new Stop(kelReject(reason, detail));
}
const bad = (detail: string): never => fail(Reason.BAD_FIELD, detail);

function isUint(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function uint(value: CborValue | undefined, field: string): number {
  if (!isUint(value)) bad(`${field} must be an unsigned integer`);
  return value as number;
}

function digest(value: CborValue | undefined, field: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== KEL_LIMITS.digestBytes) {
    bad(`${field} must be ${KEL_LIMITS.digestBytes} bytes`);
  }
  return value as Uint8Array;
}

/** A strictly ascending list of did:keys (ASCII, so string order is byte order). */
function didKeyList(
  value: CborValue | undefined,
  field: string,
  min: number,
  max: number,
): string[] {
  if (!Array.isArray(value)) bad(`${field} must be an array of did:keys`);
  const list = value as CborValue[];
  if (list.length > max) fail(Reason.TOO_LARGE, `more than ${max} ${field}`);
  if (list.length < min) bad(`${field} must not be empty`);
  const out: string[] = [];
  for (const entry of list) {
    if (typeof entry !== 'string') bad(`each of ${field} must be a did:key string`);
    const parsed = parseDidKey(entry);
    if (!parsed.ok) fail(Reason.BAD_DID, `${field} ${JSON.stringify(entry)}: ${parsed.detail}`);
    const prev = out[out.length - 1];
    if (prev !== undefined && !(prev < (entry as string)))
      bad(`${field} must be distinct and in ascending order`);
    out.push(entry as string);
  }
  return out;
}

function keyConfig(map: CborMap): KeyConfig {
  const keys = didKeyList(map['keys'], 'keys', 1, KEL_LIMITS.maxKeys);
  const threshold = uint(map['threshold'], 'threshold');
  if (threshold < 1 || threshold > keys.length) bad(`threshold must be 1..${keys.length}`);
  const next = digest(map['next'], 'next');
  const guardians = didKeyList(map['guardians'], 'guardians', 0, KEL_LIMITS.maxGuardians);
  const guardianThreshold = uint(map['guardian_threshold'], 'guardian_threshold');
  const recoveryDelay = uint(map['recovery_delay'], 'recovery_delay');
  if (guardians.length === 0) {
    if (guardianThreshold !== 0) bad('guardian_threshold must be 0 without guardians');
    if (recoveryDelay !== 0) bad('recovery_delay must be 0 without guardians');
  } else {
    if (guardianThreshold < 1 || guardianThreshold > guardians.length) {
      bad(`guardian_threshold must be 1..${guardians.length}`);
    }
    if (
      recoveryDelay < KEL_LIMITS.minRecoveryDelay ||
      recoveryDelay > KEL_LIMITS.maxRecoveryDelay
    ) {
      bad(
        `recovery_delay must be ${KEL_LIMITS.minRecoveryDelay}..${KEL_LIMITS.maxRecoveryDelay} seconds`,
      );
    }
  }
  return { keys, threshold, next, guardians, guardianThreshold, recoveryDelay };
}

function signatureList(value: CborValue | undefined): {
  list: EventSignature[];
  keys: Uint8Array[];
} {
  if (value === undefined) bad('field signatures is missing');
  if (!Array.isArray(value)) bad('signatures must be an array');
  const entries = value as CborValue[];
  if (entries.length > KEL_LIMITS.maxSignatures)
    fail(Reason.TOO_LARGE, `more than ${KEL_LIMITS.maxSignatures} signatures`);
  if (entries.length === 0) bad('signatures must not be empty');
  const list: EventSignature[] = [];
  const keys: Uint8Array[] = [];
  entries.forEach((entry, i) => {
    if (!isCborMap(entry)) bad(`signatures[${i}] must be a map`);
    const { signer, sig } = entry as CborMap;
    if (signer === undefined || sig === undefined || Object.keys(entry as CborMap).length !== 2) {
      bad(`signatures[${i}] must have exactly the fields signer and sig`);
    }
    if (typeof signer !== 'string') bad(`signatures[${i}].signer must be a did:key string`);
    const key = parseDidKey(signer);
    if (!key.ok) fail(Reason.BAD_DID, `signatures[${i}].signer: ${key.detail}`);
    if (!(sig instanceof Uint8Array) || sig.length !== KEL_LIMITS.signatureBytes) {
      bad(`signatures[${i}].sig must be ${KEL_LIMITS.signatureBytes} bytes`);
    }
    list.push({ signer: signer as string, sig: sig as Uint8Array });
    keys.push(key.value);
  });
  return { list, keys };
}

function checkVersion(v: CborValue | undefined): void {
  if (v === undefined) bad('field v is missing');
  if (!isUint(v)) bad('field v must be an unsigned integer');
  if (v !== KEY_EVENT_VERSION) fail(Reason.UNSUPPORTED_VERSION, `key event version ${String(v)}`);
}

function fromMap(map: CborValue): { event: KeyEvent; signerKeys: Uint8Array[] } {
  if (!isCborMap(map)) fail(Reason.MALFORMED, 'a key event is a map');
  checkVersion(map['v']);
  const type = map['type'];
  if (typeof type !== 'string' || !(KEY_EVENT_TYPES as readonly string[]).includes(type)) {
    bad(`type must be one of ${KEY_EVENT_TYPES.join(', ')}`);
  }
  const t = type as KeyEventType;
  for (const [field, rule] of FIELD_RULES) {
    const present = field in map;
    if (present && rule[t] === undefined) bad(`field ${field} is not allowed in a ${t} event`);
    if (!present && rule[t] === 'R') bad(`field ${field} is missing`);
    if (!present) continue;
    // Field checks run in table order so that every form reports the same first problem.
    if (field === 'identity') {
      if (typeof map['identity'] !== 'string') bad('identity must be a did:cs string');
      const parsed = parseIdentifier(map['identity']);
      if (!parsed.ok) fail(parsed.reason, `identity: ${parsed.detail}`);
    } else if (field === 'seq') {
      const seq = uint(map['seq'], 'seq');
      if (t === 'inception' && seq !== 0) fail(KelReason.BAD_SEQ, 'an inception has seq 0');
      if (t !== 'inception' && seq === 0) fail(KelReason.BAD_SEQ, `a ${t} has seq 1 or more`);
    } else if (field === 'prior' || field === 'target') {
      digest(map[field], field);
    } else if (field === 'created_at' || field === 'revoked_from') {
      uint(map[field], field);
    } else if (field === 'keys') {
      keyConfig(map); // checks keys .. recovery_delay in table order
    }
  }
  const createdAt = map['created_at'] as number;
  const revokedFrom = map['revoked_from'] as number | undefined;
  if (revokedFrom !== undefined) {
    if (revokedFrom > createdAt)
      fail(KelReason.REVOCATION_RANGE, 'revoked_from is after created_at');
    if (createdAt - revokedFrom > KEL_LIMITS.maxRevocationReach) {
      fail(
        KelReason.REVOCATION_RANGE,
        `revoked_from is more than ${KEL_LIMITS.maxRevocationReach}s before created_at`,
      );
    }
  }
  const signatures = signatureList(map['signatures']);
  for (const key of Object.keys(map))
    if (!KNOWN_FIELDS.has(key)) bad(`unknown field ${JSON.stringify(key)}`);

  let event: KeyEvent;
  if (t === 'veto') {
    event = {
      v: 1,
      type: 'veto',
      identity: map['identity'] as string,
      target: map['target'] as Uint8Array,
      createdAt,
      signatures: signatures.list,
    };
  } else {
    event = {
      v: 1,
      type: t,
      ...(t === 'inception'
        ? {}
        : { identity: map['identity'] as string, prior: map['prior'] as Uint8Array }),
      seq: map['seq'] as number,
      createdAt,
      ...keyConfig(map),
      ...(revokedFrom === undefined ? {} : { revokedFrom }),
      signatures: signatures.list,
    };
  }
  return { event, signerKeys: signatures.keys };
}

// ---------------------------------------------------------------------------------------------
// Encodings, id, signing input (§5)

/** The body as a CBOR map with wire field names. */
export function keyEventBodyToMap(body: KeyEventBody): CborMap {
  if (!isEstablishment(body)) {
    return {
      v: body.v,
      type: body.type,
      identity: body.identity,
      target: body.target,
      created_at: body.createdAt,
    };
  }
  const map: CborMap = {
    v: body.v,
    type: body.type,
    seq: body.seq,
    created_at: body.createdAt,
    keys: [...body.keys],
    threshold: body.threshold,
    next: body.next,
    guardians: [...body.guardians],
    guardian_threshold: body.guardianThreshold,
    recovery_delay: body.recoveryDelay,
  };
  if (body.identity !== undefined) map['identity'] = body.identity;
  if (body.prior !== undefined) map['prior'] = body.prior;
  if (body.revokedFrom !== undefined) map['revoked_from'] = body.revokedFrom;
  return map;
}

function keyEventToMap(event: KeyEvent): CborMap {
  const map = keyEventBodyToMap(event);
  map['signatures'] = event.signatures.map((s) => ({ signer: s.signer, sig: s.sig }));
  return map;
}

/** Canonical CBOR of the body. Throws CborError for a value outside the data model. */
export function encodeKeyEventBody(body: KeyEventBody): Uint8Array {
  return encodeCbor(keyEventBodyToMap(body));
}

/** Canonical CBOR of the whole key event. Throws CborError for a value outside the data model. */
export function encodeKeyEvent(event: KeyEvent): Uint8Array {
  return encodeCbor(keyEventToMap(event));
}

/** ASCII "commons-sync/key-event-signature/v1" and a zero byte. */
export const KEY_EVENT_SIGNATURE_DOMAIN = utf8('commons-sync/key-event-signature/v1\0');
/** ASCII "commons-sync/next-keys/v1" and a zero byte. */
export const NEXT_KEYS_DOMAIN = utf8('commons-sync/next-keys/v1\0');

/** What every signature of a key event signs: the domain tag, then the 32-byte id. */
export function keyEventSigningInput(id: Uint8Array): Uint8Array {
  if (!(id instanceof Uint8Array) || id.length !== 32)
    throw new TypeError('a key event id is 32 bytes');
  return concatBytes(KEY_EVENT_SIGNATURE_DOMAIN, id);
}

/**
 * The commitment an establishment event makes to the next keys: SHA-256 of the domain tag and
 * the canonical CBOR of `{ "keys": [...], "threshold": M }` (keys as they will be written:
 * ascending did:keys). A rotation must reveal exactly these.
 */
export function nextCommitment(
  core: Hasher,
  keys: readonly string[],
  threshold: number,
): Uint8Array {
  return core.sha256(concatBytes(NEXT_KEYS_DOMAIN, encodeCbor({ keys: [...keys], threshold })));
}

function finish(
  hasher: Hasher,
  checked: { event: KeyEvent; signerKeys: Uint8Array[] },
  encoded: Uint8Array,
): DecodedKeyEvent {
  const body = encodeKeyEventBody(checked.event);
  const id = hasher.sha256(body);
  const identity =
    checked.event.type === 'inception'
      ? identifierFromInceptionId(id)
      : (checked.event.identity as string);
  return {
    event: checked.event,
    encoded,
    body,
    id,
    idHex: toHex(id),
    identity,
    signerKeys: checked.signerKeys,
  };
}

/** Runs `fn`, turning a schema stop or a CBOR error into a rejection. */
function guarded<T>(fn: () => T): KelResult<T> {
  try {
    return kelAccept(fn());
  } catch (error) {
    if (error instanceof Stop) return error.rejection;
    if (error instanceof CborError) return kelReject(error.code, error.message);
    throw error;
  }
}

/** Steps 2–3 of §6 on a value already in the data model (the JSON form lands here). */
export function keyEventFromValue(hasher: Hasher, value: CborValue): KelResult<DecodedKeyEvent> {
  return guarded(() => {
    const checked = fromMap(value);
    const encoded = encodeKeyEvent(checked.event);
    if (encoded.length > KEL_LIMITS.maxKeyEventBytes) {
      fail(Reason.TOO_LARGE, `key event encodes to ${encoded.length} bytes`);
    }
    return finish(hasher, checked, encoded);
  });
}

/**
 * Decodes a key event from its canonical CBOR (§6 steps 1–3): the CBOR profile, version,
 * schema and the stateless ranges. Never throws on input.
 */
export function decodeKeyEvent(hasher: Hasher, bytes: Uint8Array): KelResult<DecodedKeyEvent> {
  if (!(bytes instanceof Uint8Array)) return kelReject(Reason.MALFORMED, 'input is not bytes');
  return guarded(() =>
    finish(hasher, fromMap(decodeCbor(bytes, KEY_EVENT_CBOR_LIMITS)), bytes.slice()),
  );
}

/**
 * Which keys signed this copy of a key event, as one string (distinct did:keys, ascending).
 * Copies of one key event (same body and id, other signatures) are judged on their own
 * signatures; two copies signed by the same keys always get the same verdict.
 */
export function signerSetOf(event: Pick<DecodedKeyEvent, 'event'>): string {
  return [...new Set(event.event.signatures.map((s) => s.signer))].sort().join(' ');
}

/** The (public key, message, signature) triples to verify, one per entry of `signatures`. */
export function keyEventSignatureChecks(decoded: DecodedKeyEvent): SignatureCheck[] {
  const message = keyEventSigningInput(decoded.id);
  return decoded.event.signatures.map((s, i) => ({
    publicKey: decoded.signerKeys[i] as Uint8Array,
    message,
    signature: s.sig,
  }));
}

/** §6 step 4 (local): a key event dated more than `skew` seconds after `now` is not yet valid. */
export function checkKeyEventTime(
  event: Pick<KeyEventBody, 'createdAt'>,
  now: number,
  skewSeconds = 300,
): KelCheck {
  if (event.createdAt > now + skewSeconds) {
    return kelReject(
      Reason.NOT_YET_VALID,
      `created_at ${event.createdAt} is more than ${skewSeconds}s after now ${now}`,
    );
  }
  return KEL_OK;
}

/**
 * Signs a key event body with each seed (appending to signatures already present) and checks
 * the result as {@link decodeKeyEvent} would. Throws only for a seed that is not 32 bytes.
 */
export function signKeyEvent(
  core: Signer,
  body: KeyEventBody & { readonly signatures?: readonly EventSignature[] },
  seeds: readonly Uint8Array[],
): KelResult<DecodedKeyEvent> {
  const bodyBytes = guarded(() => encodeKeyEventBody(body));
  if (!bodyBytes.ok) return bodyBytes;
  const message = keyEventSigningInput(core.sha256(bodyBytes.value));
  const added = seeds.map((seed) => ({
    signer: didKeyFromPublicKey(core.ed25519PublicKey(seed)),
    sig: core.ed25519Sign(seed, message),
  }));
  const { signatures: existing = [], ...rest } = body;
  const event = { ...rest, signatures: [...existing, ...added] } as KeyEvent;
  const encoded = guarded(() => encodeKeyEvent(event));
  if (!encoded.ok) return encoded;
  return decodeKeyEvent(core, encoded.value);
}
