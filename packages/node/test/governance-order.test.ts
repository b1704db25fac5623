/**
 * Order independence, the consensus rule (spec/GOVERNANCE.md §9): random families of roots (valid
 * updates, handovers, forks, rollbacks, gaps, updates short of either quorum, copies with other
 * signers), critical actions (every kind, valid, short, duplicated or stranger signatures, dated
 * before their root or after its expiry, under superseded roots), attestations and revocations
 * (by their issuer or not), delivered in random orders with repeats, give every node the same
 * governed state — the one `resolveGovernance` computes from the set — the same records held, and
 * the same trust answers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  type ActionKind,
  Governance,
  governanceViewToJson,
  resolveGovernance,
  trustExplanationToJson,
  type VerifiedRecord,
} from '../src/governance/index.js';
import {
  core,
  DAY,
  entries,
  keysOf,
  rootBody,
  signed,
  T0,
  testKey,
  thresholds,
} from './governance-fixtures.js';

const NOW = T0 + 400 * DAY;
const POOL = ['alice', 'bob', 'carol', 'erin', 'frank', 'val-1', 'dean', 'x', 'y', 'z'];
const KINDS: ActionKind[] = [
  'validator-admission',
  'validator-removal',
  'identity-revocation',
  'policy-change',
  'protocol-upgrade',
];

interface Op {
  readonly kind: 'root' | 'action' | 'attest' | 'revoke' | 'copy';
  readonly pick: number;
  readonly variant: number;
  readonly dt: number;
  readonly who: number;
}

const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom('root', 'root', 'action', 'action', 'attest', 'attest', 'revoke', 'copy'),
  pick: fc.nat(),
  variant: fc.nat({ max: 5 }),
  dt: fc.integer({ min: -1, max: 6 }),
  who: fc.nat(),
});

interface RootInfo {
  readonly r: VerifiedRecord;
  readonly members: string[];
}

const anchorRecord = signed(rootBody({ expiresAt: T0 + 40 * DAY }), keysOf('alice', 'bob'));
const name = (n: number): string => POOL[n % POOL.length] as string;

/** Builds a family of records from the ops: each refers to an earlier one. */
function family(ops: readonly Op[]): VerifiedRecord[] {
  const roots: RootInfo[] = [{ r: anchorRecord, members: ['alice', 'bob', 'carol'] }];
  const out: VerifiedRecord[] = [];
  const attestations: VerifiedRecord[] = [];
  ops.forEach((op, n) => {
    const parent = roots[op.pick % roots.length] as RootInfo;
    const p = parent.r.record as { version: number; createdAt: number };
    const at = p.createdAt + op.dt * DAY + (n % 7);
    if (op.kind === 'root') {
      const handover = op.variant % 2 === 1;
      const members = handover
        ? ['erin', 'frank', name(op.who + 1) === 'erin' ? 'carol' : 'carol']
        : parent.members;
      const version = p.version + (op.variant === 4 ? 0 : op.variant === 5 ? 2 : 1);
      const signers =
        op.variant === 2
          ? [parent.members[0] as string]
          : [...new Set([...parent.members.slice(0, 2), ...members.slice(0, 2)])];
      const body = rootBody({
        version,
        prior: parent.r,
        createdAt: Math.max(0, at),
        members: entries(...members),
        validators: entries(name(op.who)),
        thresholds: thresholds(2),
      });
      const r = signed(body, keysOf(...signers));
      out.push(r);
      roots.push({ r, members });
      return;
    }
    if (op.kind === 'action') {
      const kind = KINDS[op.who % KINDS.length] as ActionKind;
      const fields =
        kind === 'policy-change'
          ? { trustPolicy: { maxDepth: 1 + (op.who % 3), minPaths: 1 + (op.variant % 2) } }
          : kind === 'protocol-upgrade'
            ? { protocolVersions: op.variant % 2 === 0 ? [1, 2] : [2] }
            : { subject: testKey(name(op.who + op.variant)).did };
      const signers =
        op.variant === 0
          ? [parent.members[0] as string]
          : op.variant === 1
            ? [parent.members[0] as string, parent.members[0] as string]
            : op.variant === 2
              ? ['mallory', 'trudy']
              : parent.members.slice(op.variant % 2, 2 + (op.variant % 2));
      const createdAt = op.dt === 6 ? p.createdAt + 41 * DAY : Math.max(0, at);
      out.push(
        signed(
          { v: 1, type: 'action', kind, root: parent.r.id, createdAt, ...fields },
          keysOf(...signers),
        ),
      );
      return;
    }
    if (op.kind === 'attest') {
      const issuer = name(op.who);
      const subject = name(op.who + 1 + (op.pick % (POOL.length - 1)));
      const created = T0 + Math.max(0, op.dt) * DAY;
      const a = signed(
        {
          v: 1,
          type: 'attestation',
          issuer: testKey(issuer).did,
          subject: testKey(subject).did,
          scope: op.variant % 3 === 0 ? 'note' : '*',
          createdAt: created,
          expiresAt: created + (2 + op.variant) * DAY,
        },
        keysOf(op.variant === 5 ? 'mallory' : issuer),
      );
      out.push(a);
      attestations.push(a);
      return;
    }
    if (op.kind === 'revoke') {
      const target = attestations[op.pick % Math.max(1, attestations.length)];
      if (target === undefined) return;
      const issuer =
        op.variant === 0 ? testKey(name(op.who)).did : (target.record as { issuer: string }).issuer;
      const key = [...POOL, 'mallory'].map(testKey).find((k) => k.did === issuer)!;
      out.push(
        signed(
          {
            v: 1,
            type: 'attestation-revocation',
            issuer,
            target: target.id,
            createdAt: T0 + Math.max(0, op.dt) * DAY,
          },
          [key],
        ),
      );
      return;
    }
    // a copy: the body of an earlier root or action with other signatures
    const source = out.filter((r) => r.record.type === 'root' || r.record.type === 'action')[
      op.pick % Math.max(1, out.length)
    ];
    if (source === undefined) return;
    const { signatures: _, ...body } = source.record;
    out.push(
      signed(
        body as never,
        keysOf(
          ...(op.variant % 2 === 0
            ? ['alice', 'bob', 'carol', 'erin', 'frank'].slice(op.who % 3, 2 + (op.who % 3))
            : ['mallory']),
        ),
      ),
    );
  });
  return out;
}

