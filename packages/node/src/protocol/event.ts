/**
 * The CommonsEvent (spec/PROTOCOL.md §2–§5): types, the schema check shared by the CBOR and
 * JSON forms, canonical encodings of the body and of the whole event, the event id, the
 * signing input, and event creation.
 *
 * Everything that depends on input returns a {@link Result}; nothing here throws on input.
 */
import { concatBytes, utf8, utf8Length } from './bytes.js';
import {
  CborError,
  type CborLimits,
  type CborMap,
  CborReader,
  type CborValue,
  encodeCbor,
  isCborMap,
} from './cbor.js';
import { didKeyFromPublicKey, looksLikeDidCs, parseDidCs, parseDidKey } from './did.js';
import { checkVersion, LIMITS } from './limits.js';
import { accept, Reason, type Rejection, type Result, reject } from './reasons.js';

/** The CBOR limits of an encoded event (§6): a payload of depth 16 sits inside the event map. */
export const EVENT_CBOR_LIMITS: CborLimits = Object.freeze({
  maxInputBytes: LIMITS.maxEventBytes,
  maxDepth: LIMITS.maxPayloadDepth + 1,
  maxTextBytes: LIMITS.maxTextBytes,
  maxByteStringBytes: LIMITS.maxByteStringBytes,
  maxEntries: LIMITS.maxEntries,
});

/** A payload value: JSON without floats (integers within ±(2^53-1)). */
export type Payload = null | boolean | number | string | Payload[] | PayloadMap;
export interface PayloadMap {
  [key: string]: Payload;
}

/** M-of-N: `threshold` distinct keys of `signers` (sorted, distinct, author included) must sign. */
export interface MultiSigPolicy {
  readonly threshold: number;
  readonly signers: readonly string[];
}

/** Every field except the signatures: what the id commits to. Wire names are in snake_case. */
export interface EventBody {
  readonly v: 1;
  /** 1..64 bytes of printable ASCII (0x21..0x7e). */
  readonly kind: string;
  /** did:key of the author, or the did:cs of an identity (then `keyState` is present). */
  readonly author: string;
  /**
   * For an author that is an identity (did:cs, spec/IDENTITY.md §8): the 32-byte id of the
   * establishment event whose keys signed. Absent for a did:key author.
   */
  readonly keyState?: Uint8Array;
  /** Unix seconds. */
  readonly createdAt: number;
  /** Unix seconds, greater than `createdAt`. */
  readonly expiresAt: number;
  /** 16..32 bytes, unique per author. */
  readonly nonce: Uint8Array;
  readonly payload: Payload;
  /** Absent: threshold 1, signers [author]. */
  readonly policy?: MultiSigPolicy;
}

export interface EventSignature {
  readonly signer: string;
  /** 64 bytes: Ed25519 over {@link signingInput} of the event id. */
  readonly sig: Uint8Array;
}

export interface CommonsEvent extends EventBody {
  readonly signatures: readonly EventSignature[];
}

/** An event that passed decoding, version and schema checks, with what the pipeline needs next. */
export interface DecodedEvent {
  readonly event: CommonsEvent;
  /** Canonical CBOR of the whole event (a copy; never the caller's buffer). */
  readonly encoded: Uint8Array;
  /** Canonical CBOR of the body; the id is its SHA-256. */
  readonly body: Uint8Array;
  /**
   * The author's public key (shared with other events by the did:key cache: do not modify), or
   * null for an identity (did:cs), whose keys are those of its key state.
   */
  readonly authorKey: Uint8Array | null;
  /** `signerKeys[i]` is the public key of `event.signatures[i].signer` (shared likewise). */
  readonly signerKeys: readonly Uint8Array[];
}

/** What a crypto core offers that this module needs (a `Core` from @commons-sync/bindings fits). */
export interface Hasher {
  sha256(data: Uint8Array): Uint8Array;
}
export interface Signer extends Hasher {
  ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array;
  ed25519PublicKey(seed: Uint8Array): Uint8Array;
}

