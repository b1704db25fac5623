/**
 * The reason codes of key event logs (spec/IDENTITY.md §9). Key events reuse the codes of the
 * event protocol for what is shared (CBOR profile, version, fields, did:key, signatures, the
 * clock); every rule that only identities have gets an `ERR_KEL_...` code of its own. Codes are
 * stable: a released code never changes meaning.
 */
import { CommonsSyncError } from '../errors.js';
import { AcceptedResult, Reason, type ReasonCode, RejectedResult } from '../protocol/reasons.js';

export const KelReason = {
  /** Inception with `seq` other than 0, another type with `seq` 0, or `seq` not one above its prior. */
  BAD_SEQ: 'ERR_KEL_BAD_SEQ',
  /** `revoked_from` after `created_at`, or more than the revocation reach before it. */
  REVOCATION_RANGE: 'ERR_KEL_REVOCATION_RANGE',
  /** An establishment event dated before the key state it replaces took effect. */
  TIME_ORDER: 'ERR_KEL_TIME_ORDER',
  /** A rotation or revocation whose keys and threshold are not the ones its prior committed to. */
  NEXT_MISMATCH: 'ERR_KEL_NEXT_MISMATCH',
  /** Fewer distinct keys of the required set signed than its threshold asks. */
  THRESHOLD_NOT_MET: 'ERR_KEL_THRESHOLD_NOT_MET',
  /** A recovery of a key state that names no guardians. */
  NO_GUARDIANS: 'ERR_KEL_NO_GUARDIANS',
  /** A veto whose target is a key event of the identity that is not a recovery. */
  BAD_TARGET: 'ERR_KEL_BAD_TARGET',
  /** A veto dated outside [recovery created_at, recovery created_at + recovery delay). */
  VETO_WINDOW: 'ERR_KEL_VETO_WINDOW',
  /** A local resource bound (escrow, candidates per position, events per identity): not stored. */
  LIMIT: 'ERR_KEL_LIMIT',
  /** Local, not final: no inception of this identity is held. */
  UNKNOWN_IDENTITY: 'ERR_KEL_UNKNOWN_IDENTITY',
  /** Local, not final: the key state the event names is not held (or not attached) here. */
  UNKNOWN_KEY_STATE: 'ERR_KEL_UNKNOWN_KEY_STATE',
  /** The key state the event names lost its position (duplicity, superseded, vetoed, orphaned). */
  SUPERSEDED_KEY_STATE: 'ERR_KEL_SUPERSEDED_KEY_STATE',
  /** `created_at` before the named key state took effect. */
  BEFORE_KEY_STATE: 'ERR_KEL_BEFORE_KEY_STATE',
  /** `created_at` at or after the time a rotation or recovery retired the named key state. */
  KEY_ROTATED: 'ERR_KEL_KEY_ROTATED',
  /** `created_at` at or after `revoked_from` of the revocation (or recovery) that retired it. */
  KEY_REVOKED: 'ERR_KEL_KEY_REVOKED',
  /** `created_at` at or after the identity froze on unresolved duplicity. */
  IDENTITY_FROZEN: 'ERR_KEL_IDENTITY_FROZEN',
} as const;

export type KelReasonCode = (typeof KelReason)[keyof typeof KelReason];

/** Every KEL code, in the order of spec/IDENTITY.md §9. */
export const KEL_REASON_CODES: readonly KelReasonCode[] = Object.freeze(Object.values(KelReason));

/** Codes that depend on what this node holds or on its resources: never a final verdict. */
export const LOCAL_KEL_REASONS: ReadonlySet<string> = new Set<string>([
  KelReason.LIMIT,
  KelReason.UNKNOWN_IDENTITY,
  KelReason.UNKNOWN_KEY_STATE,
  Reason.NOT_YET_VALID,
]);

/** Any code a key event or an identity verdict can carry. */
export type IdentityReasonCode = KelReasonCode | ReasonCode;

export interface KelRejection {
  readonly ok: false;
  readonly reason: IdentityReasonCode;
  readonly detail: string;
}

export interface KelAccepted<T> {
  readonly ok: true;
  readonly value: T;
}

export type KelResult<T> = KelAccepted<T> | KelRejection;
export type KelCheck = { readonly ok: true } | KelRejection;

export const KEL_OK: { readonly ok: true } = Object.freeze({ ok: true });

// (constructed, not literals: see protocol/reasons.ts)
export function kelReject(reason: IdentityReasonCode, detail: string): KelRejection {
  return new RejectedResult(reason, detail);
}

export function kelAccept<T>(value: T): KelAccepted<T> {
  return new AcceptedResult(value);
}

export function isKelReasonCode(value: unknown): value is KelReasonCode {
  return typeof value === 'string' && (KEL_REASON_CODES as readonly string[]).includes(value);
}

/** The thrown form of a {@link KelRejection}, for callers that prefer exceptions (a CLI). */
export class IdentityError extends CommonsSyncError {
  declare readonly code: IdentityReasonCode;

  constructor(reason: IdentityReasonCode, detail: string) {
    super(reason, detail);
  }

  static from(rejection: KelRejection): IdentityError {
    return new IdentityError(rejection.reason, rejection.detail);
  }
}
