/**
 * `audit verify` holds the store to the protocol, not only to its hashes, and the node checks
 * the end of its log at start-up (issue 6, item 6). The reproductions, through the CLI:
 * deleting the replay records of a stopped node does not let a replay in (the node restores
 * them at start); two accepted events sharing (author, nonce), a changed `checkpoints.seq` and
 * a deleted checkpoint row all fail `audit verify`, and the node refuses to start on them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

import { initDataDir, openNode, verifyAudit } from '../src/node.js';
import { brandVerified } from '../src/pipeline/verified.js';
import type { VerifiedEvent } from '../src/protocol/index.js';
import {
  batchOfValues,
  didKeyFromPublicKey,
  type EventJson,
  eventToJson,
  signEvent,
  toHex,
} from '../src/protocol/index.js';
import { DB_FILE, Store, verifyAuditData } from '../src/storage/index.js';
import {
  nativeCore as core,
  PASSPHRASE,
  postEvents,
  runCli,
  startNodeProcess,
} from './node-fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'cs-protocol-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(root, `d${dirs++}`);

const seed = core.sha256(new TextEncoder().encode('store-protocol/author'));
const author = didKeyFromPublicKey(core.ed25519PublicKey(seed));
const NOW = Math.floor(Date.now() / 1000);

/** A valid event of `author` with this nonce and payload, as JSON and as the pipeline hands it to storage. */
function event(
  nonceByte: number,
  payload: unknown,
  times = { createdAt: NOW - 5, expiresAt: NOW + 3600 },
): { json: EventJson; verified: VerifiedEvent } {
  const r = signEvent(
    core,
    {
      v: 1,
      kind: 'note',
      author,
      ...times,
      nonce: new Uint8Array(16).fill(nonceByte),
      payload: payload as null,
    },
    [seed],
  );
  if (!r.ok) throw new Error(r.detail);
  const d = r.value;
  const id = core.sha256(d.body);
  return {
    json: eventToJson(d.event),
    verified: brandVerified(
      {
        id,
        author,
        kind: 'note',
        nonce: d.event.nonce,
        createdAt: d.event.createdAt,
        expiresAt: d.event.expiresAt,
        encoded: d.encoded,
      },
      toHex(id),
    ),
  };
}

function sql(dir: string, statement: string): number {
  const db = new Database(join(dir, DB_FILE));
  try {
    return db.prepare(statement).run().changes;
  } finally {
    db.close();
  }
}

async function verifyCli(dir: string): Promise<{
  code: number | null;
  verdict: { ok: boolean; firstBad?: { table: string; row: unknown; what: string } };
}> {
  const r = await runCli(['audit', 'verify', '--data', dir, '--json']);
  return { code: r.code, verdict: JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as never };
}

