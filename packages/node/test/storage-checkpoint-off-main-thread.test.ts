/**
 * The WAL checkpoint on a thread of its own (storage/checkpointer.ts): rounds run on another
 * thread and catch up, so the WAL restarts and stays bounded even with the main connection's
 * backstop out of reach; what was committed survives; a failed round (the real thread on a
 * database it cannot open, a thread that dies, SQLite's I/O error) becomes a typed storage
 * error that refuses every later write and every waiter, never a crash; stopping waits for
 * the round under way.
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';

import { type Core, loadCore } from '@commons-sync/bindings';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Checkpointer, type RoundResult } from '../src/storage/checkpointer.js';
import { type CheckpointerOptions, DB_FILE, StorageIoError, Store } from '../src/storage/index.js';
import { fakeEvents, tempDir } from './storage-fixtures.js';

let core: Core;
beforeAll(async () => {
  core = await loadCore();
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function open(backgroundCheckpoint: CheckpointerOptions): { store: Store; dir: string } {
  const t = tempDir('cs-ckpt-');
  const store = Store.open(t.dir, core, { backgroundCheckpoint });
  cleanups.push(async () => {
    await store.stopCheckpointer().catch(() => undefined);
    store.close();
    t.cleanup();
  });
  return { store, dir: t.dir };
}

const PAGE = 4096;
const walBytes = (dir: string): number => statSync(join(dir, `${DB_FILE}-wal`)).size;

/** A round result as the thread gives it. */
function result(extra: Partial<RoundResult> = {}): RoundResult {
  return {
    threadId: 1,
    passes: 1,
    walFrames: 10,
    copiedFrames: 10,
    caughtUp: true,
    busy: false,
    ms: 1,
    ...extra,
  };
}

