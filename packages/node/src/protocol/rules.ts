/**
 * The pure validity rules of spec/PROTOCOL.md §7 that need neither storage nor cryptography
 * over a decoded event (the limits and the version check are limits.ts): the time window (with `now` passed in), replay classification from a
 * looked-up id, the M-of-N policy over signature verdicts computed elsewhere, and trust.
 */
import type { CommonsEvent, EventBody } from './event.js';
import { accept, type Check, OK, Reason, type Rejection, reject } from './reasons.js';

/** Node settings of the time rules; every node of a network should use the same values. */
export interface TimeRules {
  /** How far in the future `created_at` may be, in seconds. */
  readonly clockSkewSeconds: number;
  /** Largest `expires_at - created_at`, in seconds; also bounds how long replay records live. */
  readonly maxLifetimeSeconds: number;
}

export const DEFAULT_TIME_RULES: TimeRules = Object.freeze({
  clockSkewSeconds: 300,
  maxLifetimeSeconds: 7 * 24 * 60 * 60,
});

/**
 * §7 step 4, in order: expired (`now >= expires_at`), not yet valid
 * (`created_at > now + skew`), lifetime too long (`expires_at - created_at > max`).
 * `now` is integer Unix seconds.
 */
export function checkTime(
  event: Pick<EventBody, 'createdAt' | 'expiresAt'>,
  now: number,
  rules: TimeRules = DEFAULT_TIME_RULES,
): Check {
  if (now >= event.expiresAt) {
    return reject(Reason.EXPIRED, `expired at ${event.expiresAt}, now ${now}`);
  }
  if (event.createdAt > now + rules.clockSkewSeconds) {
    return reject(
      Reason.NOT_YET_VALID,
      `created_at ${event.createdAt} is more than ${rules.clockSkewSeconds}s after now ${now}`,
    );
  }
  const lifetime = event.expiresAt - event.createdAt;
  if (lifetime > rules.maxLifetimeSeconds) {
    return reject(
      Reason.LIFETIME_TOO_LONG,
      `lifetime ${lifetime}s exceeds ${rules.maxLifetimeSeconds}s`,
    );
  }
  return OK;
}

export type ReplayClass = 'new' | 'duplicate';

/**
 * §7 step 5. `previousId` is the id already accepted for this event's (author, nonce), if any:
 * none → new; the same id → duplicate (not an error); another id → ERR_REPLAY.
 */
export function classifyReplay(
  id: Uint8Array,
  previousId: Uint8Array | undefined,
): { readonly ok: true; readonly value: ReplayClass } | Rejection {
  if (previousId === undefined) return accept('new');
  if (previousId.length === id.length && previousId.every((b, i) => b === id[i])) {
    return accept('duplicate');
  }
  return reject(Reason.REPLAY, 'another event with this author and nonce was accepted');
}

/** Whether the author is an identity (did:cs) that names its key state (spec/IDENTITY.md §8). */
export function isIdentityAuthored(event: Pick<EventBody, 'keyState'>): boolean {
  return event.keyState !== undefined;
}

/** The signer set and threshold in force: the explicit policy, or 1-of-[author]. */
export function effectivePolicy(event: Pick<EventBody, 'author' | 'policy'>): {
  threshold: number;
  signers: readonly string[];
} {
  return event.policy ?? { threshold: 1, signers: [event.author] };
}

/**
 * §7 steps 6 and 7. `verdicts[i]` is whether `event.signatures[i]` verifies under ZIP-215.
 * Any false verdict rejects the event (ERR_BAD_SIGNATURE); then the distinct keys of the
 * signer set that signed must number at least the threshold (a key counts once however often
 * it signs; signers outside the set count zero); then the author must be among them.
 * For an author that is an identity (`keyState` present) step 7 is the identity verdict
 * (spec/IDENTITY.md §8: its key state's threshold of keys), which needs the identity's state:
 * this checks step 6 only and the caller runs that verdict where the state is.
 * Throws RangeError when `verdicts` does not match the signatures (a caller bug, not input).
 */
export function evaluatePolicy(
  event: Pick<CommonsEvent, 'author' | 'policy' | 'signatures' | 'keyState'>,
  verdicts: readonly boolean[],
): Check {
  const { signatures } = event;
  if (verdicts.length !== signatures.length) {
    throw new RangeError(`${verdicts.length} verdicts for ${signatures.length} signatures`);
  }
  for (let i = 0; i < verdicts.length; i++) {
    if (verdicts[i] !== true) {
      return reject(
        Reason.BAD_SIGNATURE,
        `signature ${i} (${signatures[i]?.signer}) does not verify`,
      );
    }
  }
  if (isIdentityAuthored(event)) return OK;
  if (event.policy === undefined) {
    // 1-of-[author], the usual case, without building its sets: the rule below gives OK when
    // the author signed, else 0 signers of the required 1
    for (const s of signatures) if (s.signer === event.author) return OK;
    return reject(Reason.THRESHOLD_NOT_MET, '0 of the required 1 signers signed');
  }
  const { threshold, signers } = effectivePolicy(event);
  const inSet = new Set(signers);
  const signed = new Set<string>();
  for (const s of signatures) if (inSet.has(s.signer)) signed.add(s.signer);
  if (signed.size < threshold) {
    return reject(
      Reason.THRESHOLD_NOT_MET,
      `${signed.size} of the required ${threshold} signers signed`,
    );
  }
  if (!signed.has(event.author)) {
    return reject(Reason.MISSING_AUTHOR_SIGNATURE, 'the author did not sign');
  }
  return OK;
}

/** Which authors a node accepts: anyone (`open`) or a configured set of DIDs (did:key or did:cs). */
export type TrustPolicy =
  | { readonly mode: 'open' }
  | { readonly mode: 'allowlist'; readonly authors: ReadonlySet<string> };

export const OPEN_TRUST: TrustPolicy = Object.freeze({ mode: 'open' });

/** §7 step 8. */
export function checkTrust(author: string, trust: TrustPolicy): Check {
  if (trust.mode === 'open' || trust.authors.has(author)) return OK;
  return reject(Reason.UNTRUSTED_AUTHOR, `author ${author} is not trusted`);
}