/** An order of delivery: a permutation of the family with some records delivered twice. */
const deliveryArb = (n: number) =>
  fc.tuple(
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: n, maxLength: n }),
    fc.array(fc.nat({ max: Math.max(0, n - 1) }), { maxLength: 4 }),
  );

function order<T>(items: readonly T[], [keys, repeats]: [number[], number[]]): T[] {
  const idx = items.map((_, i) => i).sort((a, b) => (keys[a] ?? 0) - (keys[b] ?? 0));
  const out = idx.map((i) => items[i] as T);
  if (items.length === 0) return out;
  for (const r of repeats) out.splice(r % (out.length + 1), 0, items[r % items.length] as T);
  return out;
}

/** Everything a node's verdicts depend on: the governed state, what it holds, trust on a grid. */
function observe(g: Governance) {
  const view = governanceViewToJson(g.view!);
  const held = [...new Set(g.held().map((r) => r.idHex))].sort();
  const trust = POOL.flatMap((s) =>
    [T0 + DAY, T0 + 3 * DAY + 1, T0 + 6 * DAY].flatMap((at) =>
      ['note', 'vote'].map((scope) => trustExplanationToJson(g.explain(testKey(s).did, scope, at))),
    ),
  );
  return { view, held, trust };
}

function deliver(records: readonly VerifiedRecord[]): Governance {
  const g = Governance.create(anchorRecord, () => undefined);
  if (!g.ok) throw new Error(g.detail);
  for (const r of records) g.value.add(r);
  return g.value;
}

const familyArb = fc.array(opArb, { minLength: 1, maxLength: 14 }).map(family);

describe('order independence', () => {
  it('every order (with repeats) reaches the same state, held set and trust answers, equal to resolveGovernance(set)', () => {
    fc.assert(
      fc.property(
        familyArb.chain((records) =>
          fc.tuple(fc.constant(records), deliveryArb(records.length), deliveryArb(records.length)),
        ),
        ([records, first, second]) => {
          const a = observe(deliver(order(records, first)));
          const b = observe(deliver(order(records, second)));
          expect(b).toEqual(a);
          const reference = governanceViewToJson(
            resolveGovernance(anchorRecord as never, records, () => undefined),
          );
          expect(a.view).toEqual(reference);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('a batch submitted at once, and a restart that loads what a node held, give the same as one record at a time', () => {
    fc.assert(
      fc.property(
        familyArb.chain((records) => fc.tuple(fc.constant(records), deliveryArb(records.length))),
        ([records, delivery]) => {
          const ordered = order(records, delivery);
          const one = deliver(ordered);
          const batch = Governance.create(anchorRecord, () => undefined);
          if (!batch.ok) throw new Error(batch.detail);
          batch.value.submit(core, ordered, NOW);
          expect(observe(batch.value)).toEqual(observe(one));
          const restarted = Governance.create(anchorRecord, () => undefined);
          if (!restarted.ok) throw new Error(restarted.detail);
          restarted.value.load(one.held());
          expect(observe(restarted.value)).toEqual(observe(one));
        },
      ),
      { numRuns: 40 },
    );
  });
});