describe('the checkpoint thread', () => {
  it('copies the WAL off the main thread, catches up, and the WAL restarts: bounded without the backstop', async () => {
    // the backstop (the main connection's own checkpoint) is out of reach: only rounds copy
    const threshold = 64;
    const { store, dir } = open({ thresholdPages: threshold, backstopPages: 1_000_000 });
    const ids: string[] = [];
    let maxWal = 0;
    for (let i = 0; i < 300; i++) {
      const events = fakeEvents(100);
      store.commitUnsynced(events);
      await store.synced(); // the node acknowledges here
      for (const e of events) ids.push(e.idHex);
      maxWal = Math.max(maxWal, walBytes(dir));
      // paced: the round started by this commit ends before the next commit, as on a node
      // that is not saturated (the benchmark measures the saturated case)
      while (store.checkpointStats?.running === true) await new Promise((r) => setTimeout(r, 2));
    }
    const stats = store.checkpointStats;
    if (stats === undefined) throw new Error('the store has no checkpoint thread');
    expect(stats.rounds).toBeGreaterThan(10);
    expect(stats.caughtUp).toBe(stats.rounds);
    expect([...stats.threads].every((t) => t !== threadId)).toBe(true);
    // a 100-event commit writes at most a few hundred frames: the WAL restarts after each round
    expect(stats.maxWalFrames).toBeLessThan(threshold + 600);
    expect(maxWal).toBeLessThan((threshold + 600) * PAGE);
    // every page of the database file went through the WAL, and only rounds copied it back
    expect(statSync(join(dir, DB_FILE)).size).toBeGreaterThan(10 * maxWal);
    for (const id of ids.slice(-1000)) expect(store.getEvent(id)?.idHex).toBe(id);
  });

  it('stopping waits for the round under way, and no round starts after it', async () => {
    let release: (r: RoundResult) => void = () => undefined;
    let started = 0;
    const runRound = () => {
      started += 1;
      return new Promise<RoundResult>((r) => {
        release = r;
      });
    };
    const { store } = open({ thresholdPages: 1, backstopPages: 1_000_000, runRound });
    store.commitUnsynced(fakeEvents(20));
    expect(started).toBe(1);
    store.commitUnsynced(fakeEvents(20));
    expect(started).toBe(1); // one round at a time
    let stopped = false;
    const stopping = store.stopCheckpointer().then(() => {
      stopped = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(stopped).toBe(false);
    release(result());
    await stopping;
    store.commitUnsynced(fakeEvents(20));
    expect(started).toBe(1);
  });

  it('stops while the real thread checkpoints, and everything committed is there after', async () => {
    const t = tempDir('cs-ckpt-');
    cleanups.push(t.cleanup);
    let store = Store.open(t.dir, core, {
      backgroundCheckpoint: { thresholdPages: 16, backstopPages: 1_000_000 },
    });
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const events = fakeEvents(200);
      store.commitUnsynced(events);
      for (const e of events) ids.push(e.idHex);
    }
    // right after a commit a round runs: the one this commit started, or an earlier one
    expect(store.checkpointStats?.running).toBe(true);
    await store.stopCheckpointer();
    expect(store.checkpointStats?.running).toBe(false);
    await store.synced();
    store.close();
    store = Store.open(t.dir, core);
    cleanups.unshift(() => store.close());
    expect(store.countEvents()).toBe(ids.length);
    for (const id of ids.slice(0, 500)) expect(store.getEvent(id)?.idHex).toBe(id);
  });
});

describe('a failed round', () => {
  const failures: [string, CheckpointerOptions['runRound']][] = [
    ['the thread died', () => Promise.reject(new Error('worker terminated'))],
    [
      'SQLite failed to sync the database file',
      () =>
        Promise.resolve(
          result({
            caughtUp: false,
            error: { code: 'SQLITE_IOERR_FSYNC', message: 'disk I/O error' },
          }),
        ),
    ],
  ];
  for (const [what, runRound] of failures) {
    it(`(${what}) refuses every later write and waiter with a typed error`, async () => {
      const { store } = open({
        thresholdPages: 1,
        backstopPages: 1_000_000,
        ...(runRound === undefined ? {} : { runRound }),
      });
      store.commitUnsynced(fakeEvents(5)); // starts the failing round
      const waiting = store.synced().then(
        () => 'synced',
        (e: unknown) => e,
      );
      await new Promise((r) => setTimeout(r, 20));
      const failure = store.writeFailure;
      expect(failure).toBeInstanceOf(StorageIoError);
      expect(failure?.code).toBe('ERR_STORAGE_IO');
      expect(failure?.message).toMatch(/background WAL checkpoint/);
      // the waiter was either made durable before the failure or refused with it
      const waited = await waiting;
      expect(waited === 'synced' || waited === failure).toBe(true);
      expect(() => store.commitUnsynced(fakeEvents(1))).toThrow(StorageIoError);
      expect(() => store.setMeta('k', 'v')).toThrow(StorageIoError);
      await expect(store.synced()).rejects.toBe(failure);
    });
  }

  it('of the real thread (a database it cannot open) is a typed error, not a crash', async () => {
    const t = tempDir('cs-ckpt-');
    cleanups.push(t.cleanup);
    const failures: StorageIoError[] = [];
    const checkpointer = new Checkpointer(
      join(t.dir, 'missing.db'),
      { thresholdPages: 1, backstopPages: 2 },
      (f) => failures.push(f),
    );
    cleanups.unshift(() => checkpointer.stop());
    // a WAL index saying one frame waits, so that a round starts
    const index = Buffer.alloc(136);
    index.writeUInt32LE(5, 16);
    writeFileSync(join(t.dir, 'missing.db-shm'), index);
    checkpointer.afterCommit();
    expect(checkpointer.running).toBe(true);
    while (checkpointer.running) await new Promise((r) => setTimeout(r, 10));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(StorageIoError);
    expect(failures[0]?.message).toMatch(/SQLITE_CANTOPEN/);
    checkpointer.afterCommit();
    expect(checkpointer.running).toBe(false); // final: no round after a failure
  });
});
