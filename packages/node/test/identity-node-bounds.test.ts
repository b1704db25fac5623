/**
 * Every resource a client can make a node hold for identities is bounded, and each bound is
 * shown over HTTP on 127.0.0.1 (spec/IDENTITY.md §4, §8; spec/AUDIT.md §4):
 *
 * - events held back by the identity verdict: per author and in total (beyond them the refusal
 *   stands and nothing is held);
 * - key events waiting for an inception the node does not hold (ERR_KEL_LIMIT, not final:
 *   the same key event is taken once there is room);
 * - key events in one request;
 * - re-evaluation work: pages of a fixed size, one transaction and one audit entry each, so a
 *   key event adds at most 1 + ceil(turned / page) entries, and its own entry once.
 */
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';

import { MAX_KEY_EVENTS_PER_REQUEST } from '../src/api/routes.js';
import { keyEventToJson } from '../src/identity/index.js';
import { DB_FILE } from '../src/storage/index.js';
import { DAY, inception, set, successor, T0, testKey } from './identity-fixtures.js';
import {
  type IdentityNode,
  identityEvent,
  postEventsJson,
  postKeyEvents,
  startIdentityNode,
  verdictOf,
} from './identity-node-fixtures.js';

const N = T0 + 10 * DAY;
let n: IdentityNode | undefined;
afterEach(async () => {
  await n?.close();
  n?.remove();
  n = undefined;
});

const identity = (name: string) => {
  const icp = inception({
    current: set(1, `${name}-k0`),
    next: set(1, `${name}-k1`),
    createdAt: T0,
  });
  return { icp, k0: testKey(`${name}-k0`) };
};

describe('identity bounds over HTTP', () => {
  it('holds at most maxHeldPerAuthor events of one author and maxHeldEvents in all', async () => {
    n = await startIdentityNode(N, { identityBounds: { maxHeldPerAuthor: 3, maxHeldEvents: 4 } });
    const a = identity('held-a');
    const b = identity('held-b');
    const early = (x: typeof a, i: number) =>
      identityEvent(x.icp, N - DAY, [x.k0], { label: `held-${i}` });
    const first = await postEventsJson(
      n.url,
      [0, 1, 2, 3, 4].map((i) => early(a, i)),
    );
    expect(first.map(verdictOf)).toEqual(Array(5).fill('ERR_KEL_UNKNOWN_IDENTITY'));
    expect(n.node.metrics()).toContain('commons_sync_identity_held_events 3');
    await postEventsJson(
      n.url,
      [5, 6].map((i) => early(b, i)),
    );
    expect(n.node.metrics()).toContain('commons_sync_identity_held_events 4'); // one of b's
    const [answerA] = await postKeyEvents(n.url, [a.icp]);
    expect(answerA).toMatchObject({ reevaluated: { accepted: 3 } });
    const [answerB] = await postKeyEvents(n.url, [b.icp]);
    expect(answerB).toMatchObject({ reevaluated: { accepted: 1 } });
    // what was not held is not lost for good: sent again, it is judged afresh
    const again = await postEventsJson(n.url, [early(a, 99)]);
    expect(again.map(verdictOf)).toEqual(['accepted']);
  });

  it('refuses a key event beyond the orphan escrow with ERR_KEL_LIMIT, and takes it later', async () => {
    n = await startIdentityNode(N, { identityBounds: { kel: { maxOrphans: 2 } } });
    const ids = ['orph-a', 'orph-b', 'orph-c'].map((name) => {
      const icp = inception({
        current: set(1, `${name}-k0`),
        next: set(1, `${name}-k1`),
        createdAt: T0,
      });
      const rot = successor(icp, {
        type: 'rotation',
        current: set(1, `${name}-k1`),
        next: set(1, `${name}-k2`),
        createdAt: T0 + DAY,
      });
      return { icp, rot };
    });
    const answers = await postKeyEvents(
      n.url,
      ids.map((x) => x.rot),
    );
    expect(answers.map(verdictOf)).toEqual(['escrowed', 'escrowed', 'ERR_KEL_LIMIT']);
    const c = ids[2] as (typeof ids)[number];
    const [icp] = await postKeyEvents(n.url, [c.icp]);
    expect(icp).toMatchObject({ status: 'accepted', attached: [c.icp.idHex] });
    const [rot] = await postKeyEvents(n.url, [c.rot]);
    expect(rot).toMatchObject({ status: 'accepted' });
  });

  it(`takes at most ${MAX_KEY_EVENTS_PER_REQUEST} key events in one request`, async () => {
    n = await startIdentityNode(N);
    const one = JSON.stringify(keyEventToJson(identity('many').icp.event));
    const res = await fetch(`${n.url}/v1/key-events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `[${Array(MAX_KEY_EVENTS_PER_REQUEST + 1)
        .fill(one)
        .join(',')}]`,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'ERR_TOO_MANY_EVENTS',
    );
  });

  it('re-evaluates page by page: one transaction and one audit entry per page of turned events', async () => {
    n = await startIdentityNode(N, { identityBounds: { pageSize: 2 } });
    const x = identity('paged');
    await postKeyEvents(n.url, [x.icp]);
    const events = [0, 1, 2, 3, 4].map((i) =>
      identityEvent(x.icp, N - DAY + i, [x.k0], { label: `paged-${i}` }),
    );
    expect((await postEventsJson(n.url, events)).map(verdictOf)).toEqual(Array(5).fill('accepted'));
    const rot = successor(x.icp, {
      type: 'rotation',
      current: set(1, 'paged-k1'),
      next: set(1, 'paged-k2'),
      createdAt: N - 2 * DAY,
    });
    const db = () => new Database(`${n?.dir}/${DB_FILE}`, { readonly: true });
    const count = (): number => {
      const d = db();
      try {
        return d
          .prepare("SELECT count(*) FROM audit_entries WHERE type = 'critical'")
          .pluck()
          .get() as number;
      } finally {
        d.close();
      }
    };
    const before = count();
    const [answer] = await postKeyEvents(n.url, [rot]);
    expect(answer).toMatchObject({ reevaluated: { invalidated: 5 } });
    // its own entry, and ceil(5 / 2) = 3 pages
    expect(count() - before).toBe(1 + 3);
    const d = db();
    const pages = (
      d
        .prepare(
          "SELECT detail FROM audit_entries WHERE type = 'critical' AND detail LIKE '%reevaluated%'",
        )
        .pluck()
        .all() as string[]
    ).map((t) => (JSON.parse(t) as { invalidated: unknown[] }).invalidated.length);
    d.close();
    expect(pages).toEqual([2, 2, 1]);
  });
});