describe('the issue, through the CLI', () => {
  it('deleted replay records are restored at start, so a replay with another body is never accepted', async () => {
    const dir = freshDir();
    expect((await runCli(['init', '--data', dir])).code).toBe(0);
    let node = await startNodeProcess(dir);
    const first = event(1, { n: 1 });
    expect((await postEvents(node.url, [first.json])).body).toMatchObject({
      results: [{ status: 'accepted' }],
    });
    node.child.kill('SIGTERM');
    await node.exited;

    expect(sql(dir, 'DELETE FROM replay')).toBe(1);
    node = await startNodeProcess(dir);
    try {
      const replay = event(1, { n: 2 }); // same author and nonce, another body, well signed
      expect((await postEvents(node.url, [replay.json])).body).toMatchObject({
        results: [{ status: 'rejected', reason: 'ERR_REPLAY' }],
      });
      expect(node.stderr()).toContain('start-up check repaired derived state');
    } finally {
      node.child.kill('SIGTERM');
      await node.exited;
    }
    expect(await verifyCli(dir)).toMatchObject({ code: 0, verdict: { ok: true } });
  });

  it('audit verify fails on a changed checkpoints.seq and on a deleted checkpoint row; the node refuses to start', async () => {
    const dir = freshDir();
    await initDataDir(dir, PASSPHRASE, core);
    for (let i = 0; i < 3; i++) {
      const node = await openNode({ dataDir: dir, passphrase: PASSPHRASE, workers: 0, core });
      await node.ingest(batchOfValues([event(10 + i, { i }).json]));
      await node.close(); // a checkpoint at each close
    }
    expect(await verifyCli(dir)).toMatchObject({ code: 0, verdict: { ok: true } });
    const work = join(root, `copy${dirs++}`);
    for (const [label, statement, row] of [
      ['renumbered', 'UPDATE checkpoints SET seq = 9 WHERE seq = 2', 2],
      ['deleted in the middle', 'DELETE FROM checkpoints WHERE seq = 2', 2],
      ['last deleted', 'DELETE FROM checkpoints WHERE seq = (SELECT max(seq) FROM checkpoints)', 4],
    ] as const) {
      rmSync(work, { recursive: true, force: true });
      (await import('node:fs')).cpSync(dir, work, { recursive: true });
      expect(sql(work, statement), label).toBe(1);
      const { code, verdict } = await verifyCli(work);
      expect(code, label).toBe(1);
      expect(verdict.firstBad, label).toMatchObject({ table: 'checkpoints', row });
      const opened = await openNode({
        dataDir: work,
        passphrase: PASSPHRASE,
        workers: 0,
        core,
      }).then(
        async (n) => {
          await n.close();
          return 'started';
        },
        (e: { code?: string }) => e.code,
      );
      expect(opened, label).toBe('ERR_STORE_INCONSISTENT');
    }
  });
});

