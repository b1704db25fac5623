/**
 * Order independence through a whole node (spec/GOVERNANCE.md §9): a random subset of governance
 * records (attestations, a revocation reaching back, critical actions, a root change) and a grid
 * of ordinary events by authors the records trust or not, interleaved at random (events before
 * the attestations that trust them, revocations before and after what they revoke, repeats) and
 * delivered to fresh nodes through NodeService in batches of random size. Every node ends with
 * the governed state the set gives (`Governance.load` of the set: the reference) and with every
 * event valid exactly when the reference trusts its author at its signed time for its kind; the
 * others refused, or stored as evidence and invalidated.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

import { InvalidatedEventError } from '../src/errors.js';
import {
  Governance,
  governanceViewToJson,
  NO_IDENTITIES,
  trustExplanationToJson,
  type VerifiedRecord,
} from '../src/governance/index.js';
import { batchOfValues, readEventJson, toHex } from '../src/protocol/index.js';
import {
  DAY,
  entries,
  rootBody,
  signed,
  T0,
  type TestKey,
  testKey,
  thresholds,
} from './governance-fixtures.js';
import { keyEvent, recordBytes } from './governance-node-fixtures.js';
import { deliveryArb, order } from './identity-families.js';
import { core } from './identity-fixtures.js';
import { type IdentityNode, startIdentityNode } from './identity-node-fixtures.js';

const NOW = T0 + 10 * DAY;
const HOUR = 3600;
const k = (name: string): TestKey => testKey(name);
const [alice, bob, dave, erin, frank, val2] = [
  'alice',
  'bob',
  'dave',
  'erin',
  'frank',
  'val-2',
].map(k) as TestKey[] as [TestKey, TestKey, TestKey, TestKey, TestKey, TestKey];

const anchor = signed(rootBody({ trustPolicy: { maxDepth: 3, minPaths: 1 } }), [alice, bob]);

const attest = (issuer: TestKey, subject: TestKey, scope: string, at: number) =>
  signed(
    {
      v: 1,
      type: 'attestation',
      issuer: issuer.did,
      subject: subject.did,
      scope,
      createdAt: at,
      expiresAt: NOW + 30 * DAY,
    },
    [issuer],
  );
const a1 = attest(alice, dave, '*', NOW - 10 * HOUR);
const a2 = attest(dave, erin, 'note', NOW - 5 * HOUR);
const a3 = attest(bob, frank, 'post', NOW - 3 * HOUR);
const action = (body: Record<string, unknown>, at: number) =>
  signed({ v: 1, type: 'action', root: anchor.id, createdAt: at, ...body } as never, [alice, bob]);

/** The pool of records a run draws from. */
const POOL: readonly VerifiedRecord[] = [
  a1,
  a2,
  a3,
  // alice withdraws her attestation of dave from 2 hours ago (reaching back)
  signed(
    {
      v: 1,
      type: 'attestation-revocation',
      issuer: alice.did,
      target: a1.id,
      createdAt: NOW - 2 * HOUR,
    },
    [alice],
  ),
  action({ kind: 'validator-admission', subject: val2.did }, T0 + DAY),
  action({ kind: 'validator-removal', subject: val2.did }, T0 + 2 * DAY),
  action({ kind: 'policy-change', trustPolicy: { maxDepth: 1, minPaths: 1 } }, T0 + 3 * DAY),
  // a root change that keeps the members but supersedes the actions under the anchor
  signed(
    rootBody({
      version: 2,
      prior: anchor,
      createdAt: T0 + 4 * DAY,
      members: entries('alice', 'bob', 'carol'),
      thresholds: thresholds(2),
      trustPolicy: { maxDepth: 2, minPaths: 1 },
    }),
    [alice, bob],
  ),
];

interface OrdinaryEvent {
  readonly json: Record<string, unknown>;
  readonly id: string;
  readonly author: string;
  readonly kind: string;
  readonly createdAt: number;
}

