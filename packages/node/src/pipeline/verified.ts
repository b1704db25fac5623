/**
 * Where a `VerifiedEvent` (protocol/verified-event.ts) is made: the pipeline brands an event
 * once every rule has passed, and nothing else does (a test checks that no other module calls
 * `brandVerified`).
 */
import type { VerifiedEvent, VerifiedEventFields } from '../protocol/index.js';

/**
 * Brands an event as verified: freezes `fields`, which the caller gives up (a fresh object,
 * not copied again: one copy per accepted event less). Called only by the validation
 * pipeline once every rule has passed.
 * @internal
 */
export function brandVerified(fields: VerifiedEventFields): VerifiedEvent {
  return Object.freeze(fields) as VerifiedEvent;
}
