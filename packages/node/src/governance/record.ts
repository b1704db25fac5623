/**
 * Governance records (spec/GOVERNANCE.md §3–§5): the envelope shared by trust roots, critical
 * actions, trust attestations and their revocations; its schema (one check, shared by the CBOR
 * and JSON forms), canonical encodings, ids and the signing input.
 *
 * Governance records are a third class beside events and key events: they never expire as
 * records (a root or an action changes state for good), they carry no nonce, and they have
 * their own signature domain, so that no signature over an event or a key event can pass for
 * one over a governance record. Everything that depends on input returns a {@link GovResult}.
 */
import { concatBytes, toHex, utf8, utf8Length } from '../protocol/bytes.js';
import { CborError, decodeCbor, encodeCbor, isCborMap, type CborLimits, type CborMap, type CborValue } from '../protocol/cbor.js';
import { didKeyFromPublicKey, parseDidKey } from '../protocol/did.js';
import type { EventSignature, Hasher, SignatureCheck, Signer } from '../protocol/event.js';
import { Reason } from '../protocol/reasons.js';
import { parseIdentifier } from '../identity/identifier.js';
import { GovReason, govAccept, govReject, type GovRejection, type GovResult } from './reasons.js';

export const GOVERNANCE_RECORD_VERSION = 1;

/** The limits of §4. Changing one changes which records are valid: a protocol change. */
export const GOV_LIMITS = Object.freeze({
  /** Canonical CBOR of a whole record, signatures included. */
  maxRecordBytes: 32_768,
  /** The JSON text of one record, in bytes. */
  maxJsonBytes: 131_072,
  /** Any text string (map keys included), in UTF-8 bytes. */
  maxTextBytes: 256,
  /** Entries of any one array or map. */
  maxEntries: 256,
  maxMembers: 32,
  maxValidators: 256,
  maxProtocolVersions: 16,
  maxSignatures: 64,
  /** `expires_at − created_at` of a root and of an attestation (366 days). */
  maxValidity: 31_622_400,
  maxPolicyDepth: 8,
  maxPolicyPaths: 8,
  maxScopeBytes: 64,
  signatureBytes: 64,
  digestBytes: 32,
});

/** The CBOR profile of the event protocol under the limits of a governance record. */
export const GOV_CBOR_LIMITS: CborLimits = Object.freeze({
  maxInputBytes: GOV_LIMITS.maxRecordBytes,
  maxDepth: 3, // the record map, a list or map in it, an entry of that list
  maxTextBytes: GOV_LIMITS.maxTextBytes,
  maxByteStringBytes: GOV_LIMITS.signatureBytes,
  maxEntries: GOV_LIMITS.maxEntries,
});

export const RECORD_TYPES = Object.freeze(['root', 'action', 'attestation', 'attestation-revocation'] as const);
export type RecordType = (typeof RECORD_TYPES)[number];

/** Critical actions other than a root change, which is a root record itself. */
export const ACTION_KINDS = Object.freeze([
  'protocol-upgrade',
  'policy-change',
  'identity-rotation',
  'identity-revocation',
  'validator-admission',
  'validator-removal',
] as const);
export type ActionKind = (typeof ACTION_KINDS)[number];
/** Every kind a root holds a threshold for. */
export const CRITICAL_KINDS = Object.freeze(['root-change', ...ACTION_KINDS] as const);
export type CriticalKind = (typeof CRITICAL_KINDS)[number];

/** A governance identity or a validator: a did:key, or a did:cs pinned to one of its key states. */
export interface PrincipalEntry {
  readonly id: string;
  /** The id of the establishment event whose keys act for a did:cs; absent for a did:key. */
  readonly keyState?: Uint8Array;
}

export interface TrustPolicy {
  /** Paths from the root's set have at most this many attestations (1..8). */
  readonly maxDepth: number;
  /** Vertex-disjoint paths needed (1..8). */
  readonly minPaths: number;
}

export interface RootBody {
  readonly v: 1;
  readonly type: 'root';
  readonly version: number;
  /** The id of the root this one follows; absent in a root that can only be an anchor. */
  readonly prior?: Uint8Array;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly members: readonly PrincipalEntry[];
  readonly thresholds: Readonly<Record<CriticalKind, number>>;
  readonly validators: readonly PrincipalEntry[];
  readonly protocolVersions: readonly number[];
  readonly trustPolicy: TrustPolicy;
}

