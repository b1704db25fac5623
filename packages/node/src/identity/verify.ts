/**
 * Signature verification of key events through the crypto core, every signature of a whole
 * batch in one `ed25519VerifyBatch` call (ZIP-215, the rule of every backend). As for events,
 * one signature that does not verify makes the key event invalid (`ERR_BAD_SIGNATURE`); which
 * signers count toward a threshold is decided later, against the key state (`kel.ts`).
 *
 * Only this module creates a {@link VerifiedKeyEvent}, so a key event whose signatures were not
 * checked cannot reach a key event log by accident.
 */
import type { Core } from '@commons-sync/bindings';

import { Reason } from '../protocol/reasons.js';
import { type DecodedKeyEvent, keyEventSignatureChecks } from './key-event.js';
import { type KelResult, kelAccept, kelReject } from './reasons.js';

declare const verifiedKeyEvent: unique symbol;

/** A decoded key event whose every signature verified. */
export type VerifiedKeyEvent = DecodedKeyEvent & { readonly [verifiedKeyEvent]: true };

/** What verification needs from a `Core`. */
export type BatchVerifier = Pick<Core, 'ed25519VerifyBatch'>;

/** Verifies all signatures of all key events in one batch; one result per key event, in order. */
export function verifyKeyEvents(
  core: BatchVerifier,
  events: readonly DecodedKeyEvent[],
): KelResult<VerifiedKeyEvent>[] {
  const checks = events.flatMap((e) => keyEventSignatureChecks(e));
  const verdicts = checks.length === 0 ? [] : core.ed25519VerifyBatch(checks);
  let at = 0;
  return events.map((e) => {
    const n = e.event.signatures.length;
    const own = verdicts.slice(at, at + n);
    at += n;
    const bad = own.indexOf(false);
    if (bad >= 0) {
      return kelReject(
        Reason.BAD_SIGNATURE,
        `signature ${bad} (${e.event.signatures[bad]?.signer}) does not verify`,
      );
    }
    return kelAccept(e as VerifiedKeyEvent);
  });
}

/** {@link verifyKeyEvents} for one key event. */
export function verifyKeyEvent(
  core: BatchVerifier,
  event: DecodedKeyEvent,
): KelResult<VerifiedKeyEvent> {
  return verifyKeyEvents(core, [event])[0] as KelResult<VerifiedKeyEvent>;
}
