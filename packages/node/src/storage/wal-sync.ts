/**
 * Durability of commits written without a sync (`Store.commitUnsynced`): one fdatasync of the
 * WAL file, on libuv's thread pool, makes every commit written before it began durable.
 *
 * Why: with `synchronous=FULL` SQLite syncs the WAL inside COMMIT, and the node's main thread
 * waits for the disk (3.6 ms per commit here, about a tenth of its time under load) while it
 * could judge the next batch. A commit written with `synchronous=NORMAL` is complete and
 * consistent in the WAL (SQLite's own guarantee: a power loss can roll back the last commits,
 * never corrupt); the sync that makes it durable can happen on another thread, and the
 * requests it answers are acknowledged only once that sync returned. Commits that arrive
 * while a sync is running share the next one.
 *
 * A failed sync is final: after an fsync error Linux may have dropped the dirty pages and
 * report success to a later fsync ("fsyncgate"), so nothing written since the last good sync
 * can ever be called durable. Every waiter is refused and so is every later write of the store
 * (commits, checkpoints, metadata: `Store.writeFailure`), until the node restarts and reads
 * what the disk really holds.
 */
import { closeSync, fdatasync, fdatasyncSync, openSync } from 'node:fs';

import { StorageIoError } from './errors.js';

/** Syncs a file's data (fs.fdatasync's shape; tests inject failures). */
export type DataSync = (
  fd: number,
  callback: (error: NodeJS.ErrnoException | null) => void,
) => void;

interface Waiter {
  /** The write generation that must be durable. */
  readonly target: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class WalSync {
  readonly #path: string;
  readonly #dataSync: DataSync;
  #fd: number | undefined;
  /** Commits written without a sync so far. */
  #written = 0;
  /** Every commit up to this generation is on disk. */
  #durable = 0;
  #running = false;
  /** The store closed while a sync ran: the file closes when it returns. */
  #closeWhenDone = false;
  #waiters: Waiter[] = [];
  #failure: StorageIoError | undefined;

  /** `walPath`: the database's `-wal` file, which lives as long as the store's connection. */
  constructor(walPath: string, dataSync: DataSync = fdatasync) {
    this.#path = walPath;
    this.#dataSync = dataSync;
  }

  /** The error of a failed sync, once one failed: the store writes nothing more. */
  get failure(): StorageIoError | undefined {
    return this.#failure;
  }

  /** Whether commits are waiting for a sync. */
  get pending(): boolean {
    return this.#durable < this.#written;
  }

  /** A commit was written without a sync. */
  written(): void {
    this.#written += 1;
  }

  /** Every commit written without a sync was made durable by a synchronous one (FULL). */
  syncedInline(): void {
    this.#durable = this.#written;
  }

  /**
   * Resolves once every commit written so far is durable; rejects with a StorageIoError if a
   * sync failed (now or earlier). The promises settle in the order of the calls: after a FULL
   * commit made everything durable, a call still waits for the earlier waiters (settled when
   * the sync under way returns), so that what a caller does then comes after what they do
   * (the node relies on it: node.ts `withdraw`).
   */
  synced(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#durable >= this.#written && this.#waiters.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ target: this.#written, resolve, reject });
      this.#start();
    });
  }

  /**
   * The store is closing: syncs what is pending here and now (settling every waiter) and
   * closes the file, at once or when a sync under way returns.
   */
  close(): void {
    if (this.#failure === undefined && this.#durable < this.#written) {
      try {
        this.#fd ??= openSync(this.#path, 'r');
        fdatasyncSync(this.#fd);
        this.#durable = this.#written;
        const waiters = this.#waiters;
        this.#waiters = [];
        for (const w of waiters) w.resolve();
      } catch (error) {
        this.#fail(error);
      }
    }
    if (this.#running) this.#closeWhenDone = true;
    else this.#closeFile();
  }

  #closeFile(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  #start(): void {
    if (this.#running || this.#closeWhenDone || this.#waiters.length === 0) return;
    let fd: number;
    try {
      // opened once: SQLite keeps the -wal file (and its inode) while a connection is open
      this.#fd ??= openSync(this.#path, 'r');
      fd = this.#fd;
    } catch (error) {
      this.#fail(error);
      return;
    }
    this.#running = true;
    const covers = this.#written;
    this.#dataSync(fd, (error) => {
      this.#running = false;
      if (this.#closeWhenDone) {
        this.#closeFile();
        return; // close() settled every waiter
      }
      if (error !== null) {
        this.#fail(error);
        return;
      }
      // a FULL commit meanwhile (syncedInline) may have covered later waiters too
      this.#durable = Math.max(this.#durable, covers);
      const still: Waiter[] = [];
      for (const w of this.#waiters) {
        if (w.target <= this.#durable) w.resolve();
        else still.push(w);
      }
      this.#waiters = still;
      this.#start();
    });
  }

  /**
   * Another part of the store failed in a way that leaves the disk in doubt (the background
   * checkpoint, checkpointer.ts): the same as a failed sync, final, every waiter refused.
   */
  fail(failure: StorageIoError): void {
    this.#failure ??= failure;
    this.#rejectWaiters();
  }

  #fail(error: unknown): void {
    this.#failure ??= new StorageIoError(
      `syncing ${this.#path} failed: commits since the last sync may be lost; restart the node`,
      { cause: error },
    );
    this.#rejectWaiters();
  }

  #rejectWaiters(): void {
    const failure = this.#failure;
    if (failure === undefined) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(failure);
  }
}
