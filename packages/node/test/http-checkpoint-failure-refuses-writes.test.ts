/**
 * Through the real API server: a failed round of the checkpoint thread (storage/checkpointer.ts)
 * is final, as a failed WAL sync is: the requests it leaves in doubt and every later write fail
 * (the store's `ERR_STORAGE_IO`, a 500 over HTTP), never an acknowledgment and never a crash; the node still answers
 * and closes cleanly. And a failed WAL sync stops the checkpoint thread: no round starts
 * after it.
 */
import { loadCore } from '@commons-sync/bindings';
import { expect, it } from 'vitest';

import type { RoundResult, RoundTask } from '../src/storage/checkpointer.js';
import {
  arrayBody,
  fillerFactory,
  nodesClosedAfterEach,
  postBody,
  startHttpNode,
} from './http-fixtures.js';
import { heldSyncs } from './storage-fixtures.js';

const core = await loadCore();
const nodes = nodesClosedAfterEach();

it('a failed checkpoint round fails every later write, not a crash', async () => {
  const rounds: RoundTask[] = [];
  const runRound = async (task: RoundTask): Promise<RoundResult> => {
    rounds.push(task);
    return {
      threadId: 1,
      passes: 1,
      walFrames: 100,
      copiedFrames: 0,
      caughtUp: false,
      busy: false,
      ms: 1,
      error: { code: 'SQLITE_IOERR_WRITE', message: 'disk I/O error' },
    };
  };
  const node = await startHttpNode(core, {
    walCheckpoint: { thresholdPages: 1, backstopPages: 1_000_000, runRound },
  });
  nodes.push(node);
  const events = fillerFactory(core, 'ckpt-fail');
  const now = Math.floor(Date.now() / 1000);
  // the commit starts the failing round, which returns before the commit's WAL sync
  const first = await postBody(node.url, arrayBody([events.event(now)]));
  expect(rounds.length).toBe(1);
  expect(first).toMatchObject({ status: 500 });
  for (let i = 0; i < 3; i++) {
    const later = await postBody(node.url, arrayBody([events.event(now)]));
    // the store's ERR_STORAGE_IO; the API answers a storage failure as an internal error
    expect(later).toMatchObject({ status: 500 });
  }
  expect(rounds.length).toBe(1); // final: no round after it
  const health = await fetch(`${node.url}/healthz`);
  await health.arrayBuffer();
  expect(health.status).toBeGreaterThan(0); // the process still answers
});

it('a failed WAL sync stops the checkpoint thread: no round starts after it', async () => {
  const syncs = heldSyncs();
  let rounds = 0;
  const runRound = async (): Promise<RoundResult> => {
    rounds += 1;
    return {
      threadId: 1,
      passes: 1,
      walFrames: 1,
      copiedFrames: 1,
      caughtUp: true,
      busy: false,
      ms: 1,
    };
  };
  const node = await startHttpNode(core, {
    storeSync: syncs.dataSync,
    walCheckpoint: { thresholdPages: 1, backstopPages: 1_000_000, runRound },
  });
  nodes.push(node);
  const events = fillerFactory(core, 'sync-fail');
  const now = Math.floor(Date.now() / 1000);
  const post = postBody(node.url, arrayBody([events.event(now)]));
  for (let i = 0; i < 500 && syncs.count === 0; i++) await new Promise((r) => setTimeout(r, 10));
  syncs.release(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
  expect(await post).toMatchObject({ status: 500 });
  const before = rounds;
  expect(before).toBeGreaterThan(0); // the commit had started one
  for (let i = 0; i < 3; i++)
    expect(await postBody(node.url, arrayBody([events.event(now)]))).toMatchObject({ status: 500 });
  expect(rounds).toBe(before);
});