describe('audit verify against the protocol', () => {
  /** A store with `events` committed as the pipeline would, then closed; returns its directory. */
  async function storeWith(build: (store: Store, dir: string) => void): Promise<string> {
    const dir = freshDir();
    await initDataDir(dir, PASSPHRASE, core);
    const store = Store.open(dir, core);
    try {
      build(store, dir);
    } finally {
      store.close();
    }
    return dir;
  }

  it('fails on two accepted events sharing (author, nonce) while both live, which the hashes alone accept', async () => {
    const a = event(3, { a: 1 });
    const b = event(3, { b: 2 });
    // What a node without the start-up check let through once its replay rows were deleted:
    const dir = await storeWith((store, d) => {
      store.commit([a.verified]);
      expect(sql(d, 'DELETE FROM replay')).toBe(1);
      store.commit([b.verified]);
    });
    expect(verifyAuditData(dir, core).ok).toBe(true); // every hash is right...
    expect(await verifyAudit(dir, core)).toMatchObject({
      ok: false,
      firstBad: {
        table: 'events',
        row: 2,
        what: 'shares (author, nonce) with event 1, which was still live when this one was accepted',
      },
    }); // ...but §7 is broken
    await expect(
      openNode({ dataDir: dir, passphrase: PASSPHRASE, workers: 0, core }),
    ).rejects.toMatchObject({ code: 'ERR_STORE_INCONSISTENT' });
  });

  it('lets a pair be reused once the earlier event had expired', async () => {
    const clockStart = (NOW - 7200) * 1000;
    let t = clockStart;
    const dir = freshDir();
    await initDataDir(dir, PASSPHRASE, core);
    const store = Store.open(dir, core, { now: () => t });
    const old = event(4, { old: true }, { createdAt: NOW - 7205, expiresAt: NOW - 3600 });
    store.commit([old.verified]);
    t = NOW * 1000;
    store.pruneReplay(NOW - 60);
    store.commit([event(4, { fresh: true }).verified]);
    store.close();
    expect(await verifyAudit(dir, core)).toMatchObject({ ok: true, events: 2 });
  });

  it('refuses a reused pair until its record is past expiry plus the clock skew, then accepts it, pruned or not', async () => {
    // §7 notes: a record is kept at least until expires_at + skew. The pipeline holds an
    // expired record it still finds to exactly that, so the verdict never depends on when the
    // store pruned (it prunes whole partitions, long after some of their events expired).
    let t = (NOW - 7200) * 1000;
    const dir = freshDir();
    await initDataDir(dir, PASSPHRASE, core);
    const node = await openNode({
      dataDir: dir,
      passphrase: PASSPHRASE,
      workers: 0,
      core,
      now: () => t,
    });
    try {
      const old = event(8, { old: true }, { createdAt: NOW - 7205, expiresAt: NOW - 3600 });
      const reuse = (n: number) =>
        event(8, { reuse: n }, { createdAt: NOW - 3600, expiresAt: NOW + 3600 }).json;
      expect(await node.ingest(batchOfValues([old.json]))).toMatchObject([{ status: 'accepted' }]);
      t = (NOW - 3600 + 100) * 1000; // expired 100 s ago, within the 300 s skew
      expect(await node.ingest(batchOfValues([reuse(1)]))).toMatchObject([
        { status: 'rejected', reason: 'ERR_REPLAY' },
      ]);
      t = (NOW - 3600 + 301) * 1000; // past expiry plus skew; the record was not pruned
      expect(await node.ingest(batchOfValues([reuse(2)]))).toMatchObject([{ status: 'accepted' }]);
    } finally {
      await node.close();
    }
    const db = new Database(join(dir, DB_FILE), { readonly: true });
    expect(db.prepare('SELECT count(*) FROM replay').pluck().get()).toBe(2);
    db.close();
    expect(await verifyAudit(dir, core)).toMatchObject({ ok: true, events: 2 });
  });

  it('fails on a live event without its replay record, not on an expired one', async () => {
    const live = event(5, { live: true });
    const dir = await storeWith((store) => store.commit([live.verified]));
    expect(sql(dir, 'DELETE FROM replay')).toBe(1);
    expect(await verifyAudit(dir, core)).toMatchObject({
      ok: false,
      firstBad: { table: 'replay' },
    });

    let t = (NOW - 7200) * 1000;
    const dir2 = freshDir();
    await initDataDir(dir2, PASSPHRASE, core);
    const store = Store.open(dir2, core, { now: () => t });
    store.commit([
      event(6, { gone: true }, { createdAt: NOW - 7205, expiresAt: NOW - 3600 }).verified,
    ]);
    t = NOW * 1000;
    store.close();
    expect(sql(dir2, 'DELETE FROM replay')).toBe(1);
    expect(await verifyAudit(dir2, core)).toMatchObject({ ok: true });
  });

  it('fails on a stored event whose signature no longer verifies or that no longer decodes', async () => {
    const good = event(7, { ok: 1 });
    const bytes = Uint8Array.from(good.verified.encoded);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1; // the last signature byte
    const forged = brandVerified({ ...good.verified, encoded: bytes }, good.verified.idHex);
    const dir = await storeWith((store) => store.commit([forged]));
    expect(verifyAuditData(dir, core).ok).toBe(true);
    expect(await verifyAudit(dir, core)).toMatchObject({
      ok: false,
      firstBad: {
        table: 'events',
        row: 1,
        what: expect.stringMatching(/^no longer verifies: ERR_BAD_SIGNATURE/) as unknown,
      },
    });

    const other = event(8, { j: 1 }).verified;
    const junk = brandVerified({ ...other, encoded: new Uint8Array([0xa1, 0x00]) }, other.idHex);
    const dir2 = await storeWith((store) => store.commit([junk]));
    expect(await verifyAudit(dir2, core)).toMatchObject({
      ok: false,
      firstBad: {
        table: 'events',
        row: 1,
        what: expect.stringMatching(/^no longer decodes/) as unknown,
      },
    });
  });
});
