/**
 * The schema of governance records (spec/GOVERNANCE.md §3.1), one check for the CBOR and the
 * JSON forms: fields in table order, each one's presence then its own constraint, then unknown
 * fields. Every size limit is ERR_GOV_TOO_LARGE (the endless-data class).
 */

import { parseIdentifier } from '../identity/identifier.js';
import { utf8Length } from '../protocol/bytes.js';
import { type CborMap, type CborValue, isCborMap } from '../protocol/cbor.js';
import { parseDidKey } from '../protocol/did.js';
import type { EventSignature } from '../protocol/event.js';
import { Reason } from '../protocol/reasons.js';
import { GovReason, type GovRejection, govReject } from './reasons.js';
import {
  ACTION_KINDS,
  CRITICAL_KINDS,
  type CriticalKind,
  GOV_LIMITS,
  GOVERNANCE_RECORD_VERSION,
  type GovernanceRecord,
  isDidKey,
  type PrincipalEntry,
  RECORD_TYPES,
  type RecordType,
  type TrustPolicy,
} from './record-types.js';

type Presence = 'R' | 'O';
/** Wire fields in check order, and for which types each is required (R) or allowed (O). */
const FIELD_RULES: ReadonlyArray<
  readonly [string, Readonly<Partial<Record<RecordType, Presence>>>]
> = [
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
const KNOWN_FIELDS: ReadonlySet<string> = new Set([
  'v',
  'type',
  ...FIELD_RULES.map(([f]) => f),
  'signatures',
]);
const SUBJECT_KINDS: ReadonlySet<string> = new Set([
  'identity-rotation',
  'identity-revocation',
  'validator-admission',
  'validator-removal',
]);

/** Thrown inside the schema only; `guarded` in record.ts turns it into a rejection. */
export class SchemaStop {
  constructor(readonly rejection: GovRejection) {}
}
function fail(reason: GovRejection['reason'], detail: string): never {
  throw new SchemaStop(govReject(reason, detail));
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
  if (!(value instanceof Uint8Array) || value.length !== GOV_LIMITS.digestBytes)
    bad(`${field} must be ${GOV_LIMITS.digestBytes} bytes`);
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

function principalList(
  value: CborValue | undefined,
  field: string,
  min: number,
  max: number,
): PrincipalEntry[] {
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
    if (isDidKey(id) === pinned)
      bad(`${field}[${i}]: key_state is required for a did:cs and not allowed for a did:key`);
    const keyState = pinned ? digest(map['key_state'], `${field}[${i}].key_state`) : undefined;
    if (Object.keys(map).length !== (pinned ? 2 : 1))
      bad(`${field}[${i}] has a field other than id and key_state`);
    const prev = out[out.length - 1];
    if (prev !== undefined && !(prev.id < id))
      bad(`${field} must be distinct and in ascending order of id`);
    out.push(keyState === undefined ? { id } : { id, keyState });
  });
  return out;
}

function versionList(value: CborValue | undefined): number[] {
  if (!Array.isArray(value)) bad('protocol_versions must be an array');
  const list = value as CborValue[];
  if (list.length > GOV_LIMITS.maxProtocolVersions)
    tooLarge(`more than ${GOV_LIMITS.maxProtocolVersions} protocol_versions`);
  if (list.length === 0) bad('protocol_versions must not be empty');
  const out: number[] = [];
  for (const v of list) {
    if (!isUint(v) || v < 1) bad('each protocol version is an unsigned integer >= 1');
    const prev = out[out.length - 1];
    if (prev !== undefined && !(prev < (v as number)))
      bad('protocol_versions must be distinct and ascending');
    out.push(v as number);
  }
  return out;
}

function trustPolicy(value: CborValue | undefined): TrustPolicy {
  if (!isCborMap(value)) bad('trust_policy must be a map');
  const map = value as CborMap;
  const maxDepth = uint(map['max_depth'], 'trust_policy.max_depth');
  if (maxDepth < 1 || maxDepth > GOV_LIMITS.maxPolicyDepth)
    bad(`trust_policy.max_depth must be 1..${GOV_LIMITS.maxPolicyDepth}`);
  const minPaths = uint(map['min_paths'], 'trust_policy.min_paths');
  if (minPaths < 1 || minPaths > GOV_LIMITS.maxPolicyPaths)
    bad(`trust_policy.min_paths must be 1..${GOV_LIMITS.maxPolicyPaths}`);
  if (Object.keys(map).length !== 2)
    bad('trust_policy has exactly the fields max_depth and min_paths');
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
    if (t < 1 || t > members || 2 * t <= members)
      bad(`thresholds.${kind} must be more than half of ${members} members, at most all`);
    out[kind] = t;
  }
  if (Object.keys(map).length !== CRITICAL_KINDS.length)
    bad(`thresholds has a key other than ${CRITICAL_KINDS.join(', ')}`);
  return out;
}

