/**
 * Commits written without a sync (Store.commitUnsynced) become durable through one fdatasync
 * of the WAL file, off the main thread (storage/wal-sync.ts): the sync covers every commit
 * written before it began, commits that arrive meanwhile share the next one, a FULL commit
 * covers the unsynced ones before it, and a failed sync refuses every waiter and every later
 * commit.
 */
import { fstatSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { type Core, loadCore } from '@commons-sync/bindings';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DataSync, DB_FILE, StorageIoError, Store } from '../src/storage/index.js';
import { fakeEvents, type HeldSync, heldSyncs, tempDir } from './storage-fixtures.js';

let core: Core;
beforeAll(async () => {
  core = await loadCore();
});

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function open(dataSync?: DataSync): { store: Store; dir: string } {
  const t = tempDir();
  const store = Store.open(t.dir, core, dataSync === undefined ? {} : { dataSync });
  cleanups.push(t.cleanup);
  cleanups.unshift(() => store.close());
  return { store, dir: t.dir };
}

/** Whether the promise settled by the time pending callbacks ran. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('Store.commitUnsynced', () => {
  it('syncs the WAL file of the connection, and only after the commit', async () => {
    const sync = heldSyncs();
    const { store, dir } = open(sync.dataSync);
    store.commitUnsynced(fakeEvents(3));
    expect(sync.held).toHaveLength(0); // nothing syncs until someone waits for it
    expect(store.syncPending).toBe(true);
    const durable = store.synced();
    expect(sync.held).toHaveLength(1);
    const wal = statSync(join(dir, `${DB_FILE}-wal`));
    const synced = fstatSync((sync.held[0] as HeldSync).fd);
    expect([synced.dev, synced.ino]).toEqual([wal.dev, wal.ino]);
    expect(await settled(durable)).toBe(false);
    sync.release();
    await durable;
    expect(store.syncPending).toBe(false);
    expect(store.countEvents()).toBe(3);
  });

  it('commits made while a sync runs share the next one; each waiter waits for its own', async () => {
    const sync = heldSyncs();
    const { store } = open(sync.dataSync);
    store.commitUnsynced(fakeEvents(2));
    const first = store.synced();
    store.commitUnsynced(fakeEvents(2));
    const second = store.synced();
    store.commitUnsynced(fakeEvents(2));
    const third = store.synced();
    expect(sync.held).toHaveLength(1); // one sync at a time
    sync.release();
    await first;
    // the first sync began before the later commits: it does not make them durable
    expect(await settled(second)).toBe(false);
    expect(sync.held).toHaveLength(1);
    sync.release();
    await Promise.all([second, third]);
    expect(sync.held).toHaveLength(0);
    await expect(store.synced()).resolves.toBeUndefined();
  });

  it('a commit with synchronous=FULL makes the unsynced ones before it durable', async () => {
    const sync = heldSyncs();
    const { store } = open(sync.dataSync);
    store.commitUnsynced(fakeEvents(2));
    store.commit(fakeEvents(1));
    await store.synced();
    expect(sync.held).toHaveLength(0);
  });

  it('a FULL commit while a sync runs settles the waiters it covers without another sync', async () => {
    const sync = heldSyncs();
    const { store } = open(sync.dataSync);
    store.commitUnsynced(fakeEvents(1));
    const first = store.synced();
    store.commitUnsynced(fakeEvents(1));
    const second = store.synced(); // beyond what the running sync covers
    store.commit(fakeEvents(1)); // FULL: syncs the whole WAL file
    sync.release();
    await Promise.all([first, second]);
    expect(sync.held).toHaveLength(0);
    expect(store.syncPending).toBe(false);
  });

  it('settles synced() promises in the order of the calls, also after a FULL commit covered them', async () => {
    const sync = heldSyncs();
    const { store } = open(sync.dataSync);
    const order: string[] = [];
    store.commitUnsynced(fakeEvents(1));
    void store.synced().then(() => order.push('before the FULL commit'));
    store.commit(fakeEvents(1)); // everything is durable now, but the sync under way holds the waiter
    const after = store.synced().then(() => order.push('after it'));
    expect(await settled(after)).toBe(false);
    sync.release();
    await after;
    expect(order).toEqual(['before the FULL commit', 'after it']);
    expect(sync.held).toHaveLength(0);
  });

  it('leaves the connection at synchronous=FULL, after a refused commit too', () => {
    const { store } = open();
    const events = fakeEvents(2);
    store.commitUnsynced(events);
    expect(store.syncLevel).toBe(2); // FULL
    expect(() => store.commitUnsynced(events)).toThrow(); // duplicates: nothing written
    expect(store.syncLevel).toBe(2);
  });

  it('a failed sync refuses its waiters, later waiters and every later write', async () => {
    const sync = heldSyncs();
    const { store } = open(sync.dataSync);
    store.commitUnsynced(fakeEvents(2));
    const first = store.synced();
    store.commitUnsynced(fakeEvents(2));
    const second = store.synced();
    const eio = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    sync.release(eio);
    await expect(first).rejects.toBeInstanceOf(StorageIoError);
    await expect(second).rejects.toMatchObject({ code: 'ERR_STORAGE_IO' });
    await expect(store.synced()).rejects.toBeInstanceOf(StorageIoError);
    expect(() => store.commitUnsynced(fakeEvents(1))).toThrow(StorageIoError);
    expect(() => store.commit(fakeEvents(1))).toThrow(StorageIoError);
    // nor a checkpoint over entries the failed sync may have lost, nor metadata
    const seed = new Uint8Array(32).fill(3);
    const signer = {
      publicKey: core.ed25519PublicKey(seed),
      sign: (m: Uint8Array) => core.ed25519Sign(seed, m),
    };
    expect(() => store.audit.checkpoint(signer)).toThrow(StorageIoError);
    await expect(
      store.audit.checkpointAsync({ ...signer, sign: async (m) => signer.sign(m) }),
    ).rejects.toBeInstanceOf(StorageIoError);
    expect(store.audit.latestCheckpoint()).toBeUndefined();
    expect(() => store.setMeta('k', 'v')).toThrow(StorageIoError);
    expect(store.countEvents()).toBe(4);
  });

  it('closing the store syncs what is pending and settles its waiters', async () => {
    const sync = heldSyncs();
    const { store, dir } = open(sync.dataSync);
    store.commitUnsynced(fakeEvents(2));
    const running = store.synced(); // held: never released by the test
    store.commitUnsynced(fakeEvents(3));
    const later = store.synced();
    store.close();
    await Promise.all([running, later]);
    (sync.held[0] as HeldSync).done(null); // the late callback is harmless
    const reopened = Store.open(dir, core);
    expect(reopened.countEvents()).toBe(5);
    reopened.close();
  });
});
