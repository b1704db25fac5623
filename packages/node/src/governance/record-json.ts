/**
 * The JSON form of a governance record (spec/GOVERNANCE.md §5.3): the same fields and values as
 * the CBOR form, with the byte strings (`prior`, `root`, `target`, `key_state` — at the top and
 * in member and validator entries — and each `signatures[i].sig`) as lowercase hex.
 *
 * The text is read by the project's one strict JSON reader (`readJsonPayload` of
 * protocol/json-reader.ts: UTF-8, RFC 8259 grammar, unique member names, numbers by exact
 * value, bounded work), from the bytes received; this module only turns hex members into bytes
 * by their position and hands the value to the schema shared with the CBOR form. A JSON record
 * is valid exactly when its CBOR encoding is.
 */
import { fromHex, toHex, utf8 } from '../protocol/bytes.js';
import { type CborMap, type CborValue, isCborMap } from '../protocol/cbor.js';
import type { Hasher } from '../protocol/event.js';
import { readJsonPayload } from '../protocol/json-reader.js';
import { Reason } from '../protocol/reasons.js';
import { GovReason, type GovResult, govReject } from './reasons.js';
import {
  CRITICAL_KINDS,
  type DecodedRecord,
  GOV_LIMITS,
  type GovernanceRecord,
  type PrincipalEntry,
  recordFromValue,
  type TrustPolicy,
} from './record.js';

export interface PrincipalEntryJson {
  id: string;
  key_state?: string;
}
export interface TrustPolicyJson {
  max_depth: number;
  min_paths: number;
}
/** The JSON form of any record type: the fields of its type are present, the others absent. */
export interface GovernanceRecordJson {
  v: number;
  type: string;
  version?: number;
  prior?: string;
  kind?: string;
  root?: string;
  issuer?: string;
  subject?: string;
  key_state?: string;
  scope?: string;
  target?: string;
  created_at: number;
  expires_at?: number;
  members?: PrincipalEntryJson[];
  thresholds?: Record<string, number>;
  validators?: PrincipalEntryJson[];
  protocol_versions?: number[];
  trust_policy?: TrustPolicyJson;
  signatures: Array<{ signer: string; sig: string }>;
}

const HEX_TOP: ReadonlySet<string> = new Set(['prior', 'root', 'target', 'key_state']);

class Stop {
  constructor(
    readonly reason: typeof Reason.MALFORMED | typeof GovReason.TOO_LARGE,
    readonly detail: string,
  ) {}
}

/** A hex member's value as bytes; a value that is not a string is left to the schema. */
function hex(value: CborValue | undefined, field: string): CborValue | undefined {
  if (typeof value !== 'string') return value;
  if (value.length > 2 * GOV_LIMITS.signatureBytes)
    throw new Stop(
      GovReason.TOO_LARGE,
      `${field}: hex for more than ${GOV_LIMITS.signatureBytes} bytes`,
    );
  const bytes = fromHex(value);
  if (bytes === null)
    throw new Stop(Reason.MALFORMED, `${field} must be lowercase hex of even length`);
  return bytes;
}

/** Replaces, in place, the hex members of each map entry of a list. */
function hexInEntries(list: CborValue | undefined, member: string, field: string): void {
  if (!Array.isArray(list)) return;
  list.forEach((entry, i) => {
    if (isCborMap(entry) && member in entry)
      entry[member] = hex(entry[member], `${field}[${i}].${member}`) as CborValue;
  });
}

/**
 * Reads the JSON text of one record from `bytes` and checks it as {@link decodeRecord} checks
 * CBOR (§7 steps 1–3). Never throws on content.
 */
export function readRecordJson(hasher: Hasher, bytes: Uint8Array): GovResult<DecodedRecord> {
  if (!(bytes instanceof Uint8Array))
    return govReject(Reason.MALFORMED, 'JSON text must be given as bytes');
  if (bytes.length > GOV_LIMITS.maxJsonBytes)
    return govReject(
      GovReason.TOO_LARGE,
      `a JSON text of more than ${GOV_LIMITS.maxJsonBytes} bytes`,
    );
  const read = readJsonPayload(bytes);
  if (!read.ok)
    return govReject(
      read.reason === Reason.TOO_LARGE ? GovReason.TOO_LARGE : read.reason,
      read.detail,
    );
  const value = read.value as CborValue;
  if (!isCborMap(value)) return govReject(Reason.MALFORMED, 'a governance record is a JSON object');
  try {
    for (const key of HEX_TOP) if (key in value) value[key] = hex(value[key], key) as CborValue;
    hexInEntries(value['members'], 'key_state', 'members');
    hexInEntries(value['validators'], 'key_state', 'validators');
    hexInEntries(value['signatures'], 'sig', 'signatures');
  } catch (error) {
    if (error instanceof Stop) return govReject(error.reason, error.detail);
    throw error;
  }
  return recordFromValue(hasher, value as CborMap);
}

/** {@link readRecordJson} for a string (its UTF-8 bytes). */
export function readRecordJsonText(hasher: Hasher, text: string): GovResult<DecodedRecord> {
  if (typeof text !== 'string') return govReject(Reason.MALFORMED, 'JSON text must be a string');
  return readRecordJson(hasher, utf8(text));
}

const entryJson = (e: PrincipalEntry): PrincipalEntryJson =>
  e.keyState === undefined ? { id: e.id } : { id: e.id, key_state: toHex(e.keyState) };
const policyJson = (p: TrustPolicy): TrustPolicyJson => ({
  max_depth: p.maxDepth,
  min_paths: p.minPaths,
});

/** The JSON form of a record (fields in the order of the spec's table). */
export function recordToJson(record: GovernanceRecord): GovernanceRecordJson {
  const signatures = record.signatures.map((s) => ({ signer: s.signer, sig: toHex(s.sig) }));
  const r = record;
  switch (r.type) {
    case 'root':
      return {
        v: r.v,
        type: r.type,
        version: r.version,
        ...(r.prior === undefined ? {} : { prior: toHex(r.prior) }),
        created_at: r.createdAt,
        expires_at: r.expiresAt,
        members: r.members.map(entryJson),
        thresholds: Object.fromEntries(CRITICAL_KINDS.map((k) => [k, r.thresholds[k]])),
        validators: r.validators.map(entryJson),
        protocol_versions: [...r.protocolVersions],
        trust_policy: policyJson(r.trustPolicy),
        signatures,
      };
    case 'action':
      return {
        v: r.v,
        type: r.type,
        kind: r.kind,
        root: toHex(r.root),
        ...(r.subject === undefined ? {} : { subject: r.subject }),
        ...(r.keyState === undefined ? {} : { key_state: toHex(r.keyState) }),
        created_at: r.createdAt,
        ...(r.protocolVersions === undefined ? {} : { protocol_versions: [...r.protocolVersions] }),
        ...(r.trustPolicy === undefined ? {} : { trust_policy: policyJson(r.trustPolicy) }),
        signatures,
      };
    case 'attestation':
      return {
        v: r.v,
        type: r.type,
        issuer: r.issuer,
        subject: r.subject,
        ...(r.keyState === undefined ? {} : { key_state: toHex(r.keyState) }),
        scope: r.scope,
        created_at: r.createdAt,
        expires_at: r.expiresAt,
        signatures,
      };
    case 'attestation-revocation':
      return {
        v: r.v,
        type: r.type,
        issuer: r.issuer,
        ...(r.keyState === undefined ? {} : { key_state: toHex(r.keyState) }),
        target: toHex(r.target),
        created_at: r.createdAt,
        signatures,
      };
  }
}
