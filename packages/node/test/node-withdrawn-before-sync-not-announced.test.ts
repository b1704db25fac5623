/**
 * A client's events are announced to the sync engine only once their commit is synced
 * (storage/wal-sync.ts). A key event that invalidates one of them in between withdraws it
 * from the sync set; the announcement that follows the sync must leave it out, else the event
 * rejoins the sync set of this node alone and the nodes never reconcile (spec/SYNC.md §6.5).
 */
import { expect, it } from 'vitest';
import { batchOfValues, decodeEvent, toHex } from '../src/protocol/index.js';
import { core, inception, set, successor } from './identity-fixtures.js';
import { identityEvent, startIdentityNode } from './identity-node-fixtures.js';
import { heldSyncs } from './storage-fixtures.js';

const now = Math.floor(Date.now() / 1000);
const [a, b, c] = ['a', 'b', 'c'].map((k) => set(1, `withdrawn-before-sync/${k}`)) as [
  ReturnType<typeof set>,
  ReturnType<typeof set>,
  ReturnType<typeof set>,
];
const incepted = inception({ current: a, next: b, createdAt: now - 900 });
const rotated = successor(incepted, {
  type: 'rotation',
  current: b,
  next: c,
  createdAt: now - 600,
});

/** The id of an announced event (SHA-256 of its body); undefined for a key event. */
function eventIdOf(encoded: Uint8Array): string | undefined {
  const decoded = decodeEvent(encoded);
  return decoded.ok ? toHex(core.sha256(decoded.value.body)) : undefined;
}

it('an event invalidated between its commit and its sync is withdrawn and never announced', async () => {
  const sync = heldSyncs();
  const n = await startIdentityNode(now, { storeSync: sync.dataSync, http: false, workers: 0 });
  try {
    const announced: string[] = [];
    const withdrawn: string[] = [];
    n.node.onLocallyAccepted((encoded) => {
      for (const e of encoded) {
        const id = eventIdOf(e);
        if (id !== undefined) announced.push(id);
      }
    });
    n.node.onLocallyWithdrawn((ids) => {
      for (const id of ids) withdrawn.push(toHex(id));
    });
    await n.node.identities.ingestKeyEventsCbor([incepted.encoded]);
    // after the rotation (retires a) and before it: both valid until the rotation is known
    const ingest = n.node.ingest(
      batchOfValues([
        identityEvent(incepted, now - 550, a.keys, { label: 'late' }),
        identityEvent(incepted, now - 700, a.keys, { label: 'early' }),
      ]),
    );
    while (sync.held.length === 0) await new Promise((r) => setTimeout(r, 5));
    // committed, its sync held: the rotation arrives and invalidates the late one
    await n.node.identities.ingestKeyEventsCbor([rotated.encoded]);
    expect(withdrawn).toHaveLength(1);
    sync.release();
    const results = await ingest;
    expect(results.map((r) => r.status)).toEqual(['accepted', 'accepted']);
    const [late, early] = results.map((r) => String(r.id));
    expect(withdrawn).toEqual([late]);
    expect(announced).toContain(early);
    expect(announced).not.toContain(late);
  } finally {
    while (sync.held.length > 0) sync.release();
    await n.close();
    n.remove();
  }
});
