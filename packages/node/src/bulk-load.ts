/**
 * Builds a NEW store in bulk from events its caller made and signed itself (the ingest bench's
 * ten-million-event store): the rows are written by the node's own storage code, the call the
 * pipeline's commit block makes (`Store.commit` of one batch of accepted events), with the
 * checkpoints the node signs (one when it opens, one after a batch once the log grew by
 * `checkpointEvery` entries, one when it closes), so the store holds what ingest of the same
 * batches at the same clock would have written, row for row.
 *
 * What it skips is HTTP, the JSON reader and signature verification: the events are branded
 * verified on the caller's word. That is why it only ever builds a store from nothing (a data
 * directory just initialized, whose audit log is empty: {@link BulkLoadTargetError}), never adds
 * to a node's data; and why its commits are not synchronous (`unsynchronized`): a crash while
 * it runs leaves a store to throw away, and the database is flushed to disk once at the end.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { join } from 'node:path';

import { type Core, loadCore } from '@commons-sync/bindings';
import { CommonsSyncError, NoDataDirError } from './errors.js';
import { fixedSecrets, type Keystore, type Signer } from './keys/keystore.js';
import { openNodeSigner, readNodeIdentity } from './keys/node-identity.js';
import { openNode } from './node.js';
import { brandVerified } from './pipeline/verified.js';
import type { VerifiedEventFields } from './protocol/index.js';
import { DB_FILE, Store } from './storage/index.js';

/** The data directory is not a new one: bulk loading builds stores from nothing only. */
export class BulkLoadTargetError extends CommonsSyncError {
  static readonly code = 'ERR_BULK_LOAD_NOT_NEW';
  constructor(message: string) {
    super(BulkLoadTargetError.code, message);
  }
}

/** A batch the loader cannot take (empty, too large, or appended after close). */
export class BulkLoadBatchError extends CommonsSyncError {
  static readonly code = 'ERR_BULK_LOAD_BATCH';
  constructor(message: string) {
    super(BulkLoadBatchError.code, message);
  }
}

/** The node's largest batch (spec: `POST /v1/events` takes at most this many events). */
const MAX_BATCH = 1000;

export interface BulkLoadOptions {
  /** A data directory made by `initDataDir` and never opened by a node. */
  readonly dataDir: string;
  readonly passphrase: string;
  /** The node's clock, Unix milliseconds (default `Date.now`): received_at and entry times. */
  readonly now?: () => number;
  /** Checkpoint once the log grew by this many entries (default: the node's 10,000). */
  readonly checkpointEvery?: number;
  readonly core?: Core;
}

/** One event, as the caller made it: the fields the pipeline stores of a verified event. */
export type BulkEvent = Omit<VerifiedEventFields, 'idHex'>;

export class BulkLoader {
  #open = true;
  #coveredSize: number;

  private constructor(
    private readonly store: Store,
    private readonly keystore: Keystore,
    private readonly signer: Signer,
    private readonly checkpointEvery: number,
    private readonly dataDir: string,
  ) {
    this.#coveredSize = this.#covered();
  }

  /**
   * Opens a new data directory for bulk loading. The node opens it first, as it would before
   * its first request (its opening checkpoint), so the loader continues from there.
   */
  static async open(opts: BulkLoadOptions): Promise<BulkLoader> {
    const core = opts.core ?? (await loadCore());
    const now = opts.now ?? Date.now;
    if ((await readNodeIdentity(opts.dataDir)) === undefined)
      throw new NoDataDirError(`${opts.dataDir} has no node identity; initialize it first`);
    const probe = Store.open(opts.dataDir, core, { now });
    try {
      if (probe.audit.size !== 0 || probe.countEvents() !== 0)
        throw new BulkLoadTargetError(
          `${opts.dataDir} already holds ${probe.countEvents()} events and ${probe.audit.size} audit entries; bulk loading builds a new store only`,
        );
    } finally {
      probe.close();
    }
    const checkpointEvery = opts.checkpointEvery ?? 10_000;
    const node = await openNode({
      dataDir: opts.dataDir,
      passphrase: opts.passphrase,
      now,
      core,
      checkpointEvery,
      checkpointIntervalMs: 24 * 3600 * 1000,
    });
    await node.close();
    const { keystore, signer } = await openNodeSigner(opts.dataDir, undefined, {
      core,
      secrets: fixedSecrets({ passphrase: opts.passphrase }),
    });
    let store: Store;
    try {
      store = Store.open(opts.dataDir, core, { now, unsynchronized: true });
    } catch (error) {
      await keystore.close();
      throw error;
    }
    return new BulkLoader(store, keystore, signer, checkpointEvery, opts.dataDir);
  }

  /** Events stored so far. */
  get count(): number {
    return this.store.countEvents();
  }

  /**
   * Stores one batch as the pipeline's commit block stores a batch whose events were all
   * accepted, then signs a checkpoint if one is due (as the node does after each request).
   * The store's own rules still hold: an id already stored or a live (author, nonce) pair
   * throws its typed error and writes nothing.
   */
  async append(batch: readonly BulkEvent[]): Promise<void> {
    if (!this.#open) throw new BulkLoadBatchError('the bulk loader is closed');
    if (batch.length === 0 || batch.length > MAX_BATCH)
      throw new BulkLoadBatchError(`a batch has 1 to ${MAX_BATCH} events, not ${batch.length}`);
    const events = batch.map((e) => brandVerified(e, Buffer.from(e.id).toString('hex')));
    this.store.commit(events, []);
    await this.#maybeCheckpoint(this.checkpointEvery);
  }

  /** The node's closing checkpoint, then the database flushed to disk and closed. */
  async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    try {
      await this.#maybeCheckpoint(1);
    } finally {
      this.store.close();
      await this.keystore.close();
    }
    // the commits were not synchronous: make the database durable once, now
    const fd = openSync(join(this.dataDir, DB_FILE), 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** The entries the latest checkpoint covers, its own entry included (node.ts's rule). */
  #covered(): number {
    const latest = this.store.audit.latestCheckpoint();
    return latest === undefined ? -1 : latest.treeSize + (latest.version === 2 ? 1 : 0);
  }

  async #maybeCheckpoint(growth: number): Promise<void> {
    if (this.store.audit.size - this.#coveredSize < growth) return;
    await this.store.audit.checkpointAsync(this.signer);
    this.#coveredSize = this.#covered();
  }
}