export interface ActionBody {
  readonly v: 1;
  readonly type: 'action';
  readonly kind: ActionKind;
  /** The id of the root the action is judged against. */
  readonly root: Uint8Array;
  readonly subject?: string;
  readonly keyState?: Uint8Array;
  readonly createdAt: number;
  readonly protocolVersions?: readonly number[];
  readonly trustPolicy?: TrustPolicy;
}

export interface AttestationBody {
  readonly v: 1;
  readonly type: 'attestation';
  readonly issuer: string;
  readonly subject: string;
  readonly keyState?: Uint8Array;
  readonly scope: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface AttestationRevocationBody {
  readonly v: 1;
  readonly type: 'attestation-revocation';
  readonly issuer: string;
  readonly keyState?: Uint8Array;
  /** The id of the attestation revoked. */
  readonly target: Uint8Array;
  readonly createdAt: number;
}

export type RecordBody = RootBody | ActionBody | AttestationBody | AttestationRevocationBody;
export type GovernanceRecord = RecordBody & { readonly signatures: readonly EventSignature[] };
export type RecordOf<T extends RecordType> = Extract<GovernanceRecord, { readonly type: T }>;

/** A record that passed decoding and the schema (§7 steps 1–3). */
export interface DecodedRecord<R extends GovernanceRecord = GovernanceRecord> {
  readonly record: R;
  /** Canonical CBOR of the whole record (a copy). */
  readonly encoded: Uint8Array;
  /** Canonical CBOR of the body: the record without `signatures`. */
  readonly body: Uint8Array;
  readonly id: Uint8Array;
  readonly idHex: string;
  /** `signerKeys[i]` is the public key of `record.signatures[i].signer`. */
  readonly signerKeys: readonly Uint8Array[];
}

export function isDidKey(did: string): boolean {
  return did.startsWith('did:key:');
}

// ---------------------------------------------------------------------------------------------
// Schema (§3), shared by the CBOR and JSON forms

type Presence = 'R' | 'O';
/** Wire fields in check order, and for which types each is required (R) or allowed (O). */
const FIELD_RULES: ReadonlyArray<readonly [string, Readonly<Partial<Record<RecordType, Presence>>>]> = [
  ['version', { root: 'R' }],
  ['prior', { root: 'O' }],
  ['kind', { action: 'R' }],
  ['root', { action: 'R' }],
  ['issuer', { attestation: 'R', 'attestation-revocation': 'R' }],
  ['subject', { action: 'O', attestation: 'R' }],
  ['key_state', { action: 'O', attestation: 'O', 'attestation-revocation': 'O' }],
  ['scope', { attestation: 'R' }],
  ['target', { 'attestation-revocation': 'R' }],
  ['created_at', { root: 'R', action: 'R', attestation: 'R', 'attestation-revocation': 'R' }],
  ['expires_at', { root: 'R', attestation: 'R' }],
  ['members', { root: 'R' }],
  ['thresholds', { root: 'R' }],
  ['validators', { root: 'R' }],
  ['protocol_versions', { root: 'R', action: 'O' }],
  ['trust_policy', { root: 'R', action: 'O' }],
];
const KNOWN_FIELDS: ReadonlySet<string> = new Set(['v', 'type', ...FIELD_RULES.map(([f]) => f), 'signatures']);
const SUBJECT_KINDS: ReadonlySet<string> = new Set(['identity-rotation', 'identity-revocation', 'validator-admission', 'validator-removal']);

class Stop {
  constructor(readonly rejection: GovRejection) {}
}
function fail(reason: GovRejection['reason'], detail: string): never {
  throw new Stop(govReject(reason, detail));
}
const bad = (detail: string): never => fail(Reason.BAD_FIELD, detail);
const tooLarge = (detail: string): never => fail(GovReason.TOO_LARGE, detail);

function isUint(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
function uint(value: CborValue | undefined, field: string): number {
  if (!isUint(value)) bad(`${field} must be an unsigned integer`);
  return value as number;
}
function digest(value: CborValue | undefined, field: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== GOV_LIMITS.digestBytes) bad(`${field} must be ${GOV_LIMITS.digestBytes} bytes`);
  return value as Uint8Array;
}

/** A did:key or a did:cs (text; not a DID: ERR_BAD_DID). */
function principal(value: CborValue | undefined, field: string): string {
  if (typeof value !== 'string') bad(`${field} must be a did:key or did:cs string`);
  const did = value as string;
  if (isDidKey(did)) {
    const r = parseDidKey(did);
    if (!r.ok) fail(Reason.BAD_DID, `${field}: ${r.detail}`);
  } else {
    const r = parseIdentifier(did);
    if (!r.ok) fail(Reason.BAD_DID, `${field} is neither a did:key nor a did:cs`);
  }
  return did;
}

function principalList(value: CborValue | undefined, field: string, min: number, max: number): PrincipalEntry[] {
  if (!Array.isArray(value)) bad(`${field} must be an array`);
  const list = value as CborValue[];
  if (list.length > max) tooLarge(`more than ${max} ${field}`);
  if (list.length < min) bad(`${field} must not be empty`);
  const out: PrincipalEntry[] = [];
  list.forEach((entry, i) => {
    if (!isCborMap(entry)) bad(`${field}[${i}] must be a map`);
    const map = entry as CborMap;
    const id = principal(map['id'], `${field}[${i}].id`);
    const pinned = 'key_state' in map;
    if (isDidKey(id) === pinned) bad(`${field}[${i}]: key_state is required for a did:cs and not allowed for a did:key`);
    const keyState = pinned ? digest(map['key_state'], `${field}[${i}].key_state`) : undefined;
    if (Object.keys(map).length !== (pinned ? 2 : 1)) bad(`${field}[${i}] has a field other than id and key_state`);
    const prev = out[out.length - 1];
    if (prev !== undefined && !(prev.id < id)) bad(`${field} must be distinct and in ascending order of id`);
    out.push(keyState === undefined ? { id } : { id, keyState });
  });
  return out;
}

function versionList(value: CborValue | undefined): number[] {
  if (!Array.isArray(value)) bad('protocol_versions must be an array');
  const list = value as CborValue[];
  if (list.length > GOV_LIMITS.maxProtocolVersions) tooLarge(`more than ${GOV_LIMITS.maxProtocolVersions} protocol_versions`);
  if (list.length === 0) bad('protocol_versions must not be empty');
  const out: number[] = [];
  for (const v of list) {
    if (!isUint(v) || v < 1) bad('each protocol version is an unsigned integer >= 1');
    const prev = out[out.length - 1];
    if (prev !== undefined && !(prev < (v as number))) bad('protocol_versions must be distinct and ascending');
    out.push(v as number);
  }
  return out;
}

function trustPolicy(value: CborValue | undefined): TrustPolicy {
  if (!isCborMap(value)) bad('trust_policy must be a map');
  const map = value as CborMap;
  const maxDepth = uint(map['max_depth'], 'trust_policy.max_depth');
  if (maxDepth < 1 || maxDepth > GOV_LIMITS.maxPolicyDepth) bad(`trust_policy.max_depth must be 1..${GOV_LIMITS.maxPolicyDepth}`);
  const minPaths = uint(map['min_paths'], 'trust_policy.min_paths');
  if (minPaths < 1 || minPaths > GOV_LIMITS.maxPolicyPaths) bad(`trust_policy.min_paths must be 1..${GOV_LIMITS.maxPolicyPaths}`);
  if (Object.keys(map).length !== 2) bad('trust_policy has exactly the fields max_depth and min_paths');
  return { maxDepth, minPaths };
}

function thresholds(value: CborValue | undefined, members: number): Record<CriticalKind, number> {
  if (!isCborMap(value)) bad('thresholds must be a map');
  const map = value as CborMap;
  const out = {} as Record<CriticalKind, number>;
  for (const kind of CRITICAL_KINDS) {
    if (!(kind in map)) bad(`thresholds.${kind} is missing`);
    const t = uint(map[kind], `thresholds.${kind}`);
    // Any two quorums share a member (2t > n): a fork always names a member who signed twice.
    if (t < 1 || t > members || 2 * t <= members) bad(`thresholds.${kind} must be more than half of ${members} members, at most all`);
    out[kind] = t;
  }
  if (Object.keys(map).length !== CRITICAL_KINDS.length) bad(`thresholds has a key other than ${CRITICAL_KINDS.join(', ')}`);
  return out;
}

function scope(value: CborValue | undefined): string {
  if (typeof value !== 'string') bad('scope must be text');
  const s = value as string;
  if (utf8Length(s) > GOV_LIMITS.maxScopeBytes) tooLarge(`scope longer than ${GOV_LIMITS.maxScopeBytes} bytes`);
  if (s.length === 0) bad('scope must not be empty');
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) bad('scope must be printable ASCII without spaces');
  }
  return s;
}

