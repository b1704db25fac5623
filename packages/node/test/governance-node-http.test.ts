/**
 * Governance in the running node, through HTTP: a node started from a trust root judges authors
 * by the root's trust policy in the commit block, takes critical actions and root changes only
 * with the quorum of the root in force, refuses one signature and a rollback, answers `explain`
 * and proposal status, writes each step to the audit log (which `audit verify` still passes),
 * keeps it all across a restart, and refuses to start without the root it was governed by. A node
 * without a root runs in open mode and says so.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { verifyAudit } from '../src/node.js';
import {
  core,
  DAY,
  entries,
  rootBody,
  signed,
  T0,
  testKey,
  thresholds,
} from './governance-fixtures.js';
import {
  explain,
  getGovernance,
  keyEvent,
  postEvents,
  postRecord,
  postStatus,
  recordBytes,
  verdictOf,
} from './governance-node-fixtures.js';
import { type IdentityNode, startIdentityNode } from './identity-node-fixtures.js';

const NOW = T0 + 10 * DAY;
const [alice, bob, dave, val2] = ['alice', 'bob', 'dave', 'val-2'].map(testKey) as [
  ReturnType<typeof testKey>,
  ReturnType<typeof testKey>,
  ReturnType<typeof testKey>,
  ReturnType<typeof testKey>,
];
const anchor = signed(rootBody({ trustPolicy: { maxDepth: 3, minPaths: 1 } }), [alice, bob]);

const nodes: IdentityNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) {
    await n.close().catch(() => undefined);
    n.remove();
  }
});

async function governedNode(): Promise<IdentityNode> {
  const n = await startIdentityNode(NOW, { trustRoot: recordBytes(anchor) });
  nodes.push(n);
  return n;
}

const admission = (signers: ReturnType<typeof testKey>[], subject = val2.did) =>
  signed(
    {
      v: 1,
      type: 'action',
      kind: 'validator-admission',
      root: anchor.id,
      subject,
      createdAt: T0 + DAY,
    },
    signers,
  );

describe('a node governed by a trust root, over HTTP', () => {
  it('judges authors by the trust policy, critical records by the quorum of the root in force', async () => {
    const n = await governedNode();
    const health = (await (await fetch(`${n.url}/healthz`)).json()) as {
      trust: { mode: string; root: string; alerts: string[] };
    };
    expect(health.trust).toEqual({ mode: 'governed', root: anchor.idHex, alerts: [] });
    expect(await (await fetch(`${n.url}/metrics`)).text()).toContain(
      'commons_sync_trust_mode{mode="governed"} 1',
    );

    // a member is a trust root; dave is nobody yet: refused at step 8 in the commit block
    const [byAlice, byDave] = await postEvents(n.url, [
      keyEvent(alice, NOW - 60),
      keyEvent(dave, NOW - 60),
    ]);
    expect(verdictOf(byAlice as never)).toBe('accepted');
    expect(verdictOf(byDave as never)).toBe('ERR_UNTRUSTED_AUTHOR');
    expect((await explain(n.url, dave.did, 'note', NOW)).reason).toBe('ERR_TRUST_NO_PATH');

    // alice vouches for dave: his events are trusted from the attestation's time on
    const attestation = signed(
      {
        v: 1,
        type: 'attestation',
        issuer: alice.did,
        subject: dave.did,
        scope: '*',
        createdAt: NOW - 3600,
        expiresAt: NOW + 30 * DAY,
      },
      [alice],
    );
    expect(await postRecord(n.url, attestation)).toMatchObject({
      status: 'accepted',
      type: 'attestation',
      standing: 'valid',
    });
    // the event refused before was held: the attestation made it valid, so it is stored now
    expect((await fetch(`${n.url}/v1/events/${byDave?.id}`)).status).toBe(200);
    const laterByDave = (await postEvents(n.url, [keyEvent(dave, NOW - 60)]))[0] as never;
    expect(verdictOf(laterByDave)).toBe('accepted');
    // before the attestation's time he was not trusted
    expect(verdictOf((await postEvents(n.url, [keyEvent(dave, NOW - 7200)]))[0] as never)).toBe(
      'ERR_UNTRUSTED_AUTHOR',
    );
    const why = await explain(n.url, dave.did, 'note', NOW);
    expect(why).toMatchObject({ trusted: true, reason: 'paths', mode: 'governed' });
    expect(why.paths).toEqual([
      [{ issuer: alice.did, subject: dave.did, attestation: attestation.idHex }],
    ]);

    // one signature of a 2-of-3 quorum: refused, and the status says one is missing
    const one = admission([alice]);
    expect(await postRecord(n.url, one)).toMatchObject({
      status: 'rejected',
      reason: 'ERR_GOV_THRESHOLD_NOT_MET',
    });
    expect(await postStatus(n.url, one)).toMatchObject({
      judged_against: anchor.idHex,
      missing: 1,
      blocked: null,
    });
    const two = admission([alice, bob]);
    expect(await postStatus(n.url, two)).toMatchObject({ missing: 0, blocked: null });
    expect(await postRecord(n.url, two)).toMatchObject({
      status: 'accepted',
      type: 'action',
      standing: 'applied',
    });
    expect(await postRecord(n.url, two)).toMatchObject({ status: 'duplicate' });
    const held = (await (await fetch(`${n.url}/v1/governance/records/${two.idHex}`)).json()) as {
      copies: { signatures: unknown[] }[];
    };
    expect(held.copies).toHaveLength(1);
    expect(held.copies[0]?.signatures).toHaveLength(2);
    expect((await fetch(`${n.url}/v1/governance/records/${'0'.repeat(64)}`)).status).toBe(404);
    expect((await fetch(`${n.url}/v1/governance/records/xyz`)).status).toBe(400);
    const state = await getGovernance(n.url);
    expect(state.mode).toBe('governed');
    expect((state['validators'] as { id: string }[]).map((v) => v.id)).toContain(val2.did);
    // a validator in force is a trust root
    expect(verdictOf((await postEvents(n.url, [keyEvent(val2, NOW - 60)]))[0] as never)).toBe(
      'accepted',
    );

    // the root changes by quorum of the old and the new members
    const v2 = signed(
      rootBody({
        version: 2,
        prior: anchor,
        createdAt: T0 + 2 * DAY,
        members: entries('alice', 'bob', 'carol'),
        validators: [...entries('val-1'), { id: val2.did }].sort((a, b) => (a.id < b.id ? -1 : 1)),
        thresholds: thresholds(2),
      }),
      [alice, bob],
    );
    expect(await postRecord(n.url, v2)).toMatchObject({ status: 'accepted', standing: 'in-force' });
    expect(((await getGovernance(n.url))['root'] as { id: string }).id).toBe(v2.idHex);
    // a rollback to version 1 is refused, whoever signs it
    const rollback = signed(rootBody({ version: 1, prior: v2, createdAt: T0 + 3 * DAY }), [
      alice,
      bob,
    ]);
    expect(await postRecord(n.url, rollback)).toMatchObject({
      status: 'rejected',
      reason: 'ERR_GOV_ROLLBACK',
    });
    // an action against the superseded root: stale
    const stale = signed(
      {
        v: 1,
        type: 'action',
        kind: 'validator-removal',
        root: anchor.id,
        subject: val2.did,
        createdAt: T0 + DAY,
      },
      [alice, bob],
    );
    expect((await postStatus(n.url, stale))['blocked']).toMatchObject({
      reason: 'ERR_GOV_STALE_ROOT',
    });

    // alice withdraws her attestation from a time before dave's events: they are invalidated,
    // kept as evidence (410), and his later events are refused
    const revocation = signed(
      {
        v: 1,
        type: 'attestation-revocation',
        issuer: alice.did,
        target: attestation.id,
        createdAt: NOW - 120,
      },
      [alice],
    );
    expect(await postRecord(n.url, revocation)).toMatchObject({
      status: 'accepted',
      standing: 'valid',
    });
    expect(verdictOf((await postEvents(n.url, [keyEvent(dave, NOW - 10)]))[0] as never)).toBe(
      'ERR_UNTRUSTED_AUTHOR',
    );
    for (const id of [byDave?.id, (laterByDave as { id: string }).id]) {
      const gone = await fetch(`${n.url}/v1/events/${id}`);
      expect(gone.status).toBe(410);
      expect(((await gone.json()) as { error: { code: string } }).error.code).toBe(
        'ERR_EVENT_INVALIDATED',
      );
    }
    expect(await (await fetch(`${n.url}/metrics`)).text()).toContain(
      'commons_sync_trust_invalidated_events 2',
    );
    expect((await explain(n.url, dave.did, 'note', NOW)).reason).toBe('ERR_TRUST_NO_PATH');

    // malformed records are refused with the reader's code, and nothing is stored
    expect(await postRecord(n.url, '{"v":1}')).toMatchObject({ status: 'rejected' });

    // every step is in the audit log; the log still verifies
    await n.close();
    const audit = await verifyAudit(n.dir, core);
    expect(audit.ok).toBe(true);
    const { Store } = await import('../src/storage/index.js');
    const store = Store.open(n.dir, core);
    const details: string[] = [];
    for (let i = 0; i < store.audit.size; i++) {
      const e = store.audit.entry(i);
      if (e?.type === 'critical') details.push(e.detail);
    }
    expect(store.governance.count).toBe(4); // attestation, admission, root v2, revocation
    store.close();
    const governanceEntries = details.filter((d) => d.includes('"governance"'));
    expect(governanceEntries.filter((d) => d.includes('"governance":"held"'))).toHaveLength(4);
    expect(governanceEntries.some((d) => d.includes('"governance":"root-in-force"'))).toBe(true);
    expect(governanceEntries.some((d) => d.includes('"governance":"standings"'))).toBe(true);
    // re-evaluation: the held event accepted by the attestation, two invalidated by the revocation
    const passes = details.filter((d) => d.includes('"trust":"reevaluated"'));
    expect(passes.some((d) => d.includes(`"accepted":["${byDave?.id}"]`))).toBe(true);
    expect(passes.some((d) => (d.match(/ERR_TRUST_NO_PATH/g) ?? []).length === 2)).toBe(true);

    // restarted with its root, it holds what it held; without it, it refuses to start
    const again = await n.reopen();
    nodes.push(again);
    expect(((await getGovernance(again.url))['root'] as { id: string }).id).toBe(v2.idHex);
    await again.close();
    await expect(startIdentityNode(NOW, { dir: n.dir })).rejects.toMatchObject({
      code: 'ERR_GOV_ROOT_REQUIRED',
    });
  });

  it('refuses to start from a file that cannot govern it', async () => {
    const lone = signed(rootBody(), [alice]); // carries one of its two signatures
    await expect(startIdentityNode(NOW, { trustRoot: recordBytes(lone) })).rejects.toMatchObject({
      code: 'ERR_GOV_THRESHOLD_NOT_MET',
    });
    await expect(
      startIdentityNode(NOW, { trustRoot: new TextEncoder().encode('{"v":1,"type":"root"}') }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_/) });
    const attestation = signed(
      {
        v: 1,
        type: 'attestation',
        issuer: alice.did,
        subject: dave.did,
        scope: '*',
        createdAt: T0,
        expiresAt: T0 + DAY,
      },
      [alice],
    );
    await expect(
      startIdentityNode(NOW, { trustRoot: recordBytes(attestation) }),
    ).rejects.toMatchObject({ code: 'ERR_GOV_NOT_A_ROOT' });
    await expect(
      startIdentityNode(NOW, { trustRoot: recordBytes(anchor), trusted: [alice.did] }),
    ).rejects.toMatchObject({ code: 'ERR_TRUST_CONFLICT' });
  });

  it('without a root: open mode, said in health, metrics, state and every trust answer', async () => {
    const n = await startIdentityNode(NOW);
    nodes.push(n);
    const health = (await (await fetch(`${n.url}/healthz`)).json()) as { trust: unknown };
    expect(health.trust).toEqual({ mode: 'open' });
    expect(await (await fetch(`${n.url}/metrics`)).text()).toContain(
      'commons_sync_trust_mode{mode="open"} 1',
    );
    expect(await getGovernance(n.url)).toEqual({ mode: 'open' });
    expect(await explain(n.url, dave.did, 'note', NOW)).toMatchObject({
      trusted: true,
      reason: 'open',
      mode: 'open',
    });
    expect(await postRecord(n.url, anchor)).toMatchObject({
      status: 'rejected',
      reason: 'ERR_GOV_NO_ROOT',
    });
    expect(verdictOf((await postEvents(n.url, [keyEvent(dave, NOW - 60)]))[0] as never)).toBe(
      'accepted',
    );
  });

  it('bounds what a request may hold: a record body over the JSON limit, bad queries', async () => {
    const n = await governedNode();
    const big = await fetch(`${n.url}/v1/governance`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"v":1,"pad":"${'x'.repeat(140_000)}"}`,
    });
    expect(big.status).toBe(413);
    const bad = await fetch(`${n.url}/v1/trust/explain?did=nobody`);
    expect(bad.status).toBe(400);
    const badAt = await fetch(`${n.url}/v1/trust/explain?did=${dave.did}&at=-1`);
    expect(badAt.status).toBe(400);
  });

  it('takes at most its rate of records per second (429 with Retry-After past it)', async () => {
    const n = await startIdentityNode(NOW, { trustRoot: recordBytes(anchor), governanceRate: 3 });
    nodes.push(n);
    const answers: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${n.url}/v1/governance`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      answers.push(res.status);
      if (res.status === 429) expect(res.headers.get('retry-after')).toBe('1');
      await res.text();
    }
    // the node's clock stands still in this test, so the second never turns
    expect(answers).toEqual([200, 200, 200, 429, 429]);
    expect(await (await fetch(`${n.url}/metrics`)).text()).toContain(
      'commons_sync_governance_rate_refused_total 2',
    );
  });

  it('holds at most its bound of refused events, and judges stored events in pages', async () => {
    const n = await startIdentityNode(NOW, {
      trustRoot: recordBytes(anchor),
      trustBounds: { maxHeldEvents: 2, pageSize: 2 },
    });
    nodes.push(n);
    const early = await postEvents(n.url, [
      keyEvent(dave, NOW - 300, 'note', 'h1'),
      keyEvent(dave, NOW - 290, 'note', 'h2'),
      keyEvent(dave, NOW - 280, 'note', 'h3'),
    ]);
    expect(early.map(verdictOf)).toEqual(Array(3).fill('ERR_UNTRUSTED_AUTHOR'));
    expect(await (await fetch(`${n.url}/metrics`)).text()).toContain(
      'commons_sync_trust_held_events 2',
    );
    const attestation = signed(
      {
        v: 1,
        type: 'attestation',
        issuer: alice.did,
        subject: dave.did,
        scope: 'note',
        createdAt: NOW - 3600,
        expiresAt: NOW + DAY,
      },
      [alice],
    );
    expect(await postRecord(n.url, attestation)).toMatchObject({ status: 'accepted' });
    // the two held ones (lowest ids first) are stored; the third was over the bound
    const stored = await Promise.all(
      early.map(async (a) => (await fetch(`${n.url}/v1/events/${a.id}`)).status),
    );
    expect(stored.filter((s) => s === 200)).toHaveLength(2);
    expect(stored.filter((s) => s === 404)).toHaveLength(1);
    // five more, then a revocation reaching back: judged in pages of two, all invalidated
    const more = await postEvents(
      n.url,
      [1, 2, 3, 4, 5].map((i) => keyEvent(dave, NOW - 200 + i, 'note', `m${i}`)),
    );
    expect(more.map(verdictOf)).toEqual(Array(5).fill('accepted'));
    const revocation = signed(
      {
        v: 1,
        type: 'attestation-revocation',
        issuer: alice.did,
        target: attestation.id,
        createdAt: NOW - 3000,
      },
      [alice],
    );
    expect(await postRecord(n.url, revocation)).toMatchObject({ status: 'accepted' });
    expect(await (await fetch(`${n.url}/metrics`)).text()).toContain(
      'commons_sync_trust_invalidated_events 7',
    );
    await n.close();
    const { Store } = await import('../src/storage/index.js');
    const store = Store.open(n.dir, core);
    const pages: string[] = [];
    for (let i = 0; i < store.audit.size; i++) {
      const e = store.audit.entry(i);
      if (e?.type === 'critical' && e.detail.includes('"trust":"reevaluated"'))
        pages.push(e.detail);
    }
    store.close();
    // one page accepting the two held events, then 7 stored events in pages of at most 2
    const invalidatedPerPage = pages.map((p) => (p.match(/ERR_TRUST_/g) ?? []).length);
    expect(invalidatedPerPage.filter((k) => k > 0)).toEqual([2, 2, 2, 1]);
  });

  it('says when the root in force expired and when the chain forked (health and metrics)', async () => {
    const n = await governedNode();
    // two valid successors of the anchor, each signed by a quorum: a fork, named in the audit log
    const successor = (validator: string) =>
      signed(
        rootBody({
          version: 2,
          prior: anchor,
          createdAt: T0 + DAY,
          validators: entries(validator),
          thresholds: thresholds(2),
        }),
        [alice, bob],
      );
    expect(await postRecord(n.url, successor('val-1'))).toMatchObject({ status: 'accepted' });
    expect(await postRecord(n.url, successor('val-2'))).toMatchObject({ status: 'accepted' });
    const trust = async () =>
      ((await (await fetch(`${n.url}/healthz`)).json()) as { trust: { alerts: string[] } }).trust;
    expect((await trust()).alerts).toEqual(['forked']);
    expect(await (await fetch(`${n.url}/metrics`)).text()).toContain(
      'commons_sync_governance_alert{alert="forked"} 1',
    );
    // a year on, the root in force has expired too
    n.setNow(T0 + 400 * DAY);
    expect((await trust()).alerts).toEqual(['forked', 'expired']);
  });
});
