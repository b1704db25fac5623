/**
 * Governed identities (spec/GOVERNANCE.md §2, §6.3): a did:cs member counts with the keys of the
 * key state its root pins, inside that key state's window. Rotating its keys is a critical action
 * (the new keys count only once a quorum re-pins it); revoking them takes effect at once, even on
 * actions already applied (re-evaluated when the key event joins). A member whose key events a
 * node lacks is a local, not final, verdict that resolves when they arrive.
 */
import { describe, expect, it } from 'vitest';

import { Governance, governanceViewToJson, type VerifiedRecord } from '../src/governance/index.js';
import { IdentityRegistry, type VerifiedKeyEvent } from '../src/identity/index.js';
import {
  actionBody,
  core,
  DAY,
  entries,
  testKey as govKey,
  rootBody,
  signed,
  T0,
  type TestKey,
} from './governance-fixtures.js';
import { testKey as idKey, inception, set, successor } from './identity-fixtures.js';

/** A did:cs incepted with key `<name>-0`, committing to `<name>-1`. */
function incept(name: string): VerifiedKeyEvent {
  return inception({
    current: set(1, `${name}-0`),
    next: set(1, `${name}-1`),
    createdAt: T0 - 10 * DAY,
  });
}
const rotate = (
  prior: VerifiedKeyEvent,
  name: string,
  i: number,
  createdAt: number,
  revokedFrom?: number,
) =>
  successor(prior, {
    type: revokedFrom === undefined ? 'rotation' : 'revocation',
    current: set(1, `${name}-${i}`),
    next: set(1, `${name}-${i + 1}`),
    createdAt,
    ...(revokedFrom === undefined ? {} : { revokedFrom }),
  });

const alice = govKey('alice');
const bob = govKey('bob');

function setup() {
  const registry = new IdentityRegistry(core);
  const icp = incept('dan');
  registry.add(icp);
  const dan = { id: icp.identity, keyState: icp.id };
  const members = [...entries('alice', 'bob'), dan].sort((x, y) => (x.id < y.id ? -1 : 1));
  const anchorRecord = signed(rootBody({ members }), [idKey('dan-0'), alice]);
  const g = Governance.create(anchorRecord, (did) => registry.get(did));
  if (!g.ok) throw new Error(`${g.reason} ${g.detail}`);
  return { registry, icp, anchor: anchorRecord, g: g.value };
}
const admission = (root: VerifiedRecord, validator: string, at: number, signers: TestKey[]) =>
  signed(
    actionBody(root, 'validator-admission', { subject: govKey(validator).did, createdAt: at }),
    signers,
  );
const standing = (g: Governance, r: VerifiedRecord) => {
  const o = g.add(r);
  return o.ok
    ? o.outcome === 'accepted'
      ? `${o.standing}${o.reason ? ` ${o.reason.reason}` : ''}`
      : o.outcome
    : o.reason;
};