/** Each author, of each kind, at times before and after the records' times. */
const EVENTS: readonly OrdinaryEvent[] = [dave, erin, frank, val2, alice].flatMap((author) =>
  ['note', 'post'].flatMap((kind) =>
    [9, 4, 1].map((h) => {
      const json = keyEvent(author, NOW - h * HOUR, kind, `${author.name}/${kind}/${h}`);
      const read = readEventJson(new TextEncoder().encode(JSON.stringify(json)));
      if (!read.ok) throw new Error(read.detail);
      return {
        json,
        id: toHex(core.sha256(read.value.body)),
        author: author.did,
        kind,
        createdAt: NOW - h * HOUR,
      };
    }),
  ),
);

type Item = { record: VerifiedRecord } | { event: OrdinaryEvent };

async function deliver(node: IdentityNode, items: readonly Item[], sizes: readonly number[]) {
  let i = 0;
  let s = 0;
  while (i < items.length) {
    const item = items[i] as Item;
    if ('record' in item) {
      await node.node.governance.submit(recordBytes(item.record));
      i += 1;
      continue;
    }
    const batch: OrdinaryEvent[] = [];
    const size = sizes[s++ % sizes.length] as number;
    while (i < items.length && batch.length < size && 'event' in (items[i] as Item)) {
      batch.push((items[i] as { event: OrdinaryEvent }).event);
      i += 1;
    }
    await node.node.ingest(batchOfValues(batch.map((e) => e.json)));
  }
}

function observed(node: IdentityNode, e: OrdinaryEvent): 'valid' | 'invalid' | 'refused' {
  try {
    return node.node.getEvent(e.id) === undefined ? 'refused' : 'valid';
  } catch (error) {
    if (error instanceof InvalidatedEventError) return 'invalid';
    throw error;
  }
}

const nodes: IdentityNode[] = [];
afterAll(() => {
  for (const n of nodes) n.remove();
});

describe('order independence of governance through the node', () => {
  it('random interleavings of the same records and events give the same stored verdicts, governed state and trust explanations', async () => {
    const n = POOL.length + EVENTS.length;
    await fc.assert(
      fc.asyncProperty(
        fc.subarray([...POOL.keys()], { minLength: 1 }),
        deliveryArb(n),
        deliveryArb(n),
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 6 }),
        async (chosen, first, second, sizes) => {
          const records = chosen.map((i) => POOL[i] as VerifiedRecord);
          const reference = Governance.create(anchor, NO_IDENTITIES);
          if (!reference.ok) throw new Error(reference.detail);
          const g = reference.value;
          g.load([...records].sort((a, b) => (a.idHex < b.idHex ? -1 : 1)));
          const expected = EVENTS.map((e) => g.verdict(e.author, e.kind, e.createdAt).trusted);
          const state = governanceViewToJson(g.view!);
          // the same positions for records and events: `first`/`second` order all n items
          const all: Item[] = [
            ...POOL.map((record) => ({ record })),
            ...EVENTS.map((event) => ({ event })),
          ];
          const outcomes: string[][] = [];
          for (const delivery of [first, second]) {
            const ordered = order(all, delivery).filter(
              (it) => !('record' in it) || records.includes(it.record),
            );
            const node = await startIdentityNode(NOW, {
              workers: 0,
              http: false,
              trustRoot: recordBytes(anchor),
            });
            nodes.push(node);
            try {
              await deliver(node, ordered, sizes);
              expect(node.node.governance.state()).toEqual({ mode: 'governed', ...state });
              // the trust states: every author's explanation, as the reference gives it
              for (const author of [dave, erin, frank, val2, alice])
                for (const kind of ['note', 'post'])
                  expect(node.node.governance.explain(author.did, kind, NOW)).toEqual(
                    trustExplanationToJson(g.explain(author.did, kind, NOW)),
                  );
              const got = EVENTS.map((e) => observed(node, e));
              got.forEach((v, i) => {
                if (expected[i]) expect(v, `event ${i}`).toBe('valid');
                else expect(v, `event ${i}`).not.toBe('valid');
              });
              outcomes.push(got.map((v) => (v === 'valid' ? v : 'not valid')));
            } finally {
              await node.close();
            }
          }
          expect(outcomes[1]).toEqual(outcomes[0]);
        },
      ),
      { numRuns: 12 },
    );
  }, 240_000);
});
