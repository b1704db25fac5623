/**
 * A node whose data directory was lost and restored with its key starts a new audit log: its
 * next checkpoints are numbered from 1 again, signed later than those its peers hold. Peers
 * record that as a log restart (both checkpoints kept, an alert, one audit record) instead of a
 * split view, ignore the old log's checkpoints from then on, and keep checking the new one. A
 * second restart while they run is a split view (spec/SYNC.md §7.1).
 */
import { describe, expect, it } from 'vitest';

import { checkpointMessage, verifyCheckpointSignature } from '../src/audit/checkpoint.js';
import { CheckpointWatch } from '../src/net/engine/checkpoints.js';
import { checkpointOfWire } from '../src/net/node-network.js';
import type { WireCheckpoint } from '../src/net/wire/messages.js';
import { encodeMessage } from '../src/net/wire/messages.js';
import { addNode, connect, core, didOf, keySeed, pump, world } from './net-harness.js';

const seed = keySeed('restarting-node');
const node = didOf(seed);
const T0 = 1_767_225_600_000;

/** A version 2 checkpoint signed by the node. */
function cp(seq: number, treeSize: number, time: number, label = 'log'): WireCheckpoint {
  const unsigned = {
    version: 2 as const,
    seq,
    treeSize,
    root: core.sha256(new TextEncoder().encode(`${label}/${treeSize}`)),
    time,
    publicKey: core.ed25519PublicKey(seed),
    prev: core.sha256(new TextEncoder().encode(`${label}/prev/${seq}`)),
  };
  return {
    treeSize,
    root: unsigned.root,
    time,
    publicKey: unsigned.publicKey,
    signature: core.ed25519Sign(seed, checkpointMessage(unsigned)),
    seq,
    prev: unsigned.prev,
  };
}

const watch = () =>
  new CheckpointWatch(
    (c) => verifyCheckpointSignature(core, checkpointOfWire(c)),
    core.sha256,
    () => true,
    didOf(keySeed('observer')),
  );

describe('a restarted audit log', () => {
  it('is recorded once as a restart; the old log is ignored afterwards, the new one checked', () => {
    const w = watch();
    expect(w.observe(cp(5, 20, T0), T0).status).toBe('new-head');
    const restart = cp(3, 4, T0 + 1000, 'new');
    const seen = w.observe(restart, T0 + 1000);
    expect(seen).toMatchObject({ status: 'restarted', evidence: { node } });
    if (seen.status !== 'restarted') throw new Error('a restart');
    expect(seen.evidence.previous.treeSize).toBe(20);
    expect(seen.evidence.restart.treeSize).toBe(4);
    expect(w.head(node)?.treeSize).toBe(4);
    // a checkpoint of the old log, relayed late: not a split view, nothing to check any more
    expect(w.observe(cp(4, 15, T0 - 100), T0 + 1100).status).toBe('known');
    expect(w.observe(cp(5, 20, T0), T0 + 1100).status).toBe('known');
    // the new log goes on as any log: a larger checkpoint waits for its proof
    expect(w.observe(cp(4, 9, T0 + 2000, 'new'), T0 + 2000).status).toBe('pending');
    // two different roots for one size of the new log are still a split view
    expect(w.observe(cp(3, 4, T0 + 1500, 'forged'), T0 + 2500)).toMatchObject({
      status: 'split-view',
      evidence: { reason: 'same-size-different-roots' },
    });
    expect(w.evidence).toHaveLength(1);
  });

  it('a second restart while the observer runs is a split view', () => {
    const w = watch();
    w.observe(cp(5, 20, T0), T0);
    expect(w.observe(cp(3, 4, T0 + 1000, 'new'), T0 + 1000).status).toBe('restarted');
    expect(w.observe(cp(2, 2, T0 + 5000, 'newer'), T0 + 5000)).toMatchObject({
      status: 'split-view',
      evidence: { reason: 'restarted-again' },
    });
  });

  it('needs a later time: a lower number signed earlier is just an older checkpoint', () => {
    const w = watch();
    w.observe(cp(5, 20, T0), T0);
    expect(w.observe(cp(3, 12, T0 - 1000), T0).status).toBe('pending');
  });

  it('the engine raises an alert and writes one audit record, and keeps the peer', () => {
    const w = world();
    const a = addNode(w, 'observer');
    const x = addNode(w, 'restarting-node');
    connect(w, a, x);
    const send = (c: WireCheckpoint) => {
      a.engine.received(x.did, encodeMessage({ type: 'checkpoint', checkpoint: c }), w.now);
      pump(w);
    };
    send(cp(5, 20, T0));
    send(cp(1, 0, T0 + 10, 'new'));
    send(cp(2, 3, T0 + 20, 'new'));
    const alerts = a.actions.filter((z) => z.type === 'alert');
    expect(alerts).toMatchObject([{ alert: { kind: 'log-restart' } }]);
    const audits = a.actions.filter((z) => z.type === 'audit');
    expect(audits).toMatchObject([{ record: { kind: 'log-restart' } }]);
    expect(a.engine.isBanned(x.did, w.now)).toBe(false);
    expect(a.engine.peerViews().map((v) => v.peer)).toEqual([x.did]);
    expect(a.engine.splitViews()).toEqual([]);
  });
});
