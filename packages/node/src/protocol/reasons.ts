/**
 * The stable reason codes of the protocol (spec/PROTOCOL.md §7). A rejected event carries
 * exactly one code: the first rule it breaks, in the order of the spec. Codes never change
 * meaning once released; messages (`detail`) are for people and may change.
 */
import { CommonsSyncError } from '../errors.js';

export const Reason = {
  /** Not a value of the encoding profile: bad CBOR, not canonical, float, tag, bad UTF-8, bad hex. */
  MALFORMED: 'ERR_MALFORMED',
  /** A size limit of §6 exceeded (event bytes, text, byte string, entries, signers, signatures, kind). */
  TOO_LARGE: 'ERR_TOO_LARGE',
  /** Containers nested deeper than the limit (payload depth 16). */
  TOO_DEEP: 'ERR_TOO_DEEP',
  /** `v` is an unsigned integer other than 1. */
  UNSUPPORTED_VERSION: 'ERR_UNSUPPORTED_VERSION',
  /** A field is missing, unknown, of the wrong type, or out of its range. */
  BAD_FIELD: 'ERR_BAD_FIELD',
  /** `author` or a signer is not a strict Ed25519 did:key with an acceptable key. */
  BAD_DID: 'ERR_BAD_DID',
  /** `now >= expires_at`. */
  EXPIRED: 'ERR_EXPIRED',
  /** `created_at > now + clock skew`. */
  NOT_YET_VALID: 'ERR_NOT_YET_VALID',
  /** `expires_at - created_at` above the maximum lifetime. */
  LIFETIME_TOO_LONG: 'ERR_LIFETIME_TOO_LONG',
  /** Another event with the same author and nonce was already accepted. */
  REPLAY: 'ERR_REPLAY',
  /** At least one signature does not verify (ZIP-215). */
  BAD_SIGNATURE: 'ERR_BAD_SIGNATURE',
  /** Fewer than `threshold` distinct keys of `signers` signed. */
  THRESHOLD_NOT_MET: 'ERR_THRESHOLD_NOT_MET',
  /** The threshold is met but the author did not sign. */
  MISSING_AUTHOR_SIGNATURE: 'ERR_MISSING_AUTHOR_SIGNATURE',
  /** Allow-list mode and the author is not in the trusted set. */
  UNTRUSTED_AUTHOR: 'ERR_UNTRUSTED_AUTHOR',
} as const;

export type ReasonCode = (typeof Reason)[keyof typeof Reason];

/** Every reason code, in the order the rules are applied. */
export const REASON_CODES: readonly ReasonCode[] = Object.freeze(Object.values(Reason));

/** The validation stage that produces each code (for metrics and logs). */
export type Stage =
  | 'decode'
  | 'version'
  | 'schema'
  | 'time'
  | 'replay'
  | 'signature'
  | 'policy'
  | 'trust';

export const REASON_STAGE: Readonly<Record<ReasonCode, Stage>> = Object.freeze({
  ERR_MALFORMED: 'decode',
  ERR_TOO_LARGE: 'decode',
  ERR_TOO_DEEP: 'decode',
  ERR_UNSUPPORTED_VERSION: 'version',
  ERR_BAD_FIELD: 'schema',
  ERR_BAD_DID: 'schema',
  ERR_EXPIRED: 'time',
  ERR_NOT_YET_VALID: 'time',
  ERR_LIFETIME_TOO_LONG: 'time',
  ERR_REPLAY: 'replay',
  ERR_BAD_SIGNATURE: 'signature',
  ERR_THRESHOLD_NOT_MET: 'policy',
  ERR_MISSING_AUTHOR_SIGNATURE: 'policy',
  ERR_UNTRUSTED_AUTHOR: 'trust',
});

/** Outcomes that are not errors: a new valid event, or the id of one already accepted. */
export const Outcome = { ACCEPTED: 'accepted', DUPLICATE: 'duplicate' } as const;
export type OutcomeCode = (typeof Outcome)[keyof typeof Outcome];

export function isReasonCode(value: unknown): value is ReasonCode {
  return typeof value === 'string' && (REASON_CODES as readonly string[]).includes(value);
}

/** A typed rejection: the input broke the rule named by `reason`. */
export interface Rejection {
  readonly ok: false;
  readonly reason: ReasonCode;
  readonly detail: string;
}

export interface Accepted<T> {
  readonly ok: true;
  readonly value: T;
}

/** The result of every input-dependent protocol function: a value or a typed rejection. */
export type Result<T> = Accepted<T> | Rejection;

/** The result of a rule that only passes or rejects. */
export type Check = { readonly ok: true } | Rejection;
export const OK: { readonly ok: true } = Object.freeze({ ok: true });

/*
 * Results are made by constructors, not object literals. V8 follows each literal's allocation
 * site, and allocates all of a site's objects in the old generation once the ones it sampled
 * at a scavenge had all survived ("pretenuring"). `accept` makes results that are kept (the
 * caches of parsed dids, filled in bursts) and the result of every event read (dropped at
 * once): in some processes, not others, its site was pretenured, and from then on every
 * event's result went to the old generation. Reading an event then cost ~40% more (a one-thread
 * loop over the reader: 3.7 -> 5.1 µs, most of it full collections, 35 instead of 2 in 2
 * million events). A class's instances have no allocation site. (Their fields are `declare`d,
 * so that no field initializer runs before the constructor's assignments.)
 */

/** An {@link Accepted} (or a `KelAccepted`, identity/reasons.ts). @internal */
export class AcceptedResult<T> implements Accepted<T> {
  declare readonly ok: true;
  declare readonly value: T;
  constructor(value: T) {
    this.ok = true;
    this.value = value;
  }
}

/** A {@link Rejection} (or a `KelRejection`, whose codes are wider). @internal */
export class RejectedResult<R extends string> {
  declare readonly ok: false;
  declare readonly reason: R;
  declare readonly detail: string;
  constructor(reason: R, detail: string) {
    this.ok = false;
    this.reason = reason;
    this.detail = detail;
  }
}

export function reject(reason: ReasonCode, detail: string): Rejection {
  return new RejectedResult(reason, detail);
}

export function accept<T>(value: T): Accepted<T> {
  return new AcceptedResult(value);
}

/** The thrown form of a rejection, for callers that prefer exceptions (the CLI). */
export class ProtocolError extends CommonsSyncError {
  declare readonly code: ReasonCode;

  constructor(reason: ReasonCode, detail: string) {
    super(reason, detail);
  }

  static from(rejection: Rejection): ProtocolError {
    return new ProtocolError(rejection.reason, rejection.detail);
  }
}
