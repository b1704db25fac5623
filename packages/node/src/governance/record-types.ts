/**
 * Governance records (spec/GOVERNANCE.md §3–§4): the record types, their fields as the code
 * sees them, and the limits. Shared by the schema (record-schema.ts) and the encodings
 * (record.ts); no logic here.
 */
import type { CborLimits } from '../protocol/cbor.js';
import type { EventSignature } from '../protocol/event.js';

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

export const RECORD_TYPES = Object.freeze([
  'root',
  'action',
  'attestation',
  'attestation-revocation',
] as const);
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
