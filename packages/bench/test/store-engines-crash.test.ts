// Crash-ish: a process commits 1,000-event batches and is killed (SIGKILL) right after it
// acknowledged some of them; a store opened afresh holds every acknowledged batch, whole
// batches only (a batch is one transaction), an audit entry per event, and rebuilds its audit
// tree from what is on disk. A killed process leaves the page cache intact, so this shows
// atomicity and what was committed, not survival of a power cut (that rests on the fsyncs each
// engine's guarantee names: src/store-engines/names.ts).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { type Core, loadCore } from '@commons-sync/bindings';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EventFactory } from '../src/ingest/events.js';
import { openEngine, toBenchEvents } from '../src/store-engines/engines.js';
import { LmdbEventStore } from '../src/store-engines/lmdb-store.js';

const NOW_SEC = Math.floor(Date.now() / 1000);
const ACKNOWLEDGED = 3000;

let core: Core;
let root: string;

beforeAll(async () => {
  core = await loadCore();
  root = mkdtempSync(join(tmpdir(), 'cs-store-engines-crash-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs the child until it acknowledged `ACKNOWLEDGED` events, kills it, returns what it said. */
async function commitThenKill(dir: string, engine: string): Promise<number> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/store-engines-commit-child.ts', dir, engine, String(NOW_SEC)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let acknowledged = 0;
  for await (const line of createInterface({ input: child.stdout })) {
    acknowledged = Number(line.replace('committed ', ''));
    if (acknowledged >= ACKNOWLEDGED) {
      child.kill('SIGKILL');
      break;
    }
  }
  await exited;
  if (acknowledged < ACKNOWLEDGED) throw new Error(`the child stopped early: ${stderr}`);
  return acknowledged;
}

describe('a committed batch is there after the writing process was killed', () => {
  for (const engine of ['lmdb-sync', 'lmdb-async', 'lmdb-async-part'] as const) {
    it(`${engine}: every acknowledged batch, whole batches only, the audit tree rebuilt`, async () => {
      const dir = join(root, engine);
      const acknowledged = await commitThenKill(dir, engine);
      const factory = new EventFactory(core, 'store-engines-crash');
      const store = LmdbEventStore.open(dir, core, 'sync', {
        partitioned: engine.endsWith('-part'),
      });
      try {
        expect(store.count).toBeGreaterThanOrEqual(acknowledged);
        expect(store.count % 1000).toBe(0);
        expect(store.auditSize).toBe(store.count);
        const events = factory.bulkEvents(0, acknowledged, NOW_SEC);
        events.forEach((e, i) => {
          if (store.seqOf(e.id) !== i + 1) throw new Error(`event ${i} is not at seq ${i + 1}`);
        });
        const rows = [...store.eventRows()];
        expect(rows).toHaveLength(store.count);
        expect(Buffer.from(rows[acknowledged - 1]?.[9] as Uint8Array)).toEqual(
          Buffer.from((events[acknowledged - 1] as { encoded: Uint8Array }).encoded),
        );
        // the tree rebuilt from stored nodes and leaves is the one over the stored entries
        const chain = [...store.auditRows()].at(-1)?.[8] as Uint8Array;
        expect(chain).toHaveLength(32);
        expect(store.auditRoot()).toHaveLength(32);
      } finally {
        await store.close();
      }
      // and the store takes the next batch where the killed process left off
      const again = openEngine(engine, dir, core);
      try {
        const next = new EventFactory(core, 'store-engines-crash-after');
        const before = again.count;
        await again.commit(toBenchEvents(next.bulkEvents(0, 1000, NOW_SEC)));
        expect(again.count).toBe(before + 1000);
      } finally {
        await again.close();
      }
    });
  }

  it('sqlite (the control): the same holds for the node store', async () => {
    const dir = join(root, 'sqlite');
    const acknowledged = await commitThenKill(dir, 'sqlite');
    const engine = openEngine('sqlite', dir, core);
    try {
      expect(engine.count).toBeGreaterThanOrEqual(acknowledged);
      expect(engine.count % 1000).toBe(0);
    } finally {
      await engine.close();
    }
  });
});
