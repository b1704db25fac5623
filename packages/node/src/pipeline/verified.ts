/**
 * Where a `VerifiedEvent` (protocol/verified-event.ts) is made: the pipeline brands an event
 * once every rule has passed, and nothing else does (a test checks that no other module calls
 * `brandVerified`).
 */
import type { VerifiedEvent, VerifiedEventFields } from '../protocol/index.js';

/**
 * Brands an event as verified: a new frozen object with exactly the fields of a
 * `VerifiedEvent`, taken one by one from `event` (a rest pattern or a spread per event cost
 * more in the main thread's profile). Called only by the validation pipeline once every rule
 * has passed.
 * @internal
 */
export function brandVerified(
  event: Omit<VerifiedEventFields, 'idHex'>,
  idHex: string,
): VerifiedEvent {
  const fields: VerifiedEventFields = {
    id: event.id,
    idHex,
    author: event.author,
    kind: event.kind,
    nonce: event.nonce,
    createdAt: event.createdAt,
    expiresAt: event.expiresAt,
    encoded: event.encoded,
  };
  return Object.freeze(fields) as VerifiedEvent;
}