function signatureList(value: CborValue | undefined): { list: EventSignature[]; keys: Uint8Array[] } {
  if (value === undefined) bad('field signatures is missing');
  if (!Array.isArray(value)) bad('signatures must be an array');
  const entries = value as CborValue[];
  if (entries.length > GOV_LIMITS.maxSignatures) tooLarge(`more than ${GOV_LIMITS.maxSignatures} signatures`);
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
    if (!(sig instanceof Uint8Array) || sig.length !== GOV_LIMITS.signatureBytes) bad(`signatures[${i}].sig must be ${GOV_LIMITS.signatureBytes} bytes`);
    list.push({ signer: signer as string, sig: sig as Uint8Array });
    keys.push(key.value);
  });
  return { list, keys };
}

function validity(createdAt: number, expiresAt: number): void {
  if (expiresAt <= createdAt) bad('expires_at must be after created_at');
  if (expiresAt - createdAt > GOV_LIMITS.maxValidity) bad(`expires_at is more than ${GOV_LIMITS.maxValidity}s after created_at`);
}

/** §3 in table order: each field's presence, then its own constraint; then unknown fields. */
function fromMap(value: CborValue): { record: GovernanceRecord; signerKeys: Uint8Array[] } {
  if (!isCborMap(value)) fail(Reason.MALFORMED, 'a governance record is a map');
  const map = value as CborMap;
  const v = map['v'];
  if (v === undefined) bad('field v is missing');
  if (!isUint(v)) bad('field v must be an unsigned integer');
  if (v !== GOVERNANCE_RECORD_VERSION) fail(Reason.UNSUPPORTED_VERSION, `governance record version ${String(v)}`);
  const type = map['type'];
  if (typeof type !== 'string' || !(RECORD_TYPES as readonly string[]).includes(type)) bad(`type must be one of ${RECORD_TYPES.join(', ')}`);
  const t = type as RecordType;
  const f: Record<string, unknown> = {};
  for (const [field, rule] of FIELD_RULES) {
    const present = field in map;
    if (present && rule[t] === undefined) bad(`field ${field} is not allowed in a ${t} record`);
    if (!present && rule[t] === 'R') bad(`field ${field} is missing`);
    if (rule[t] === undefined) continue;
    const x = map[field];
    switch (field) {
      case 'version':
        if (present) {
          f['version'] = uint(x, 'version');
          if ((f['version'] as number) < 1) bad('version must be 1 or more');
        }
        break;
      case 'prior':
      case 'root':
      case 'target':
        if (present) f[field] = digest(x, field);
        break;
      case 'kind':
        if (present) {
          if (typeof x !== 'string' || !(ACTION_KINDS as readonly string[]).includes(x)) bad(`kind must be one of ${ACTION_KINDS.join(', ')}`);
          f['kind'] = x;
        }
        break;
      case 'issuer':
        if (present) f['issuer'] = principal(x, 'issuer');
        break;
      case 'subject':
        if (t === 'action') {
          const needs = SUBJECT_KINDS.has(f['kind'] as string);
          if (present !== needs) bad(`subject is ${needs ? 'required' : 'not allowed'} in a ${String(f['kind'])} action`);
          if (!present) break;
          f['subject'] = principal(x, 'subject');
          if (f['kind'] === 'identity-rotation' && isDidKey(f['subject'] as string)) bad('identity-rotation re-pins a did:cs; a did:key has no key states');
        } else if (present) {
          f['subject'] = principal(x, 'subject');
          if (f['subject'] === f['issuer']) bad('an attestation of oneself');
        }
        break;
      case 'key_state': {
        const needs =
          t === 'action'
            ? f['kind'] === 'identity-rotation' ||
              (f['kind'] === 'validator-admission' && typeof f['subject'] === 'string' && !isDidKey(f['subject']))
            : !isDidKey(f['issuer'] as string);
        if (present !== needs) bad(`key_state is ${needs ? 'required' : 'not allowed'} here (it names the key state of a did:cs)`);
        if (present) f['keyState'] = digest(x, 'key_state');
        break;
      }
      case 'scope':
        if (present) f['scope'] = scope(x);
        break;
      case 'created_at':
        f['createdAt'] = uint(x, 'created_at');
        break;
      case 'expires_at':
        if (present) {
          f['expiresAt'] = uint(x, 'expires_at');
          validity(f['createdAt'] as number, f['expiresAt'] as number);
        }
        break;
      case 'members':
        if (present) f['members'] = principalList(x, 'members', 1, GOV_LIMITS.maxMembers);
        break;
      case 'thresholds':
        if (present) f['thresholds'] = thresholds(x, (f['members'] as PrincipalEntry[]).length);
        break;
      case 'validators':
        if (present) f['validators'] = principalList(x, 'validators', 0, GOV_LIMITS.maxValidators);
        break;
      case 'protocol_versions':
        if (t === 'action' && present !== (f['kind'] === 'protocol-upgrade')) bad('protocol_versions belongs to a protocol-upgrade action');
        if (present) f['protocolVersions'] = versionList(x);
        break;
      case 'trust_policy':
        if (t === 'action' && present !== (f['kind'] === 'policy-change')) bad('trust_policy belongs to a policy-change action');
        if (present) f['trustPolicy'] = trustPolicy(x);
        break;
    }
  }
  const signatures = signatureList(map['signatures']);
  for (const key of Object.keys(map)) if (!KNOWN_FIELDS.has(key)) bad(`unknown field ${JSON.stringify(key)}`);
  const record = { v: 1, type: t, ...f, signatures: signatures.list } as unknown as GovernanceRecord;
  return { record, signerKeys: signatures.keys };
}

