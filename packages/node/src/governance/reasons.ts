/**
 * The reason codes of governance (spec/GOVERNANCE.md §10). Governance records reuse the codes of
 * the event protocol for what is shared (CBOR profile, version, fields, DIDs, signatures, the
 * clock); every rule that only governance has gets an `ERR_GOV_...` or `ERR_TRUST_...` code of its
 * own, and each attack class of TUF that applies here is refused with a code of its own. Codes
 * are stable: a released code never changes meaning.
 */
import { CommonsSyncError } from '../errors.js';
import type { IdentityReasonCode } from '../identity/reasons.js';
import { AcceptedResult, Reason, RejectedResult } from '../protocol/reasons.js';

export const GovReason = {
  /** Endless data: a record, a JSON text, a string or a list over its limit (§4). */
  TOO_LARGE: 'ERR_GOV_TOO_LARGE',
  /** Rollback: a root whose version is not above the anchor's, or not above its prior's. */
  ROLLBACK: 'ERR_GOV_ROLLBACK',
  /** A root whose version skips ahead of its prior's + 1. */
  VERSION_GAP: 'ERR_GOV_VERSION_GAP',
  /**
   * Mix-and-match: documents that never existed together — a signature made over the document
   * this one names (its prior root, its root, its target) instead of over this one; a record
   * dated before the root it names; a root that names no prior where one must follow the anchor.
   */
  MIX_AND_MATCH: 'ERR_GOV_MIX_AND_MATCH',
  /** Fewer distinct members satisfied than the threshold, with no other explanation below. */
  THRESHOLD_NOT_MET: 'ERR_GOV_THRESHOLD_NOT_MET',
  /** The threshold is met only if a key that signed more than once were counted more than once. */
  DUPLICATE_SIGNATURE: 'ERR_GOV_DUPLICATE_SIGNATURE',
  /** Arbitrary key: the threshold is met only if keys outside the root's members were counted. */
  UNTRUSTED_KEY: 'ERR_GOV_UNTRUSTED_KEY',
  /** Freeze: an action dated at or after the expiry of the root it names. */
  ROOT_EXPIRED: 'ERR_GOV_ROOT_EXPIRED',
  /** An action that names a root on the chain that a later root superseded. */
  STALE_ROOT: 'ERR_GOV_STALE_ROOT',
  /** An action that names a root at or beyond a fork (two valid successors of one root). */
  ROOT_FORKED: 'ERR_GOV_ROOT_FORKED',
  /** Local, not final: the root (or prior root) a record names is not held here. */
  UNKNOWN_ROOT: 'ERR_GOV_UNKNOWN_ROOT',
  /** Local, not final: a member that could complete the threshold is a did:cs whose key state is not held. */
  UNKNOWN_IDENTITY: 'ERR_GOV_UNKNOWN_IDENTITY',
  /** Local, not final: a resource bound of this node (held records, escrow, copies). */
  LIMIT: 'ERR_GOV_LIMIT',
  /** This node runs in open mode: it has no trust root, so it takes no roots or actions. */
  NO_ROOT: 'ERR_GOV_NO_ROOT',
} as const;

export const TrustReason = {
  /** The issuer of an attestation (or revocation) did not sign it under the key state it names. */
  ISSUER_NOT_SIGNED: 'ERR_TRUST_ISSUER_NOT_SIGNED',
  /** A revocation by someone other than the issuer of the attestation it targets. */
  NOT_ISSUER: 'ERR_TRUST_NOT_ISSUER',
  /** Local, not final: the attestation a revocation targets is not held here. */
  UNKNOWN_ATTESTATION: 'ERR_TRUST_UNKNOWN_ATTESTATION',
  /** The author is not reachable from the root's set within the policy's depth. */
  NO_PATH: 'ERR_TRUST_NO_PATH',
  /** The author is reachable, but over fewer independent paths than the policy asks. */
  TOO_FEW_PATHS: 'ERR_TRUST_TOO_FEW_PATHS',
  /** The author's identity was revoked by a critical action of the root in force. */
  REVOKED: 'ERR_TRUST_REVOKED',
  /** The trust graph within the policy's depth exceeds the per-query bound (§8.4). */
  LIMIT: 'ERR_TRUST_LIMIT',
} as const;

export type GovReasonCode = (typeof GovReason)[keyof typeof GovReason];
export type TrustReasonCode = (typeof TrustReason)[keyof typeof TrustReason];

/** Every governance and trust code, in the order of spec/GOVERNANCE.md §10. */
export const GOV_REASON_CODES: readonly GovReasonCode[] = Object.freeze(Object.values(GovReason));
export const TRUST_REASON_CODES: readonly TrustReasonCode[] = Object.freeze(
  Object.values(TrustReason),
);

/** Codes that depend on what this node holds, its clock or its resources: never final. */
export const LOCAL_GOV_REASONS: ReadonlySet<string> = new Set<string>([
  GovReason.UNKNOWN_ROOT,
  GovReason.UNKNOWN_IDENTITY,
  GovReason.LIMIT,
  GovReason.NO_ROOT,
  TrustReason.UNKNOWN_ATTESTATION,
  Reason.NOT_YET_VALID,
]);

/** Any code a governance record or a trust verdict can carry (identity codes for did:cs issuers). */
export type GovernanceReasonCode = GovReasonCode | TrustReasonCode | IdentityReasonCode;

export interface GovRejection {
  readonly ok: false;
  readonly reason: GovernanceReasonCode;
  readonly detail: string;
}

export interface GovAccepted<T> {
  readonly ok: true;
  readonly value: T;
}

export type GovResult<T> = GovAccepted<T> | GovRejection;
export type GovCheck = { readonly ok: true } | GovRejection;

export const GOV_OK: { readonly ok: true } = Object.freeze({ ok: true });

// (constructed, not literals: see protocol/reasons.ts)
export function govReject(reason: GovernanceReasonCode, detail: string): GovRejection {
  return new RejectedResult(reason, detail);
}

export function govAccept<T>(value: T): GovAccepted<T> {
  return new AcceptedResult(value);
}

/** The thrown form of a {@link GovRejection}, for callers that prefer exceptions (a CLI). */
export class GovernanceError extends CommonsSyncError {
  declare readonly code: GovernanceReasonCode;

  constructor(reason: GovernanceReasonCode, detail: string) {
    super(reason, detail);
  }

  static from(rejection: GovRejection): GovernanceError {
    return new GovernanceError(rejection.reason, rejection.detail);
  }
}
