/**
 * The contextual rules of key events (spec/IDENTITY.md §6 step 7): whether a verified key
 * event may join its identity's log, given the one event it refers to (its prior, or for a veto
 * its target and the target's prior). Each rule reads only events fixed by digest, so once the
 * referenced event is held the verdict is final and the same on every node, whatever the order.
 */
import { equalBytes, toHex } from '../protocol/bytes.js';
import type { Hasher } from '../protocol/event.js';
import {
  type EstablishmentBody,
  isEstablishment,
  nextCommitment,
  type VetoBody,
} from './key-event.js';
import { KEL_OK, type KelCheck, KelReason, kelReject } from './reasons.js';
import type { VerifiedKeyEvent } from './verify.js';

/** An establishment event that joined the log, with the time its keys take effect. */
export interface AttachedEstablishment {
  readonly event: VerifiedKeyEvent;
  readonly body: EstablishmentBody;
  /** `created_at`; for a recovery, `created_at` plus the recovered state's recovery delay. */
  readonly start: number;
}

/** A veto that joined the log. */
export interface AttachedVeto {
  readonly event: VerifiedKeyEvent;
  readonly body: VetoBody;
}

/** How many distinct keys of `required` signed (signatures all verified before this). */
export function countSigners(event: VerifiedKeyEvent, required: readonly string[]): number {
  const set = new Set(required);
  const signed = new Set<string>();
  for (const s of event.event.signatures) if (set.has(s.signer)) signed.add(s.signer);
  return signed.size;
}

function thresholdMet(
  event: VerifiedKeyEvent,
  keys: readonly string[],
  threshold: number,
  what: string,
): KelCheck {
  const n = countSigners(event, keys);
  if (n < threshold)
    return kelReject(
      KelReason.THRESHOLD_NOT_MET,
      `${n} of the required ${threshold} ${what} signed`,
    );
  return KEL_OK;
}

/** The inception: signed by its own threshold of its own keys. */
export function checkInception(event: VerifiedKeyEvent): KelCheck {
  const body = event.event as EstablishmentBody;
  return thresholdMet(event, body.keys, body.threshold, 'keys');
}

/**
 * A rotation, revocation or recovery against its prior `P` (the establishment event whose id is
 * its `prior`), in this order: sequence, time order, then by type the commitment and the new
 * keys' threshold (rotation, revocation) or the prior's guardians (recovery).
 */
export function checkSuccessor(
  hasher: Hasher,
  event: VerifiedKeyEvent,
  prior: AttachedEstablishment,
): KelCheck {
  const body = event.event as EstablishmentBody;
  const p = prior.body;
  if (body.seq !== p.seq + 1)
    return kelReject(KelReason.BAD_SEQ, `seq ${body.seq} follows seq ${p.seq}`);
  if (body.createdAt < prior.start) {
    return kelReject(
      KelReason.TIME_ORDER,
      `created_at ${body.createdAt} is before the prior key state took effect (${prior.start})`,
    );
  }
  if (body.type === 'recovery') {
    if (p.guardians.length === 0)
      return kelReject(KelReason.NO_GUARDIANS, 'the prior key state names no guardians');
    return thresholdMet(event, p.guardians, p.guardianThreshold, 'guardians');
  }
  if (!equalBytes(nextCommitment(hasher, body.keys, body.threshold), p.next)) {
    return kelReject(
      KelReason.NEXT_MISMATCH,
      'keys and threshold are not the ones the prior committed to',
    );
  }
  return thresholdMet(event, body.keys, body.threshold, 'new keys');
}

/** When the keys of an establishment event with this prior take effect. */
export function startOf(body: EstablishmentBody, prior: AttachedEstablishment | null): number {
  return body.type === 'recovery' && prior !== null
    ? body.createdAt + prior.body.recoveryDelay
    : body.createdAt;
}

/**
 * A veto against its target `T` and T's prior `P`: T must be a recovery; the veto is signed by
 * P's threshold of P's keys (the keys the recovery would replace) and dated inside the window
 * [T.created_at, T.created_at + P.recovery_delay).
 */
export function checkVeto(
  event: VerifiedKeyEvent,
  target: AttachedEstablishment | null,
  targetPrior: AttachedEstablishment | null,
): KelCheck {
  if (target === null || targetPrior === null || target.body.type !== 'recovery') {
    return kelReject(KelReason.BAD_TARGET, 'the target is not a recovery of this identity');
  }
  const p = targetPrior.body;
  const signed = thresholdMet(event, p.keys, p.threshold, 'keys of the recovered key state');
  if (!signed.ok) return signed;
  const t = event.event.createdAt;
  const from = target.body.createdAt;
  const until = from + p.recoveryDelay;
  if (t < from || t >= until) {
    return kelReject(
      KelReason.VETO_WINDOW,
      `created_at ${t} is outside the veto window [${from}, ${until})`,
    );
  }
  return KEL_OK;
}

/** The id (hex) a non-inception key event refers to: its prior, or a veto's target. */
export function referenceOf(event: VerifiedKeyEvent): string | null {
  const body = event.event;
  if (!isEstablishment(body)) return toHex(body.target);
  return body.prior === undefined ? null : toHex(body.prior);
}
