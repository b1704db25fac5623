/**
 * The engines the store-engines bench compares, behind one shape: open a directory, commit a
 * batch of accepted events durably (the judge's lookup first), close.
 *
 * - `sqlite`: the node's own `Store` (packages/node storage/store.ts) as the node opens it:
 *   WAL, synchronous=FULL, one `Store.commit` per batch, after the judge's lookup
 *   (`findReplays`, what the pipeline asks before it commits; it never calls `findIds`).
 * - `lmdb-sync`, `lmdb-async`: {@link LmdbEventStore} in its two durable modes;
 *   `lmdb-sync-part`, `lmdb-async-part`: the same with the node's partitioned keys.
 * - `none`: the commit's hashing and row building only (`LmdbEventStore.computeOnly`).
 */
import { closeSync, fsyncSync, openSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import type { Core } from '@commons-sync/bindings';
import { brandVerified } from '@commons-sync/node/dist/pipeline/verified.js';
import type { VerifiedEvent } from '@commons-sync/node/dist/protocol/index.js';
import { Store } from '@commons-sync/node/dist/storage/index.js';
import { type EngineEvent, LmdbEventStore, StoreConflictError } from './lmdb-store.js';
import type { EngineName } from './names.js';

export { ENGINES, type EngineName, GUARANTEES } from './names.js';

/** An event as the pipeline hands it to the commit (branded once, before any clock). */
export type BenchEvent = VerifiedEvent & EngineEvent;

export function toBenchEvents(events: readonly Omit<EngineEvent, never>[]): BenchEvent[] {
  return events.map((e) => brandVerified(e, Buffer.from(e.id).toString('hex')));
}

export interface Engine {
  readonly name: EngineName;
  /** Stores one batch durably (per the engine's guarantee); throws if an id or pair is taken. */
  commit(events: readonly BenchEvent[]): Promise<void>;
  readonly count: number;
  close(): Promise<void>;
}

class SqliteEngine implements Engine {
  readonly name = 'sqlite';
  constructor(readonly store: Store) {}

  get count(): number {
    return this.store.countEvents();
  }

  async commit(events: readonly BenchEvent[]): Promise<void> {
    // the judge's lookup (pipeline.ts step 5: the replay records of the batch's pairs; a
    // stored id is found there too, its event having the same author and nonce), then the
    // store's own check and the rows in Store.commit
    const replays = this.store.findReplays(events);
    if (replays.size > 0)
      throw new StoreConflictError(`sqlite: ${replays.size} (author, nonce) pairs are taken`);
    this.store.commit(events, []);
  }

  async close(): Promise<void> {
    this.store.close();
  }
}

class LmdbEngine implements Engine {
  constructor(
    readonly name: EngineName,
    readonly store: LmdbEventStore,
  ) {}

  get count(): number {
    return this.store.count;
  }

  async commit(events: readonly BenchEvent[]): Promise<void> {
    if (this.name === 'none') this.store.computeOnly(events);
    else if (this.store.mode === 'async') await this.store.commitAsync(events);
    else this.store.commit(events);
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}

export interface OpenEngineOptions {
  readonly now?: () => number;
  /** Commits without fsync: for filling a store before the measurement only. */
  readonly unsynced?: boolean;
}

/** Opens engine `name` over directory `dir` (created if needed). */
export function openEngine(
  name: EngineName,
  dir: string,
  core: Core,
  options: OpenEngineOptions = {},
): Engine {
  const now = options.now ?? Date.now;
  if (name === 'sqlite')
    return new SqliteEngine(
      Store.open(dir, core, {
        now,
        ...(options.unsynced === true ? { unsynchronized: true } : {}),
      }),
    );
  const mode =
    options.unsynced === true || name === 'none'
      ? 'unsynced'
      : name.startsWith('lmdb-sync')
        ? 'sync'
        : 'async';
  const partitioned = name.endsWith('-part');
  return new LmdbEngine(name, LmdbEventStore.open(dir, core, mode, { now, partitioned }));
}

/** Bytes the files of `dir` take on disk (allocated blocks: sparse files count what they hold). */
export function bytesOnDisk(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += bytesOnDisk(path);
    else if (entry.isFile()) total += statSync(path).blocks * 512;
  }
  return total;
}

/**
 * Flushes every file of `dir` to disk: after an unsynced fill, so that writing back the
 * fill's dirty pages is not charged to the first measured commits.
 */
export function fsyncFiles(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) fsyncFiles(path);
    else if (entry.isFile()) {
      const fd = openSync(path, 'r+');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }
}
