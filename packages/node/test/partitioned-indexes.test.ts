/**
 * The id and replay indexes partitioned by seq (schema version 5) answer like one index over
 * the whole store: a store of two partitions (2^16 + 4,464 events) finds every id and every
 * used (author, nonce) pair in either partition, with the in-memory filter (rebuilt from the
 * table when the store opens) and without it: the same answers for stored and unknown pairs,
 * the filter only says where to look; pruning drops a partition's replay rows only once all its events
 * expired; and the start-up check restores a missing row of either index in the newest
 * partition.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { type Core, loadCore } from '@commons-sync/bindings';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { INDEX_PARTITION_BITS } from '../src/audit/event-row.js';
import type { VerifiedEvent } from '../src/protocol/index.js';
import { DB_FILE, replayKey, Store, verifyAuditData } from '../src/storage/index.js';
import { fakeEvent, manualClock, tempDir } from './storage-fixtures.js';

const PER_PART = 2 ** INDEX_PARTITION_BITS;
const TOTAL = PER_PART + 4_464;
const NOW_MS = 1_750_000_000_000;
const EXPIRES_FIRST = 1_750_000_600; // partition 0 (seqs 1..65,535)
const EXPIRES_LATER = 1_750_007_200; // from seq 65,536 on

let core: Core;
let template: { dir: string; cleanup: () => void };
let work: { dir: string; cleanup: () => void };
let events: VerifiedEvent[];

beforeAll(async () => {
  core = await loadCore();
  template = tempDir('cs-parts-');
  work = tempDir('cs-parts-work-');
  events = Array.from({ length: TOTAL }, (_, i) =>
    fakeEvent({ size: 40, expiresAt: i + 1 < PER_PART ? EXPIRES_FIRST : EXPIRES_LATER }),
  );
  const store = Store.open(template.dir, core, { now: () => NOW_MS });
  for (let i = 0; i < TOTAL; i += 5_000) store.commit(events.slice(i, i + 5_000));
  store.close();
}, 120_000);

afterAll(() => {
  template?.cleanup();
  work?.cleanup();
});

let copies = 0;
function copy(): string {
  const d = join(work.dir, `c${copies++}`);
  mkdirSync(d);
  copyFileSync(join(template.dir, DB_FILE), join(d, DB_FILE));
  return d;
}

const pairOf = (e: VerifiedEvent) => ({ author: e.author, nonce: e.nonce });

describe('partitioned indexes', () => {
  it('spread the events over two partitions and verify', () => {
    const db = new Database(join(template.dir, DB_FILE), { readonly: true });
    const parts = db.prepare('SELECT part, count(*) AS n FROM event_ids GROUP BY part').all();
    const replayParts = db.prepare('SELECT part, count(*) AS n FROM replay GROUP BY part').all();
    db.close();
    expect(parts).toEqual([
      { part: 0, n: PER_PART - 1 },
      { part: 1, n: TOTAL - PER_PART + 1 },
    ]);
    expect(replayParts).toEqual(parts);
    expect(verifyAuditData(template.dir, core)).toMatchObject({ ok: true, events: TOTAL });
  });

  it('find every id in either partition, and nothing for unknown ids', () => {
    const store = Store.open(copy(), core);
    try {
      for (const i of [0, 1, PER_PART - 2, PER_PART - 1, PER_PART, TOTAL - 1]) {
        const e = events[i] as VerifiedEvent;
        expect(store.getEvent(e.idHex)).toMatchObject({ seq: i + 1, idHex: e.idHex });
        expect(store.acceptEntrySeq(e.idHex)).toBe(i);
        // the sync and identity reads by id go through the same index
        expect(store.encodedEvent(e.id)).toEqual(new Uint8Array(e.encoded));
        expect(store.eventSource(e.id)).toBeUndefined();
        expect(store.identity.standing(e.id)).toBeUndefined();
      }
      const sample = events.filter((_, i) => i % 997 === 0);
      expect(store.findIds(sample.map((e) => e.id)).size).toBe(sample.length);
      const unknown = fakeEvent();
      expect(store.getEvent(unknown.idHex)).toBeUndefined();
      // a stored id's 6-byte index key with another id: the full id decides
      const lookalike = Buffer.from((events[5] as VerifiedEvent).id);
      lookalike[31] = (lookalike[31] as number) ^ 1;
      expect(store.getEvent(lookalike.toString('hex'))).toBeUndefined();
      expect(store.encodedEvent(lookalike)).toBeUndefined();
      // an event from a peer, stored in the newest partition: its source is found by id
      const fromPeer = fakeEvent();
      store.commit([fromPeer], [], { sources: ['peer-a'] });
      expect(store.eventSource(fromPeer.id)).toBe('peer-a');
      expect(store.eventSource(unknown.id)).toBeUndefined();
    } finally {
      store.close();
    }
  });

  it('find the same replay records with the filter (rebuilt at open) and without it', () => {
    const dir = copy();
    const stored = new Map(events.map((e) => [replayKey(e.author, e.nonce), e.idHex]));
    const withFilter = Store.open(dir, core, { now: () => NOW_MS });
    const without = Store.open(dir, core, { now: () => NOW_MS, replayFilter: false });
    try {
      const pairs = fc.array(
        fc.oneof(
          fc.nat(TOTAL - 1).map((i) => pairOf(events[i] as VerifiedEvent)),
          // the author of a stored event with a fresh nonce, and a stored nonce of another author
          fc
            .nat(TOTAL - 1)
            .map((i) => ({ ...pairOf(events[i] as VerifiedEvent), nonce: new Uint8Array(16) })),
          fc
            .nat(TOTAL - 1)
            .map((i) => ({ ...pairOf(events[i] as VerifiedEvent), author: 'did:key:z6MkOther' })),
        ),
        { minLength: 1, maxLength: 50 },
      );
      fc.assert(
        fc.property(pairs, (ps) => {
          const a = withFilter.findReplays(ps);
          expect(a).toEqual(without.findReplays(ps));
          for (const p of ps) {
            const key = replayKey(p.author, p.nonce);
            expect(a.get(key)?.eventIdHex).toBe(stored.get(key));
          }
        }),
        { numRuns: 60 },
      );
    } finally {
      withFilter.close();
      without.close();
    }
  });

  it('prune a partition only once all its events expired, and let its pairs be used again', () => {
    const clock = manualClock(NOW_MS);
    const store = Store.open(copy(), core, { now: clock.now });
    try {
      const old = events[100] as VerifiedEvent;
      const recent = events[TOTAL - 100] as VerifiedEvent;
      const both = [pairOf(old), pairOf(recent)];
      expect(store.pruneReplay(EXPIRES_FIRST)).toBe(0); // strictly before the cutoff goes
      expect(store.findReplays(both).size).toBe(2);
      expect(store.pruneReplay(EXPIRES_FIRST + 1)).toBe(PER_PART - 1);
      expect([...store.findReplays(both).values()].map((r) => r.eventIdHex)).toEqual([
        recent.idHex,
      ]);
      // the pruned pair is free (its event expired); the other one is not
      clock.advance((EXPIRES_FIRST + 1) * 1000 - NOW_MS);
      const reuse = fakeEvent({ author: old.author, nonce: old.nonce, expiresAt: EXPIRES_LATER });
      expect(store.commit([reuse])).toBe(TOTAL + 1);
      expect(() =>
        store.commit([fakeEvent({ author: recent.author, nonce: recent.nonce })]),
      ).toThrow(expect.objectContaining({ code: 'ERR_REPLAY_CONFLICT' }) as Error);
      expect(store.findReplays([pairOf(old)]).get(replayKey(old.author, old.nonce))).toEqual({
        eventIdHex: reuse.idHex,
        expiresAt: EXPIRES_LATER,
      });
    } finally {
      store.close();
    }
  });

  it('are repaired at start: a missing row of either index in the newest partition is restored', () => {
    const dir = copy();
    const last = events[TOTAL - 1] as VerifiedEvent;
    const db = new Database(join(dir, DB_FILE));
    expect(db.prepare('DELETE FROM event_ids WHERE seq = ?').run(TOTAL).changes).toBe(1);
    expect(db.prepare('DELETE FROM replay WHERE seq = ?').run(TOTAL).changes).toBe(1);
    db.close();
    expect(verifyAuditData(dir, core)).toMatchObject({
      ok: false,
      firstBad: { table: 'event_ids' },
    });
    const store = Store.open(dir, core, { now: () => NOW_MS });
    try {
      expect(store.getEvent(last.idHex)).toBeUndefined();
      expect(store.checkTail({ now: NOW_MS / 1000, skewSeconds: 300 })).toMatchObject({
        idsRestored: 1,
        replayRestored: 1,
        eventsChecked: 10_000,
      });
      expect(store.getEvent(last.idHex)).toMatchObject({ seq: TOTAL });
      expect(store.findReplays([pairOf(last)]).size).toBe(1);
    } finally {
      store.close();
    }
    expect(verifyAuditData(dir, core)).toMatchObject({ ok: true, events: TOTAL });
  });
});
