/**
 * Fills a data directory with N events for the held-at-scale measurement (`--store-size N`).
 *
 * It writes exactly what ingest writes because it IS ingest, less the socket: the node is
 * opened in this process (`openNode`, default settings but a clock the loader may fix) and each
 * batch's JSON body goes through `NodeService.ingest`, the call `POST /v1/events` makes, after
 * the same structural split of the body. So every row (events, replay records, audit entries
 * and tree nodes, checkpoints) is the node's own; `test/store-fill.test.ts` compares a filled
 * store with one built over HTTP, row by row, and runs `audit verify` on it.
 *
 * What it saves over HTTP is the client and the socket; the storage cost is the node's (a
 * commit per batch of 1,000, synchronous=FULL).
 */
import { initDataDir, openNode, protocol } from '@commons-sync/node';

import type { EventFactory } from './events.js';
import { BENCH_PASSPHRASE } from './node-process.js';

export interface FillOptions {
  /** Events per batch (default 1,000, the node's default batch). */
  readonly batch?: number;
  /** Unix milliseconds for the node's clock (default `Date.now`). */
  readonly now?: () => number;
  /** Event index of the first event (a factory's events are numbered). */
  readonly first?: number;
  /** Checkpoint every this many entries (default: the node's 10,000). */
  readonly checkpointEvery?: number;
  /** Called after every batch with the events stored so far. */
  readonly progress?: (stored: number) => void;
}

/** Initializes `dir` (if needed) and stores events `[first, first + count)` of `factory`. */
export async function fillStore(
  dir: string,
  factory: EventFactory,
  count: number,
  opts: FillOptions = {},
): Promise<void> {
  await initDataDir(dir, BENCH_PASSPHRASE);
  const now = opts.now ?? Date.now;
  const node = await openNode({
    dataDir: dir,
    passphrase: BENCH_PASSPHRASE,
    now,
    // timed checkpoints would depend on how fast this machine is; size-triggered ones do not
    checkpointIntervalMs: 24 * 3600 * 1000,
    ...(opts.checkpointEvery === undefined ? {} : { checkpointEvery: opts.checkpointEvery }),
  });
  const size = opts.batch ?? 1000;
  const first = opts.first ?? 0;
  try {
    // one batch in preparation while the node commits the one before
    let pending: Promise<unknown> = Promise.resolve();
    for (let done = 0; done < count; done += size) {
      const n = Math.min(size, count - done);
      const { body } = factory.batch(first + done, n, Math.floor(now() / 1000));
      await pending;
      const split = protocol.splitEventBody(body, n);
      if (!split.ok) throw new Error(`the loader made a bad body: ${split.detail}`);
      pending = node.ingest(split.batch).then((results) => {
        const bad = results.find((r) => r.status !== 'accepted');
        if (bad !== undefined)
          throw new Error(`the loader's event was not accepted: ${JSON.stringify(bad)}`);
        opts.progress?.(done + n);
      });
    }
    await pending;
  } finally {
    await node.close();
  }
}
