/**
 * Local resource bounds (spec/GOVERNANCE.md §4): every pool a hostile submitter could fill —
 * roots, actions, records waiting for their root, copies of one record, attestations (in all
 * and per issuer), revocations waiting for their attestation — refuses at its bound with
 * ERR_GOV_LIMIT or ERR_TRUST_LIMIT and stores nothing, while what was held before still counts.
 */
import { describe, expect, it } from 'vitest';

import {
  Governance,
  type GovernanceBounds,
  type SubmitOutcome,
  type TrustBounds,
} from '../src/governance/index.js';
import {
  actionBody,
  admit,
  anchor,
  attest,
  DAY,
  keysOf,
  revoke,
  root,
  signed,
  T0,
  testKey,
} from './governance-fixtures.js';

const govBounds: GovernanceBounds = { maxRoots: 2, maxActions: 3, maxWaiting: 2, maxCopies: 2 };
const trustBounds: TrustBounds = {
  maxAttestations: 4,
  maxRevocations: 3,
  maxPerIssuer: 2,
  maxWaiting: 1,
  maxCopies: 2,
};

function small() {
  const a = anchor();
  const g = Governance.create(a, () => undefined, { governance: govBounds, trust: trustBounds });
  if (!g.ok) throw new Error(g.detail);
  return { a, g: g.value };
}
const code = (o: SubmitOutcome): string => (o.ok ? o.outcome : o.reason);

describe('governance bounds', () => {
  it('roots: the third distinct root is refused', () => {
    const { a, g } = small();
    const r2 = root({ version: 2, prior: a, createdAt: T0 + DAY }, 'alice', 'bob');
    const r3 = root({ version: 3, prior: r2, createdAt: T0 + 2 * DAY }, 'alice', 'bob');
    const r4 = root({ version: 4, prior: r3, createdAt: T0 + 3 * DAY }, 'alice', 'bob');
    expect([r2, r3, r4].map((r) => code(g.add(r)))).toEqual([
      'accepted',
      'accepted',
      'ERR_GOV_LIMIT',
    ]);
    expect(g.view!.chain.tip.idHex).toBe(r3.idHex);
    expect(g.held()).toHaveLength(2);
  });

  it('actions, and copies of one action', () => {
    const { a, g } = small();
    const acts = [1, 2, 3, 4].map((i) => admit(a, `val-${i + 1}`, T0 + i * DAY, 'alice', 'bob'));
    expect(acts.map((r) => code(g.add(r)))).toEqual([
      'accepted',
      'accepted',
      'accepted',
      'ERR_GOV_LIMIT',
    ]);
    expect(g.view!.actions.applied).toHaveLength(3);
    // copies: a did:key-only root refuses short copies for good, so copies are tested on a held waiting action
    const { a: a2, g: g2 } = small();
    const future = root({ version: 2, prior: a2, createdAt: T0 + DAY }, 'alice', 'bob');
    const body = actionBody(future, 'validator-admission', {
      subject: testKey('val-9').did,
      createdAt: T0 + 2 * DAY,
    });
    const copies = [['alice'], ['bob'], ['carol']].map((s) => signed(body, keysOf(...s)));
    expect(copies.map((c) => code(g2.add(c)))).toEqual(['accepted', 'accepted', 'ERR_GOV_LIMIT']);
  });

  it('records waiting for the root they name', () => {
    const { a, g } = small();
    const notHeld = root({ version: 2, prior: a, createdAt: T0 + DAY }, 'alice', 'bob');
    const waiting = [1, 2, 3].map((i) =>
      admit(notHeld, `val-${i + 1}`, T0 + 2 * DAY, 'alice', 'bob'),
    );
    // the action pool has room for three; the waiting bound (two) refuses the third
    expect(waiting.map((r) => code(g.add(r)))).toEqual(['accepted', 'accepted', 'ERR_GOV_LIMIT']);
    expect(code(g.add(admit(a, 'val-4', T0 + 2 * DAY, 'alice', 'bob')))).toBe('accepted');
  });
});

describe('trust bounds', () => {
  it('attestations per issuer, in all, and copies', () => {
    const { g } = small();
    const fromAlice = ['s1', 's2', 's3'].map((s) => attest('alice', s));
    expect(fromAlice.map((r) => code(g.add(r)))).toEqual([
      'accepted',
      'accepted',
      'ERR_TRUST_LIMIT',
    ]);
    const others = [attest('bob', 's4'), attest('carol', 's5'), attest('bob', 's6')];
    expect(others.map((r) => code(g.add(r)))).toEqual(['accepted', 'accepted', 'ERR_TRUST_LIMIT']);
    expect(g.graph.size.attestations).toBe(4);
    expect(g.verdict(testKey('s1').did, 'note', T0 + DAY)).toEqual({
      trusted: true,
      reason: 'paths',
    });
  });

  it('revocations waiting for an attestation not held', () => {
    const { g } = small();
    const absent = [attest('alice', 'x1'), attest('alice', 'x2')];
    expect(absent.map((r) => code(g.add(revoke(r, T0 + DAY))))).toEqual([
      'accepted',
      'ERR_TRUST_LIMIT',
    ]);
  });
});
