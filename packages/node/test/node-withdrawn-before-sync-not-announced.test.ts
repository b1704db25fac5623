/**
 * A client's events are announced to the sync engine only once their commit is synced
 * (storage/wal-sync.ts). A key event that invalidates one of them in between withdraws it
 * from the sync set; the announcement that follows the sync must leave it out, else the event
 * rejoins the sync set of this node alone and the nodes never reconcile (spec/SYNC.md §6.5).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, expect, it } from 'vitest';
import { type CommonsNode, initDataDir, openNode } from '../src/node.js';
import { batchOfValues, eventToJson, signEvent, toHex } from '../src/protocol/index.js';
import { inception, set, successor, type TestKey, testKey } from './identity-fixtures.js';
import { nativeCore as core, PASSPHRASE } from './node-fixtures.js';
import { heldSyncs } from './storage-fixtures.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const now = Math.floor(Date.now() / 1000);
const [a, b, c] = ['a', 'b', 'c'].map((k) => testKey(`withdrawn-before-sync/${k}`)) as [
  TestKey,
  TestKey,
  TestKey,
];
const incepted = inception({ current: set(1, a.name), next: set(1, b.name), createdAt: now - 900 });
const rotated = successor(incepted, {
  type: 'rotation',
  current: set(1, b.name),
  next: set(1, c.name),
  createdAt: now - 600,
});

function byA(createdAt: number, n: number) {
  const r = signEvent(
    core,
    {
      v: 1,
      kind: 'note',
      author: incepted.identity,
      keyState: incepted.id,
      createdAt,
      expiresAt: now + 3_600,
      nonce: core.sha256(new TextEncoder().encode(`withdrawn-before-sync/${n}`)).slice(0, 16),
      payload: { n } as never,
    },
    [a.seed],
  );
  if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
  return {
    idHex: toHex(core.sha256(r.value.body)),
    encodedHex: toHex(r.value.encoded),
    json: eventToJson(r.value.event),
  };
}

it('an event invalidated between its commit and its sync is withdrawn and never announced', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-withdrawn-'));
  dirs.push(dir);
  await initDataDir(dir, PASSPHRASE, { core, scryptN: 32_768 });
  const sync = heldSyncs();
  const node: CommonsNode = await openNode({
    dataDir: dir,
    passphrase: PASSPHRASE,
    workers: 0,
    core,
    storeSync: sync.dataSync,
  });
  try {
    const announced: string[] = [];
    const withdrawn: string[] = [];
    node.onLocallyAccepted((encoded) => {
      for (const e of encoded) announced.push(toHex(e));
    });
    node.onLocallyWithdrawn((ids) => {
      for (const id of ids) withdrawn.push(toHex(id));
    });
    await node.identities.ingestKeyEventsCbor([incepted.encoded]);
    // after the rotation (retires a) and before it: both valid until the rotation is known
    const late = byA(now - 550, 1);
    const early = byA(now - 700, 2);
    const ingest = node.ingest(batchOfValues([late.json, early.json]));
    while (sync.held.length === 0) await new Promise((r) => setTimeout(r, 5));
    // committed, its sync held: the rotation arrives and invalidates `late`
    await node.identities.ingestKeyEventsCbor([rotated.encoded]);
    expect(withdrawn).toContain(late.idHex);
    sync.release();
    const results = await ingest;
    expect(results.map((r) => r.status)).toEqual(['accepted', 'accepted']);
    expect(announced).toContain(early.encodedHex);
    expect(announced).not.toContain(late.encodedHex);
  } finally {
    while (sync.held.length > 0) sync.release();
    await node.close();
  }
});