// ---------------------------------------------------------------------------------------------
// Encodings, id, signing input (§5)

function entryToMap(e: PrincipalEntry): CborMap {
  return e.keyState === undefined ? { id: e.id } : { id: e.id, key_state: e.keyState };
}
function policyToMap(p: TrustPolicy): CborMap {
  return { max_depth: p.maxDepth, min_paths: p.minPaths };
}

/** The body as a CBOR map with wire field names. */
export function recordBodyToMap(body: RecordBody): CborMap {
  const map: CborMap = { v: body.v, type: body.type, created_at: body.createdAt };
  const set = (key: string, value: CborValue | undefined): void => {
    if (value !== undefined) map[key] = value;
  };
  switch (body.type) {
    case 'root':
      set('version', body.version);
      set('prior', body.prior);
      set('expires_at', body.expiresAt);
      set('members', body.members.map(entryToMap));
      set('thresholds', Object.fromEntries(CRITICAL_KINDS.map((k) => [k, body.thresholds[k]])));
      set('validators', body.validators.map(entryToMap));
      set('protocol_versions', [...body.protocolVersions]);
      set('trust_policy', policyToMap(body.trustPolicy));
      break;
    case 'action':
      set('kind', body.kind);
      set('root', body.root);
      set('subject', body.subject);
      set('key_state', body.keyState);
      set('protocol_versions', body.protocolVersions === undefined ? undefined : [...body.protocolVersions]);
      set('trust_policy', body.trustPolicy === undefined ? undefined : policyToMap(body.trustPolicy));
      break;
    case 'attestation':
      set('issuer', body.issuer);
      set('subject', body.subject);
      set('key_state', body.keyState);
      set('scope', body.scope);
      set('expires_at', body.expiresAt);
      break;
    case 'attestation-revocation':
      set('issuer', body.issuer);
      set('key_state', body.keyState);
      set('target', body.target);
      break;
  }
  return map;
}