describe('a did:cs member', () => {
  it('counts with its pinned keys; after a rotation its old keys are retired and its new keys count zero until re-pinned', () => {
    const { registry, icp, anchor, g } = setup();
    expect(standing(g, admission(anchor, 'val-2', T0 + DAY, [alice, idKey('dan-0')]))).toBe(
      'applied',
    );
    registry.add(rotate(icp, 'dan', 1, T0 + 5 * DAY));
    g.refresh();
    expect(standing(g, admission(anchor, 'val-3', T0 + 4 * DAY, [alice, idKey('dan-0')]))).toBe(
      'applied',
    ); // dated inside the pinned window
    expect(standing(g, admission(anchor, 'val-4', T0 + 6 * DAY, [alice, idKey('dan-0')]))).toBe(
      'refused ERR_GOV_THRESHOLD_NOT_MET',
    );
    expect(standing(g, admission(anchor, 'val-5', T0 + 6 * DAY, [alice, idKey('dan-1')]))).toBe(
      'refused ERR_GOV_UNTRUSTED_KEY',
    );
    const rotation = registry.log(icp.identity)!.state.chain[1]!;
    const repin = signed(
      actionBody(anchor, 'identity-rotation', {
        subject: icp.identity,
        keyState: rotation.id,
        createdAt: T0 + 7 * DAY,
      }),
      [alice, bob],
    );
    expect(standing(g, repin)).toBe('applied');
    expect(standing(g, admission(anchor, 'val-6', T0 + 8 * DAY, [alice, idKey('dan-1')]))).toBe(
      'applied',
    );
    const view = governanceViewToJson(g.view!);
    expect(view.members.find((m) => m.id === icp.identity)?.key_state).toBe(rotation.idHex);
    expect(view.actions.filter((a) => a.standing === 'applied')).toHaveLength(4);
  });

  it('a revocation of its keys takes effect at once: an action it helped apply is refused once the key event joins', () => {
    const { registry, icp, anchor, g } = setup();
    const act = admission(anchor, 'val-2', T0 + 3 * DAY, [alice, idKey('dan-0')]);
    expect(standing(g, act)).toBe('applied');
    expect(governanceViewToJson(g.view!).validators).toHaveLength(2);
    registry.add(rotate(icp, 'dan', 1, T0 + 4 * DAY, T0 + 2 * DAY)); // revoked from before the action
    g.refresh();
    const view = governanceViewToJson(g.view!);
    expect(view.actions.find((a) => a.id === act.idHex)).toMatchObject({
      standing: 'refused',
      reason: 'ERR_GOV_THRESHOLD_NOT_MET',
    });
    expect(view.validators.map((v) => v.id)).toEqual([govKey('val-1').did]);
  });

  it('whose key events are not held yet: a local verdict (ERR_GOV_UNKNOWN_IDENTITY) that turns when they arrive', () => {
    const registry = new IdentityRegistry(core);
    const icp = incept('fay');
    const members = [...entries('alice', 'bob'), { id: icp.identity, keyState: icp.id }].sort(
      (x, y) => (x.id < y.id ? -1 : 1),
    );
    const anchorRecord = signed(rootBody({ members }), [alice, bob]);
    const g = Governance.create(anchorRecord, (did) => registry.get(did));
    if (!g.ok) throw new Error(g.detail);
    const act = admission(anchorRecord, 'val-2', T0 + DAY, [alice, idKey('fay-0')]);
    expect(standing(g.value, act)).toBe('refused ERR_GOV_UNKNOWN_IDENTITY');
    registry.add(icp);
    g.value.refresh();
    expect(governanceViewToJson(g.value.view!).applied).toEqual([act.idHex]);
  });

  it('proposalStatus counts the members still missing on each side of a root draft, by standing', () => {
    const { icp, anchor, g } = setup();
    const draft = signed(
      rootBody({
        version: 2,
        prior: anchor,
        createdAt: T0 + DAY,
        members: entries('alice', 'bob', 'carol'),
      }),
      [alice],
    );
    const s = g.proposalStatus(draft);
    if (!s.ok) throw new Error(s.detail);
    expect(s.value.missing).toBe(2); // one more of the prior's members, one more of its own
    expect(s.value.blocked).toBeNull();
    const prior = s.value.tallies.find((t) => t.side === 'prior')!.tally;
    expect(Object.fromEntries(prior.members.map((m) => [m.id, m.standing]))).toEqual({
      [govKey('alice').did]: 'signed',
      [govKey('bob').did]: 'unsigned',
      [icp.identity]: 'unsigned',
    });
    const cosigned = signed(draft.record, [idKey('dan-0'), bob]);
    const ready = g.proposalStatus(cosigned);
    expect(ready.ok && ready.value.missing).toBe(0);
  });
});

describe('a did:cs issuer', () => {
  it('attests under its key state; a revocation of that key state voids the attestation and the trust it gave', () => {
    const { registry, g } = setup();
    const ida = incept('ida');
    registry.add(ida);
    g.refresh();
    const a = signed(
      {
        v: 1,
        type: 'attestation',
        issuer: ida.identity,
        keyState: ida.id,
        subject: govKey('uma').did,
        scope: '*',
        createdAt: T0 + 3 * DAY,
        expiresAt: T0 + 300 * DAY,
      },
      [idKey('ida-0')],
    );
    g.add(
      signed(
        {
          v: 1,
          type: 'attestation',
          issuer: govKey('alice').did,
          subject: ida.identity,
          scope: '*',
          createdAt: T0,
          expiresAt: T0 + 300 * DAY,
        },
        [alice],
      ),
    );
    expect(g.add(a)).toMatchObject({ ok: true, outcome: 'accepted', standing: 'valid' });
    expect(g.verdict(govKey('uma').did, 'note', T0 + 4 * DAY)).toEqual({
      trusted: true,
      reason: 'paths',
    });
    registry.add(rotate(ida, 'ida', 1, T0 + 5 * DAY, T0 + 2 * DAY));
    g.refresh();
    const e = g.explain(govKey('uma').did, 'note', T0 + 4 * DAY);
    expect(e).toMatchObject({ trusted: false, reason: 'ERR_TRUST_NO_PATH' });
    expect(e.incoming).toEqual([
      {
        attestation: a.idHex,
        issuer: ida.identity,
        status: 'invalid',
        reason: 'ERR_KEL_KEY_REVOKED',
      },
    ]);
  });
});
