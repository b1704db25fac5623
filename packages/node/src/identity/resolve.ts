/**
 * `resolve(set of key events) → identity state`, the definition (spec/IDENTITY.md §7): attach
 * every event whose referenced event is attached and whose rules pass, until nothing more
 * joins, then resolve the chain. It takes a set and has no notion of arrival order; the
 * incremental {@link KeyEventLog} must always agree with it (test/identity-order.test.ts).
 * Unlike the log it has no resource bounds: it is the reference, not the hot path.
 */

import { toHex } from '../protocol/bytes.js';
import type { Hasher } from '../protocol/event.js';
import {
  type AttachedEstablishment,
  checkInception,
  checkSuccessor,
  checkVeto,
  referenceOf,
  startOf,
} from './attach.js';
import { type IdentityState, resolveChain } from './chain.js';
import { type EstablishmentBody, isEstablishment } from './key-event.js';
import { byIdThenSigners } from './log.js';
import type { VerifiedKeyEvent } from './verify.js';

/** The state of `identity` from a set of key events, or undefined when no valid inception is in it. */
export function resolveIdentity(
  hasher: Hasher,
  identity: string,
  events: Iterable<VerifiedKeyEvent>,
): IdentityState | undefined {
  // Copies of one key event (same id, other signatures) are judged each on its own: the event
  // joins when one of them passes. Tried in a fixed order so the stored copy is the same too.
  const copies = new Map<string, VerifiedKeyEvent[]>();
  for (const e of events)
    if (e.identity === identity) copies.set(e.idHex, [...(copies.get(e.idHex) ?? []), e]);
  for (const list of copies.values()) list.sort(byIdThenSigners);
  const inceptionEvent = [...copies.values()]
    .flat()
    .find((e) => e.event.type === 'inception' && checkInception(e).ok);
  if (inceptionEvent === undefined) return undefined;
  const inceptionBody = inceptionEvent.event as EstablishmentBody;
  const inception: AttachedEstablishment = {
    event: inceptionEvent,
    body: inceptionBody,
    start: startOf(inceptionBody, null),
  };

  const establishments = new Map<string, AttachedEstablishment>([
    [inceptionEvent.idHex, inception],
  ]);
  const children = new Map<string, string[]>();
  const vetoes = new Map<string, string[]>();
  let vetoCount = 0;
  const pending = new Set([...copies.keys()].filter((id) => id !== inceptionEvent.idHex));
  for (let progress = true; progress; ) {
    progress = false;
    for (const id of pending) {
      const list = copies.get(id) as VerifiedKeyEvent[];
      const ref = referenceOf(list[0] as VerifiedKeyEvent);
      const referenced = ref === null ? undefined : establishments.get(ref);
      if (ref === null || referenced === undefined) continue; // a second inception, or not (yet) attached
      pending.delete(id);
      progress = true;
      for (const e of list) {
        const body = e.event;
        if (isEstablishment(body)) {
          if (!checkSuccessor(hasher, e, referenced).ok) continue;
          establishments.set(e.idHex, { event: e, body, start: startOf(body, referenced) });
          children.set(ref, [...(children.get(ref) ?? []), e.idHex]);
        } else {
          const prior = referenced.body.prior;
          const targetPrior =
            prior === undefined ? null : (establishments.get(toHex(prior)) ?? null);
          if (!checkVeto(e, referenced, targetPrior).ok) continue;
          vetoes.set(ref, [...(vetoes.get(ref) ?? []), e.idHex]);
          vetoCount++;
        }
        break; // this copy joined
      }
    }
  }
  return resolveChain({
    identity,
    inception,
    establishments,
    children,
    vetoes,
    size: establishments.size + vetoCount,
  });
}