function recordToMap(record: GovernanceRecord): CborMap {
  const map = recordBodyToMap(record);
  map['signatures'] = record.signatures.map((s) => ({ signer: s.signer, sig: s.sig }));
  return map;
}

/** Canonical CBOR of the body. Throws CborError for a value outside the data model. */
export function encodeRecordBody(body: RecordBody): Uint8Array {
  return encodeCbor(recordBodyToMap(body));
}

/** Canonical CBOR of the whole record. Throws CborError for a value outside the data model. */
export function encodeRecord(record: GovernanceRecord): Uint8Array {
  return encodeCbor(recordToMap(record));
}

/** ASCII "commons-sync/governance-signature/v1" and a zero byte. */
export const GOVERNANCE_SIGNATURE_DOMAIN = utf8('commons-sync/governance-signature/v1\0');

/** What every signature of a governance record signs: the domain tag, then the 32-byte id. */
export function recordSigningInput(id: Uint8Array): Uint8Array {
  if (!(id instanceof Uint8Array) || id.length !== 32) throw new TypeError('a governance record id is 32 bytes');
  return concatBytes(GOVERNANCE_SIGNATURE_DOMAIN, id);
}

/** The id of the record this one names, if any: a root's prior, an action's root, a revocation's target. */
export function referenceOf(record: RecordBody): Uint8Array | undefined {
  switch (record.type) {
    case 'root':
      return record.prior;
    case 'action':
      return record.root;
    case 'attestation-revocation':
      return record.target;
    default:
      return undefined;
  }
}

