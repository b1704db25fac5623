/**
 * A node enforces identities over HTTP (spec/IDENTITY.md §6–§8, spec/PROTOCOL.md §7 step 7):
 * key events are judged and stored through POST /v1/key-events; an ordinary event by an
 * identity is accepted only under the key state in force at its `created_at`; a key event that
 * changes a window invalidates stored events retroactively (410 afterwards, evidence kept,
 * audit entries), a veto revalidates them, an event that came before its key events is held
 * and accepted once they arrive; and `audit verify` holds the store to all of it.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { verifyAudit } from '../src/node.js';
import { DB_FILE } from '../src/storage/index.js';
import {
  core,
  DAY,
  guardians,
  inception,
  set,
  successor,
  T0,
  testKey,
  veto,
} from './identity-fixtures.js';
import {
  getJson,
  type IdentityNode,
  identityEvent,
  postEventsJson,
  postKeyEvents,
  startIdentityNode,
  verdictOf,
} from './identity-node-fixtures.js';

const N = T0 + 10 * DAY; // the node's clock
const [k0, k1, k2, g1, g2] = ['n-k0', 'n-k1', 'n-k2', 'n-g1', 'n-g2'].map(testKey) as [
  ReturnType<typeof testKey>,
  ReturnType<typeof testKey>,
  ReturnType<typeof testKey>,
  ReturnType<typeof testKey>,
  ReturnType<typeof testKey>,
];
const G = guardians(2, DAY, 'n-g1', 'n-g2');
const icp = inception({
  current: set(1, 'n-k0'),
  next: set(1, 'n-k1'),
  guardians: G,
  createdAt: T0,
});
const rot = successor(icp, {
  type: 'rotation',
  current: set(1, 'n-k1'),
  next: set(1, 'n-k2'),
  createdAt: N - 2 * DAY,
});
const rev = successor(rot, {
  type: 'revocation',
  current: set(1, 'n-k2'),
  next: set(1, 'n-k3'),
  createdAt: N,
  revokedFrom: N - DAY,
});
const did = icp.identity;

let n: IdentityNode;
beforeAll(async () => {
  n = await startIdentityNode(N);
});
afterAll(async () => {
  await n.close();
  n.remove();
});

const entries = (dir: string) => {
  const db = new Database(`${dir}/${DB_FILE}`, { readonly: true });
  try {
    return db
      .prepare('SELECT type, event_id, reason, detail FROM audit_entries ORDER BY seq')
      .all() as {
      type: string;
      event_id: Buffer | null;
      reason: string | null;
      detail: string;
    }[];
  } finally {
    db.close();
  }
};

describe('an identity in a running node', () => {
  const e1 = identityEvent(icp, N - 3 * DAY, [k0], { label: 'e1' });
  const e2 = identityEvent(icp, N - DAY, [k0], { label: 'e2' });
  let e3: Record<string, unknown>;
  const ids: Record<string, string> = {};

  it('holds an event whose identity it does not know, and accepts it when the inception arrives', async () => {
    const [early] = await postEventsJson(n.url, [e1]);
    expect(verdictOf(early as never)).toBe('ERR_KEL_UNKNOWN_IDENTITY');
    expect((await getJson(n.url, `/v1/identities/${did}`)).status).toBe(404);

    const [answer] = await postKeyEvents(n.url, [icp]);
    expect(answer).toMatchObject({
      status: 'accepted',
      id: icp.idHex,
      identity: did,
      attached: [icp.idHex],
      reevaluated: { invalidated: 0, revalidated: 0, accepted: 1 },
    });
    ids['e1'] = String(early?.id);
    expect((await getJson(n.url, `/v1/events/${ids['e1']}`)).status).toBe(200);
    const again = await postKeyEvents(n.url, [icp]);
    expect(again[0]).toMatchObject({ status: 'duplicate', id: icp.idHex });
  });

  it('accepts events under the key state in force and refuses keys that are not its own', async () => {
    const [a, wrongKey, wrongState] = await postEventsJson(n.url, [
      e2,
      identityEvent(icp, N - DAY, [k1], { label: 'not-k0' }),
      identityEvent(rot, N - DAY, [k1], { label: 'rot-unknown' }),
    ]);
    expect(verdictOf(a as never)).toBe('accepted');
    ids['e2'] = String(a?.id);
    expect(verdictOf(wrongKey as never)).toBe('ERR_KEL_THRESHOLD_NOT_MET');
    expect(verdictOf(wrongState as never)).toBe('ERR_KEL_UNKNOWN_KEY_STATE');
    ids['held'] = String(wrongState?.id); // held: `rot` is not known yet
  });

  it('a rotation dated in the past invalidates what the old keys signed after it, retroactively', async () => {
    const [answer] = await postKeyEvents(n.url, [rot]);
    // e2 (dated after the rotation) is invalidated; the held event under `rot` is accepted
    expect(answer).toMatchObject({
      status: 'accepted',
      reevaluated: { invalidated: 1, revalidated: 0, accepted: 1 },
    });
    const gone = await getJson(n.url, `/v1/events/${ids['e2']}`);
    expect(gone.status).toBe(410);
    expect(gone.body.error.code).toBe('ERR_EVENT_INVALIDATED');
    expect(gone.body.error.message).toContain('ERR_KEL_KEY_ROTATED');
    expect((await getJson(n.url, `/v1/events/${ids['e1']}`)).status).toBe(200); // before it
    expect((await getJson(n.url, `/v1/events/${ids['held']}`)).status).toBe(200); // released

    e3 = identityEvent(rot, N - DAY / 2, [k1], { label: 'e3' });
    const [ok, old] = await postEventsJson(n.url, [
      e3,
      identityEvent(icp, N - DAY / 2, [k0], { label: 'old-key' }),
    ]);
    expect(verdictOf(ok as never)).toBe('accepted');
    ids['e3'] = String(ok?.id);
    expect(verdictOf(old as never)).toBe('ERR_KEL_KEY_ROTATED');
  });

  it('a revocation refuses the revoked keys from revoked_from on, also backdated, and invalidates what they signed', async () => {
    const [answer] = await postKeyEvents(n.url, [rev]);
    // e3 and the released event, both signed by k1 after revoked_from
    expect(answer).toMatchObject({ status: 'accepted', reevaluated: { invalidated: 2 } });
    expect((await getJson(n.url, `/v1/events/${ids['e3']}`)).status).toBe(410);
    expect((await getJson(n.url, `/v1/events/${ids['held']}`)).status).toBe(410);
    const [backdated, before, current] = await postEventsJson(n.url, [
      identityEvent(rot, N - (3 * DAY) / 4, [k1], { label: 'backdated' }),
      identityEvent(rot, N - DAY - 60, [k1], { label: 'before-revoked-from' }),
      identityEvent(rev, N, [k2], { label: 'current' }),
    ]);
    expect(verdictOf(backdated as never)).toBe('ERR_KEL_KEY_REVOKED');
    expect(verdictOf(before as never)).toBe('accepted');
    expect(verdictOf(current as never)).toBe('accepted');
    const state = await getJson(n.url, `/v1/identities/${did}`);
    expect(state.status).toBe(200);
    expect(state.body.state.chain.map((k: { end_cause: string | null }) => k.end_cause)).toEqual([
      'rotated',
      'revoked',
      null,
    ]);
    expect(state.body).toMatchObject({ key_events: 3, events: { invalidated: 3 } });
    const log = await getJson(n.url, `/v1/identities/${did}/key-events`);
    expect(log.body.key_events.map((e: { type: string }) => e.type)).toEqual([
      'inception',
      'rotation',
      'revocation',
    ]);
  });

  it('records every key event and every turned verdict in the audit log, and audit verify agrees', async () => {
    const log = entries(n.dir);
    const attached = log.filter((e) => e.type === 'critical' && e.detail.includes('"attached"'));
    expect(attached.map((e) => (e.event_id as Buffer).toString('hex'))).toEqual([
      icp.idHex,
      rot.idHex,
      rev.idHex,
    ]);
    const turned = log
      .filter((e) => e.type === 'critical' && e.detail.includes('"reevaluated"'))
      .map(
        (e) =>
          JSON.parse(e.detail) as {
            invalidated: { id: string; reason: string }[];
            accepted: string[];
          },
      );
    expect(turned[0]).toMatchObject({ invalidated: [], accepted: [ids['e1']] }); // released
    expect(turned.slice(1).map((t) => t.invalidated)).toEqual([
      [{ id: ids['e2'], reason: 'ERR_KEL_KEY_ROTATED' }],
      [
        { id: ids['e3'], reason: 'ERR_KEL_KEY_REVOKED' },
        { id: ids['held'], reason: 'ERR_KEL_KEY_REVOKED' },
      ].sort((a, b) => (String(a.id) < String(b.id) ? -1 : 1)),
    ]);
    expect(await verifyAudit(n.dir, core)).toMatchObject({ ok: true });
  });
});

describe('guardian recovery and the veto, in a running node', () => {
  const H = guardians(2, DAY, 'n-g1', 'n-g2', 'n-g3');
  const icp2 = inception({
    current: set(1, 'n-a0'),
    next: set(1, 'n-a1'),
    guardians: H,
    createdAt: T0,
  });
  const recovery = successor(
    icp2,
    { type: 'recovery', current: set(1, 'n-b0'), next: set(1, 'n-b1'), createdAt: N - 2 * DAY },
    [g1, g2],
  );
  const partial = successor(
    icp2,
    { type: 'recovery', current: set(1, 'n-b0'), next: set(1, 'n-b1'), createdAt: N - 2 * DAY },
    [g1],
  );
  const ids: Record<string, string> = {};

  it('a copy with too few guardians is refused and costs nothing; a full one replaces the keys after its delay', async () => {
    const [a0, b0] = [testKey('n-a0'), testKey('n-b0')];
    expect((await postKeyEvents(n.url, [icp2]))[0]?.status).toBe('accepted');
    const [f1] = await postEventsJson(n.url, [
      identityEvent(icp2, N - DAY / 2, [a0], { label: 'f1' }),
    ]);
    expect(verdictOf(f1 as never)).toBe('accepted');
    ids['f1'] = String(f1?.id);

    expect(verdictOf((await postKeyEvents(n.url, [partial]))[0] as never)).toBe(
      'ERR_KEL_THRESHOLD_NOT_MET',
    );
    const [full] = await postKeyEvents(n.url, [recovery]);
    expect(full).toMatchObject({
      status: 'accepted',
      id: recovery.idHex,
      reevaluated: { invalidated: 1 },
    });
    expect((await getJson(n.url, `/v1/events/${ids['f1']}`)).status).toBe(410);

    const [f2, early] = await postEventsJson(n.url, [
      identityEvent(recovery, N - DAY / 4, [b0], { label: 'f2' }),
      identityEvent(recovery, N - DAY - 10, [b0], { label: 'before-delay' }),
    ]);
    expect(verdictOf(f2 as never)).toBe('accepted');
    ids['f2'] = String(f2?.id);
    expect(verdictOf(early as never)).toBe('ERR_KEL_BEFORE_KEY_STATE');
  });

  it('a veto by the replaced keys voids the recovery: their events are valid again, the recovered ones not', async () => {
    const v = veto(recovery, N - 2 * DAY + 600, [testKey('n-a0')]);
    const [answer] = await postKeyEvents(n.url, [v]);
    expect(answer).toMatchObject({
      status: 'accepted',
      reevaluated: { invalidated: 1, revalidated: 1 },
    });
    expect((await getJson(n.url, `/v1/events/${ids['f1']}`)).status).toBe(200);
    const f2 = await getJson(n.url, `/v1/events/${ids['f2']}`);
    expect(f2.status).toBe(410);
    expect(f2.body.error.message).toContain('ERR_KEL_SUPERSEDED_KEY_STATE');
    const state = await getJson(n.url, `/v1/identities/${icp2.identity}`);
    expect(state.body.state).toMatchObject({ status: 'active', vetoed: [recovery.idHex] });
    const late = veto(recovery, N - 2 * DAY + DAY, [testKey('n-a0')]);
    expect(verdictOf((await postKeyEvents(n.url, [late]))[0] as never)).toBe('ERR_KEL_VETO_WINDOW');
    expect(await verifyAudit(n.dir, core)).toMatchObject({ ok: true });
  });

  it('rebuilds the logs from its store at restart: the same state and the same verdicts', async () => {
    const before = await getJson(n.url, `/v1/identities/${icp2.identity}`);
    await n.close();
    n = await n.reopen();
    const after = await getJson(n.url, `/v1/identities/${icp2.identity}`);
    expect(after.body).toEqual(before.body);
    expect((await getJson(n.url, `/v1/events/${ids['f2']}`)).status).toBe(410);
    const [dup] = await postKeyEvents(n.url, [recovery]);
    expect(dup?.status).toBe('duplicate');
  });
});

describe('what peers sync: a key event log as CBOR, through NodeService', () => {
  it('a second node that takes the logs of the first as CBOR reaches the same states', async () => {
    const other = await startIdentityNode(N, { http: false });
    try {
      for (const did of [icp.identity]) {
        const log = n.node.identities.keyEventLog(did);
        expect(log?.map((e) => e.json.type)).toEqual(['inception', 'rotation', 'revocation']);
        // delivered last to first: each waits in escrow for the one it refers to
        const answers = await other.node.identities.ingestKeyEventsCbor(
          [...(log ?? [])].reverse().map((e) => e.cbor),
        );
        expect(answers.map((a) => a.status)).toEqual(['escrowed', 'escrowed', 'accepted']);
        expect(other.node.identities.identity(did)?.state).toEqual(
          n.node.identities.identity(did)?.state,
        );
      }
      const garbage = await other.node.identities.ingestKeyEventsCbor([Uint8Array.of(0xa1)]);
      expect(garbage).toMatchObject([{ status: 'rejected', reason: 'ERR_MALFORMED' }]);
    } finally {
      await other.close();
      other.remove();
    }
  });
});

describe('malformed key events over HTTP', () => {
  it('answers each element with its code, and refuses a body that is no JSON array or object', async () => {
    const res = await fetch(`${n.url}/v1/key-events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[{"v":1,"v":1},{"v":2,"type":"inception"},[],{"v":1,"type":"rotation"}]',
    });
    const body = (await res.json()) as { results: { reason: string }[] };
    expect(body.results.map((r) => r.reason)).toEqual([
      'ERR_MALFORMED',
      'ERR_UNSUPPORTED_VERSION',
      'ERR_MALFORMED',
      'ERR_BAD_FIELD',
    ]);
    const whole = await fetch(`${n.url}/v1/key-events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '42',
    });
    expect(whole.status).toBe(400);
    expect((await getJson(n.url, '/v1/identities/did:key:z6Mk')).status).toBe(400);
  });
});
