/**
 * Order independence through a whole node (spec/IDENTITY.md §8, §10): random families of key
 * events and a grid of ordinary events authored under their key states, interleaved at random
 * (key events before their inception, events before their key events, repeats) and delivered
 * to fresh nodes through NodeService in batches of random size. Every node ends with the
 * identity state that `resolveIdentity` gives the set, and the same verdict on every event as
 * the verdict against that state: valid events stored and valid, the others refused or stored
 * as invalidated evidence with the code the state gives.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

import { InvalidatedEventError } from '../src/errors.js';
import {
  checkIdentityAuthor,
  type EstablishmentBody,
  identityStateToJson,
  keyEventToJson,
  resolveIdentity,
  type VerifiedKeyEvent,
} from '../src/identity/index.js';
import { batchOfValues, readEventJson, toHex } from '../src/protocol/index.js';
import { allKeys, deliveryArb, familyArb, HOUR, order } from './identity-families.js';
import { core, DAY, T0 } from './identity-fixtures.js';
import { type IdentityNode, identityEvent, startIdentityNode } from './identity-node-fixtures.js';

const NOW = T0 + 3 * DAY;

interface OrdinaryEvent {
  readonly json: Record<string, unknown>;
  readonly author: string;
  readonly createdAt: number;
  readonly keyState: string;
  readonly signers: readonly string[];
}

/** A grid of events: each key state's own keys, at times around its start. */
function grid(events: readonly VerifiedKeyEvent[]): OrdinaryEvent[] {
  const out: OrdinaryEvent[] = [];
  const seen = new Set<string>();
  for (const e of events) {
    if (e.event.type === 'veto' || seen.has(e.idHex)) continue;
    seen.add(e.idHex);
    const body = e.event as EstablishmentBody;
    const keys = body.keys.map((did) => allKeys.find((k) => k.did === did)!);
    for (const dt of [-1, 0, 2, 5]) {
      const createdAt = body.createdAt + dt * HOUR;
      out.push({
        json: identityEvent(e, createdAt, keys, { expiresAt: NOW + DAY, label: `grid/${dt}` }),
        author: e.identity,
        createdAt,
        keyState: e.idHex,
        signers: body.keys,
      });
    }
  }
  return out;
}

type Item = { key: VerifiedKeyEvent } | { event: OrdinaryEvent };

/** Delivers the items in order, consecutive ones of a kind in batches of `sizes[i]`. */
async function deliver(node: IdentityNode, items: readonly Item[], sizes: readonly number[]) {
  let at = 0;
  let b = 0;
  while (at < items.length) {
    const isKey = 'key' in (items[at] as Item);
    const size = Math.max(1, sizes[b++ % Math.max(1, sizes.length)] ?? 1);
    const batch: Item[] = [];
    while (at < items.length && batch.length < size && 'key' in (items[at] as Item) === isKey)
      batch.push(items[at++] as Item);
    if (isKey) {
      await node.node.identities.ingestKeyEvents(
        batchOfValues(batch.map((i) => keyEventToJson((i as { key: VerifiedKeyEvent }).key.event))),
      );
    } else {
      await node.node.ingest(
        batchOfValues(batch.map((i) => (i as { event: OrdinaryEvent }).event.json)),
      );
    }
  }
}

/** The id of an ordinary event, from its JSON form. */
function eventIdOf(e: OrdinaryEvent): string {
  const r = readEventJson(new TextEncoder().encode(JSON.stringify(e.json)));
  if (!r.ok) throw new Error(r.detail);
  return toHex(core.sha256(r.value.body));
}

/** What the node says of each event now: `valid`, the code it was invalidated with, or `refused`. */
function observed(node: IdentityNode, events: readonly OrdinaryEvent[]): string[] {
  return events.map((e) => {
    try {
      return node.node.getEvent(eventIdOf(e)) === undefined ? 'refused' : 'valid';
    } catch (error) {
      if (!(error instanceof InvalidatedEventError)) throw error;
      return error.reason;
    }
  });
}

const nodes: IdentityNode[] = [];
afterAll(() => {
  for (const n of nodes) n.remove();
});

describe('order independence through the node', () => {
  it('random interleavings of the same key events and events give the same stored verdicts and identity state', async () => {
    await fc.assert(
      fc.asyncProperty(
        familyArb.chain((keyEvents) => {
          const events = grid(keyEvents);
          const n = keyEvents.length + events.length;
          return fc.tuple(
            fc.constant(keyEvents),
            fc.constant(events),
            deliveryArb(n),
            deliveryArb(n),
            fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 6 }),
          );
        }),
        async ([keyEvents, events, first, second, sizes]) => {
          const did = (keyEvents[0] as VerifiedKeyEvent).identity;
          const reference = resolveIdentity(core, did, keyEvents);
          expect(reference).toBeDefined();
          const expected = events.map((e) => {
            const v = checkIdentityAuthor(reference, e);
            return v.ok ? 'valid' : v.reason;
          });
          const items: Item[] = [
            ...keyEvents.map((key) => ({ key })),
            ...events.map((event) => ({ event })),
          ];
          const outcomes: string[][] = [];
          for (const delivery of [first, second]) {
            const node = await startIdentityNode(NOW, { workers: 0, http: false });
            nodes.push(node);
            try {
              await deliver(node, order(items, delivery), sizes);
              const state = node.node.identities.identity(did);
              expect(state?.state).toEqual(identityStateToJson(reference!));
              const got = observed(node, events);
              got.forEach((g, i) => {
                const want = expected[i] as string;
                if (want === 'valid') expect(g, `event ${i}`).toBe('valid');
                else expect(['refused', want], `event ${i}: ${want}`).toContain(g);
              });

              outcomes.push(got.map((g) => (g === 'valid' ? g : 'not valid')));
            } finally {
              await node.close();
            }
          }
          expect(outcomes[1]).toEqual(outcomes[0]);
        },
      ),
      { numRuns: 12 },
    );
  });
});