/** Runs `fn`, turning a schema stop or a CBOR error into a rejection (every size limit: ERR_GOV_TOO_LARGE). */
function guarded<T>(fn: () => T): GovResult<T> {
  try {
    return govAccept(fn());
  } catch (error) {
    if (error instanceof Stop) return error.rejection;
    if (error instanceof CborError) return govReject(error.code === Reason.TOO_LARGE ? GovReason.TOO_LARGE : error.code, error.message);
    throw error;
  }
}

function finish(hasher: Hasher, checked: { record: GovernanceRecord; signerKeys: Uint8Array[] }, encoded: Uint8Array): DecodedRecord {
  const body = encodeRecordBody(checked.record);
  const id = hasher.sha256(body);
  return { record: checked.record, encoded, body, id, idHex: toHex(id), signerKeys: checked.signerKeys };
}

/** Steps 2–3 of §7 on a value already in the data model (the JSON form lands here). */
export function recordFromValue(hasher: Hasher, value: CborValue): GovResult<DecodedRecord> {
  return guarded(() => {
    const checked = fromMap(value);
    const encoded = encodeRecord(checked.record);
    if (encoded.length > GOV_LIMITS.maxRecordBytes) tooLarge(`the record encodes to ${encoded.length} bytes`);
    decodeCbor(encoded, GOV_CBOR_LIMITS); // the CBOR form of the value must pass the profile too
    return finish(hasher, checked, encoded);
  });
}

/** Decodes a record from its canonical CBOR (§7 steps 1–3). Never throws on input. */
export function decodeRecord(hasher: Hasher, bytes: Uint8Array): GovResult<DecodedRecord> {
  if (!(bytes instanceof Uint8Array)) return govReject(Reason.MALFORMED, 'input is not bytes');
  return guarded(() => finish(hasher, fromMap(decodeCbor(bytes, GOV_CBOR_LIMITS)), bytes.slice()));
}

/** The (public key, message, signature) triples to verify, one per entry of `signatures`. */
export function recordSignatureChecks(decoded: DecodedRecord): SignatureCheck[] {
  const message = recordSigningInput(decoded.id);
  return decoded.record.signatures.map((s, i) => ({ publicKey: decoded.signerKeys[i] as Uint8Array, message, signature: s.sig }));
}

/** §7 step 4 (local): a record dated more than `skew` seconds after `now` is not yet valid. */
export function checkRecordTime(record: Pick<RecordBody, 'createdAt'>, now: number, skewSeconds = 300): GovResult<true> {
  if (record.createdAt > now + skewSeconds) {
    return govReject(Reason.NOT_YET_VALID, `created_at ${record.createdAt} is more than ${skewSeconds}s after now ${now}`);
  }
  return govAccept(true);
}

/**
 * Signs a body with each seed (appending to signatures already present: co-signing) and checks
 * the result as {@link decodeRecord} would. Throws only for a seed that is not 32 bytes.
 */
export function signRecord(
  core: Signer,
  body: RecordBody & { readonly signatures?: readonly EventSignature[] },
  seeds: readonly Uint8Array[],
): GovResult<DecodedRecord> {
  const bodyBytes = guarded(() => encodeRecordBody(body));
  if (!bodyBytes.ok) return bodyBytes;
  const message = recordSigningInput(core.sha256(bodyBytes.value));
  const added = seeds.map((seed) => ({ signer: didKeyFromPublicKey(core.ed25519PublicKey(seed)), sig: core.ed25519Sign(seed, message) }));
  const { signatures: existing = [], ...rest } = body;
  const record = { ...rest, signatures: [...existing, ...added] } as GovernanceRecord;
  const encoded = guarded(() => encodeRecord(record));
  if (!encoded.ok) return encoded;
  return decodeRecord(core, encoded.value);
}

/**
 * Which keys signed this copy of a record, as one string (distinct did:keys, ascending). Copies
 * of one record (same body and id, other signatures) are judged on their own signatures, and
 * tried in this order wherever several are held.
 */
export function signerSetOf(record: Pick<DecodedRecord, 'record'>): string {
  return [...new Set(record.record.signatures.map((s) => s.signer))].sort().join(' ');
}

/** Orders copies of records: by id, then by signer set. */
export function byIdThenSigners(a: Pick<DecodedRecord, 'record' | 'idHex'>, b: Pick<DecodedRecord, 'record' | 'idHex'>): number {
  if (a.idHex !== b.idHex) return a.idHex < b.idHex ? -1 : 1;
  const sa = signerSetOf(a);
  const sb = signerSetOf(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}