/** One signature to verify; the same shape as `SignedItem` of the bindings. */
export interface SignatureCheck {
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

const BODY_FIELDS = [
  'v',
  'kind',
  'author',
  'key_state',
  'created_at',
  'expires_at',
  'nonce',
  'payload',
] as const;
const POLICY_FIELDS = ['threshold', 'signers'] as const;
/** Every field an event may have (spec/PROTOCOL.md §2), in the spec's order. */
export const EVENT_FIELDS = [...BODY_FIELDS, ...POLICY_FIELDS, 'signatures'] as const;
const KNOWN_FIELDS: ReadonlySet<string> = new Set(EVENT_FIELDS);
const SIGNATURES_KEY = 'signatures';
/** `key_state` is the id of a key event: a SHA-256 digest. */
export const KEY_STATE_BYTES = 32;
/** `signatures` sorts after every other field, so the body is a prefix of the event (§3.3). */
const SIGNATURES_KEY_CBOR = encodeCbor(SIGNATURES_KEY);

// ---------------------------------------------------------------------------------------------
// Schema (§2), shared by the CBOR and JSON forms

function bad(detail: string): Rejection {
  return reject(Reason.BAD_FIELD, detail);
}

function isUint(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function checkKind(kind: unknown): Rejection | null {
  if (typeof kind !== 'string') return bad('kind must be text');
  if (utf8Length(kind) > LIMITS.maxKindBytes) {
    return reject(Reason.TOO_LARGE, `kind longer than ${LIMITS.maxKindBytes} bytes`);
  }
  if (kind.length === 0) return bad('kind must not be empty');
  for (let i = 0; i < kind.length; i++) {
    const c = kind.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return bad('kind must be printable ASCII without spaces');
  }
  return null;
}

/** Rejects byte strings anywhere in the payload (the JSON form could not express them). */
function checkPayload(value: CborValue): Rejection | null {
  if (value instanceof Uint8Array) return bad('payload must not contain byte strings');
  if (Array.isArray(value)) {
    for (const item of value as CborValue[]) {
      const r = checkPayload(item);
      if (r !== null) return r;
    }
  } else if (isCborMap(value)) {
    for (const key of Object.keys(value)) {
      const r = checkPayload(value[key] as CborValue);
      if (r !== null) return r;
    }
  }
  return null;
}

function checkPolicy(
  map: CborMap,
  author: string,
  identityAuthor: boolean,
): Result<MultiSigPolicy | undefined> {
  const threshold = map['threshold'];
  const signers = map['signers'];
  if (threshold === undefined && signers === undefined) return accept(undefined);
  if (identityAuthor) {
    return bad('an event by a did:cs author has no threshold or signers: its key state decides');
  }
  if (threshold === undefined || signers === undefined) {
    return bad('threshold and signers must be both present or both absent');
  }
  if (!isUint(threshold) || threshold < 1) return bad('threshold must be an integer >= 1');
  if (!Array.isArray(signers)) return bad('signers must be an array');
  if (signers.length > LIMITS.maxSigners) {
    return reject(Reason.TOO_LARGE, `more than ${LIMITS.maxSigners} signers`);
  }
  if (signers.length === 0) return bad('signers must not be empty');
  const out: string[] = [];
  for (const s of signers as CborValue[]) {
    if (typeof s !== 'string') return bad('each signer must be a did:key string');
    const parsed = parseDidKey(s);
    if (!parsed.ok) return reject(Reason.BAD_DID, `signer ${JSON.stringify(s)}: ${parsed.detail}`);
    const prev = out[out.length - 1];
    // did:key strings are ASCII, so JS string order is the bytewise order.
    if (prev !== undefined && !(prev < s)) {
      return bad('signers must be distinct and in ascending order');
    }
    out.push(s);
  }
  if (!out.includes(author)) return bad('signers must include the author');
  if (threshold > out.length) return bad(`threshold ${threshold} exceeds ${out.length} signers`);
  if (threshold === 1 && out.length === 1) {
    return bad('the policy 1-of-[author] is the default: omit threshold and signers');
  }
  return accept({ threshold, signers: out });
}

function checkSignatures(value: unknown): Result<{ list: EventSignature[]; keys: Uint8Array[] }> {
  if (value === undefined) return bad('field signatures is missing');
  if (!Array.isArray(value)) return bad('signatures must be an array');
  if (value.length > LIMITS.maxSignatures) {
    return reject(Reason.TOO_LARGE, `more than ${LIMITS.maxSignatures} signatures`);
  }
  if (value.length === 0) return bad('signatures must not be empty');
  const list: EventSignature[] = [];
  const keys: Uint8Array[] = [];
  for (let i = 0; i < value.length; i++) {
    const entry: unknown = value[i];
    if (!isCborMap(entry)) return bad(`signatures[${i}] must be a map`);
    const fields = Object.keys(entry);
    const { signer, sig } = entry;
    if (signer === undefined || sig === undefined || fields.length !== 2) {
      return bad(`signatures[${i}] must have exactly the fields signer and sig`);
    }
    if (typeof signer !== 'string') return bad(`signatures[${i}].signer must be a did:key string`);
    const key = parseDidKey(signer);
    if (!key.ok) return reject(Reason.BAD_DID, `signatures[${i}].signer: ${key.detail}`);
    if (!(sig instanceof Uint8Array) || sig.length !== LIMITS.signatureBytes) {
      return bad(`signatures[${i}].sig must be ${LIMITS.signatureBytes} bytes`);
    }
    list.push({ signer, sig });
    keys.push(key.value);
  }
  return accept({ list, keys });
}

type Checked = Omit<DecodedEvent, 'encoded' | 'body'>;

/**
 * Steps 2 and 3 of §7 on a decoded top-level value: version, then every field in the order of
 * the field table, then unknown fields.
 */
export function eventFromMap(value: CborValue): Result<Checked> {
  if (!isCborMap(value)) return reject(Reason.MALFORMED, 'an event is a map');
  const version = checkVersion(value['v']);
  if (!version.ok) return version;

  const kindError = checkKind(value['kind']);
  if (kindError !== null) return kindError;
  const kind = value['kind'] as string;

  const author = value['author'];
  if (typeof author !== 'string') return bad('author must be a did:key or did:cs string');
  const identityAuthor = looksLikeDidCs(author);
  const authorKey = identityAuthor ? parseDidCs(author) : parseDidKey(author);
  if (!authorKey.ok) return reject(Reason.BAD_DID, `author: ${authorKey.detail}`);

  // key_state: present exactly when the author is an identity (spec/IDENTITY.md §8)
  const keyState = value['key_state'];
  if (identityAuthor) {
    if (keyState === undefined) return bad('key_state is required when the author is a did:cs');
    if (!(keyState instanceof Uint8Array) || keyState.length !== KEY_STATE_BYTES) {
      return bad(`key_state must be ${KEY_STATE_BYTES} bytes`);
    }
  } else if (keyState !== undefined) {
    return bad('key_state is only for a did:cs author');
  }

  const createdAt = value['created_at'];
  if (!isUint(createdAt)) return bad('created_at must be an unsigned integer (Unix seconds)');
  const expiresAt = value['expires_at'];
  if (!isUint(expiresAt)) return bad('expires_at must be an unsigned integer (Unix seconds)');
  if (expiresAt <= createdAt) return bad('expires_at must be greater than created_at');

  const nonce = value['nonce'];
  if (!(nonce instanceof Uint8Array)) return bad('nonce must be bytes');
  if (nonce.length < LIMITS.minNonceBytes || nonce.length > LIMITS.maxNonceBytes) {
    return bad(`nonce must be ${LIMITS.minNonceBytes}..${LIMITS.maxNonceBytes} bytes`);
  }

  if (!('payload' in value)) return bad('field payload is missing');
  const payload = value['payload'] as CborValue;
  const payloadError = checkPayload(payload);
  if (payloadError !== null) return payloadError;

  const policy = checkPolicy(value, author, identityAuthor);
  if (!policy.ok) return policy;

  const signatures = checkSignatures(value[SIGNATURES_KEY]);
  if (!signatures.ok) return signatures;

  for (const key of Object.keys(value)) {
    if (!KNOWN_FIELDS.has(key)) return bad(`unknown field ${JSON.stringify(key)}`);
  }

  const event: CommonsEvent = {
    v: 1,
    kind,
    author,
    ...(keyState === undefined ? {} : { keyState: keyState as Uint8Array }),
    createdAt,
    expiresAt,
    nonce,
    payload: payload as Payload,
    ...(policy.value === undefined ? {} : { policy: policy.value }),
    signatures: signatures.value.list,
  };
  return accept({
    event,
    authorKey: identityAuthor ? null : authorKey.value,
    signerKeys: signatures.value.keys,
  });
}

// ---------------------------------------------------------------------------------------------
// Canonical encodings (§3)

/** The body as a CBOR map with wire field names. */
export function bodyToMap(body: EventBody): CborMap {
  const map: CborMap = {
    v: body.v,
    kind: body.kind,
    author: body.author,
    created_at: body.createdAt,
    expires_at: body.expiresAt,
    nonce: body.nonce,
    payload: body.payload,
  };
  if (body.keyState !== undefined) map['key_state'] = body.keyState;
  if (body.policy !== undefined) {
    map['threshold'] = body.policy.threshold;
    map['signers'] = [...body.policy.signers];
  }
  return map;
}

function signaturesToCbor(signatures: readonly EventSignature[]): CborValue {
  return signatures.map((s) => ({ signer: s.signer, sig: s.sig }));
}

/** Canonical CBOR of the body. Throws CborError for a value outside the data model. */
export function encodeBody(body: EventBody): Uint8Array {
  return encodeCbor(bodyToMap(body));
}

/**
 * The event from its body bytes (§3.3): the same map with one more entry, `signatures`, which
 * sorts last. `body` must be the encoding of a body (7 to 10 fields).
 * @internal
 */
export function eventBytesFromBody(
  body: Uint8Array,
  signatures: readonly EventSignature[],
): Uint8Array {
  const out = concatBytes(body, SIGNATURES_KEY_CBOR, encodeCbor(signaturesToCbor(signatures)));
  out[0] = (body[0] as number) + 1; // map header 0xa7..0xaa -> 0xa8..0xab
  return out;
}

/** Canonical CBOR of the whole event. Throws CborError for a value outside the data model. */
export function encodeEvent(event: CommonsEvent): Uint8Array {
  return eventBytesFromBody(encodeBody(event), event.signatures);
}

/**
 * Decodes an event from its canonical CBOR (§7 steps 1–3). Never throws: any input that is not
 * the canonical encoding of a well-formed v1 event is a rejection.
 */
export function decodeEvent(bytes: Uint8Array): Result<DecodedEvent> {
  if (!(bytes instanceof Uint8Array)) return reject(Reason.MALFORMED, 'input is not bytes');
  if (bytes.length > LIMITS.maxEventBytes) {
    return reject(
      Reason.TOO_LARGE,
      `event of ${bytes.length} bytes (limit ${LIMITS.maxEventBytes})`,
    );
  }
  const reader = new CborReader(bytes, EVENT_CBOR_LIMITS);
  let value: CborValue;
  try {
    value = reader.item(0);
    reader.end();
  } catch (error) {
    if (error instanceof CborError) return reject(error.code, error.message);
    throw error;
  }
  const checked = eventFromMap(value);
  if (!checked.ok) return checked;
  // The event map is canonical and `signatures` is its last key: the body is the same bytes
  // up to that key, under a map header with one entry fewer.
  const lastKey = reader.topLevelKeyOffsets[reader.topLevelKeyOffsets.length - 1] as number;
  const body = bytes.slice(0, lastKey);
  body[0] = (bytes[0] as number) - 1;
  return accept({ ...checked.value, encoded: bytes.slice(), body });
}

/** Builds the decoded form of an event held in memory, checking it as {@link decodeEvent} does. */
export function checkEvent(event: CommonsEvent): Result<DecodedEvent> {
  let body: Uint8Array;
  let encoded: Uint8Array;
  try {
    body = encodeBody(event);
    encoded = eventBytesFromBody(body, event.signatures);
  } catch (error) {
    if (error instanceof CborError) return reject(error.code, error.message);
    throw error;
  }
  return decodeEvent(encoded);
}

// ---------------------------------------------------------------------------------------------
// Id and signatures (§4, §5)

/** ASCII "commons-sync/event-signature/v1" and a zero byte: 32 bytes. */
export const SIGNATURE_DOMAIN = utf8('commons-sync/event-signature/v1\0');

/** SHA-256 of the canonical body. Throws CborError for an in-memory event outside the model. */
export function eventId(core: Hasher, event: EventBody | DecodedEvent): Uint8Array {
  return core.sha256('encoded' in event ? event.body : encodeBody(event));
}

/** What every signature of the event signs: the domain tag, then the 32-byte id (64 bytes). */
export function signingInput(id: Uint8Array): Uint8Array {
  if (!(id instanceof Uint8Array) || id.length !== 32)
    throw new TypeError('an event id is 32 bytes');
  return concatBytes(SIGNATURE_DOMAIN, id);
}

/** The (public key, message, signature) triples to verify, one per entry of `signatures`. */
export function signatureChecks(decoded: DecodedEvent, id: Uint8Array): SignatureCheck[] {
  const message = signingInput(id);
  return decoded.event.signatures.map((s, i) => ({
    publicKey: decoded.signerKeys[i] as Uint8Array,
    message,
    signature: s.sig,
  }));
}

/**
 * Signs a body with each seed, appending to signatures already present (co-signing), and
 * checks the result as {@link decodeEvent} would. Throws only for a seed that is not 32 bytes.
 */
export function signEvent(
  core: Signer,
  body: EventBody & { readonly signatures?: readonly EventSignature[] },
  seeds: readonly Uint8Array[],
): Result<DecodedEvent> {
  let bodyBytes: Uint8Array;
  try {
    bodyBytes = encodeBody(body);
  } catch (error) {
    if (error instanceof CborError) return reject(error.code, error.message);
    throw error;
  }
  const message = signingInput(core.sha256(bodyBytes));
  const added = seeds.map((seed) => ({
    signer: didKeyFromPublicKey(core.ed25519PublicKey(seed)),
    sig: core.ed25519Sign(seed, message),
  }));
  const { signatures: existing = [], ...rest } = body;
  return checkEvent({ ...rest, signatures: [...existing, ...added] });
}

/** A policy in canonical form: signers sorted and deduplicated, author included. */
export function makePolicy(
  author: string,
  threshold: number,
  signers: readonly string[],
): MultiSigPolicy {
  const set = [...new Set([author, ...signers])].sort();
  return { threshold, signers: set };
}