function scope(value: CborValue | undefined): string {
  if (typeof value !== 'string') bad('scope must be text');
  const s = value as string;
  if (utf8Length(s) > GOV_LIMITS.maxScopeBytes)
    tooLarge(`scope longer than ${GOV_LIMITS.maxScopeBytes} bytes`);
  if (s.length === 0) bad('scope must not be empty');
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) bad('scope must be printable ASCII without spaces');
  }
  return s;
}

function signatureList(value: CborValue | undefined): {
  list: EventSignature[];
  keys: Uint8Array[];
} {
  if (value === undefined) bad('field signatures is missing');
  if (!Array.isArray(value)) bad('signatures must be an array');
  const entries = value as CborValue[];
  if (entries.length > GOV_LIMITS.maxSignatures)
    tooLarge(`more than ${GOV_LIMITS.maxSignatures} signatures`);
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
    if (!(sig instanceof Uint8Array) || sig.length !== GOV_LIMITS.signatureBytes)
      bad(`signatures[${i}].sig must be ${GOV_LIMITS.signatureBytes} bytes`);
    list.push({ signer: signer as string, sig: sig as Uint8Array });
    keys.push(key.value);
  });
  return { list, keys };
}

function validity(createdAt: number, expiresAt: number): void {
  if (expiresAt <= createdAt) bad('expires_at must be after created_at');
  if (expiresAt - createdAt > GOV_LIMITS.maxValidity)
    bad(`expires_at is more than ${GOV_LIMITS.maxValidity}s after created_at`);
}

/** §3 in table order: each field's presence, then its own constraint; then unknown fields. Throws SchemaStop. */
export function recordFromMap(value: CborValue): {
  record: GovernanceRecord;
  signerKeys: Uint8Array[];
} {
  if (!isCborMap(value)) fail(Reason.MALFORMED, 'a governance record is a map');
  const map = value as CborMap;
  const v = map['v'];
  if (v === undefined) bad('field v is missing');
  if (!isUint(v)) bad('field v must be an unsigned integer');
  if (v !== GOVERNANCE_RECORD_VERSION)
    fail(Reason.UNSUPPORTED_VERSION, `governance record version ${String(v)}`);
  const type = map['type'];
  if (typeof type !== 'string' || !(RECORD_TYPES as readonly string[]).includes(type))
    bad(`type must be one of ${RECORD_TYPES.join(', ')}`);
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
          if (typeof x !== 'string' || !(ACTION_KINDS as readonly string[]).includes(x))
            bad(`kind must be one of ${ACTION_KINDS.join(', ')}`);
          f['kind'] = x;
        }
        break;
      case 'issuer':
        if (present) f['issuer'] = principal(x, 'issuer');
        break;
      case 'subject':
        if (t === 'action') {
          const needs = SUBJECT_KINDS.has(f['kind'] as string);
          if (present !== needs)
            bad(
              `subject is ${needs ? 'required' : 'not allowed'} in a ${String(f['kind'])} action`,
            );
          if (!present) break;
          f['subject'] = principal(x, 'subject');
          if (f['kind'] === 'identity-rotation' && isDidKey(f['subject'] as string))
            bad('identity-rotation re-pins a did:cs; a did:key has no key states');
        } else if (present) {
          f['subject'] = principal(x, 'subject');
          if (f['subject'] === f['issuer']) bad('an attestation of oneself');
        }
        break;
      case 'key_state': {
        const needs =
          t === 'action'
            ? f['kind'] === 'identity-rotation' ||
              (f['kind'] === 'validator-admission' &&
                typeof f['subject'] === 'string' &&
                !isDidKey(f['subject']))
            : !isDidKey(f['issuer'] as string);
        if (present !== needs)
          bad(
            `key_state is ${needs ? 'required' : 'not allowed'} here (it names the key state of a did:cs)`,
          );
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
        if (t === 'action' && present !== (f['kind'] === 'protocol-upgrade'))
          bad('protocol_versions belongs to a protocol-upgrade action');
        if (present) f['protocolVersions'] = versionList(x);
        break;
      case 'trust_policy':
        if (t === 'action' && present !== (f['kind'] === 'policy-change'))
          bad('trust_policy belongs to a policy-change action');
        if (present) f['trustPolicy'] = trustPolicy(x);
        break;
    }
  }
  const signatures = signatureList(map['signatures']);
  for (const key of Object.keys(map))
    if (!KNOWN_FIELDS.has(key)) bad(`unknown field ${JSON.stringify(key)}`);
  const record = {
    v: 1,
    type: t,
    ...f,
    signatures: signatures.list,
  } as unknown as GovernanceRecord;
  return { record, signerKeys: signatures.keys };
}
