/**
 * Crash safety: a node in a child process is killed with SIGKILL at random moments during heavy
 * ingest and restarted, over and over. After every kill: no acknowledged event is lost, no event
 * was accepted twice, and `commons-sync audit verify` passes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

import { DB_FILE } from '../src/storage/index.js';
import { makeEvents, postEvents, runCli, startNodeProcess } from './node-fixtures.js';

const CYCLES = 20;
const dir = mkdtempSync(join(tmpdir(), 'cs-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SIGKILL during ingest', () => {
  it(`loses nothing acknowledged and accepts nothing twice over ${CYCLES} kills`, async () => {
    expect((await runCli(['init', '--data', dir])).code).toBe(0);
    const events = makeEvents(12_000, 12, 'crash');
    const ids = new Map<number, string>(); // event index → id, learned from answers
    const acknowledged = new Set<string>();
    let killedMidRequest = 0;
    let next = 0;
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const node = await startNodeProcess(dir, ['--workers', '1']);
      let stop = false;
      let inFlight = 0;
      const client = async () => {
        while (!stop) {
          // mostly new events, plus some already sent (they must come back as duplicates)
          const batch: number[] = [];
          for (let i = 0; i < 150; i++) {
            batch.push(
              i % 5 === 0 && next > 0
                ? Math.floor(Math.random() * Math.min(next, events.length))
                : next++ % events.length,
            );
          }
          inFlight++;
          try {
            const { status, body } = await postEvents(
              node.url,
              batch.map((i) => events[i]),
            );
            if (status !== 200) continue;
            const results = (body as { results: { status: string; id?: string }[] }).results;
            results.forEach((r, k) => {
              if (r.id !== undefined) ids.set(batch[k] as number, r.id);
              if (r.status === 'accepted' || r.status === 'duplicate')
                acknowledged.add(r.id as string);
              else throw new Error(`unexpected verdict ${JSON.stringify(r)}`);
            });
          } catch (error) {
            if (!stop) throw error; // a connection cut by the kill is expected
          } finally {
            inFlight--;
          }
        }
      };
      const clients = [client(), client()];
      await sleep(150 + Math.random() * 500);
      if (inFlight > 0) killedMidRequest++;
      stop = true;
      node.child.kill('SIGKILL');
      await node.exited;
      await Promise.allSettled(clients);

      const verify = await runCli(['audit', 'verify', '--data', dir]);
      expect(verify.code, `cycle ${cycle}: ${verify.stdout}${verify.stderr}`).toBe(0);
      const db = new Database(join(dir, DB_FILE), { readonly: true });
      try {
        const stored = new Set(
          (db.prepare('SELECT hex(id) AS id FROM events').all() as { id: string }[]).map((r) =>
            r.id.toLowerCase(),
          ),
        );
        const lost = [...acknowledged].filter((id) => !stored.has(id));
        expect(lost, `cycle ${cycle}: acknowledged but not stored`).toEqual([]);
        const twice = db
          .prepare(
            "SELECT hex(event_id) AS id, count(*) AS n FROM audit_entries WHERE type = 'accept' GROUP BY event_id HAVING n > 1",
          )
          .all();
        expect(twice, `cycle ${cycle}: accepted twice`).toEqual([]);
        const accepts = (
          db.prepare("SELECT count(*) AS n FROM audit_entries WHERE type = 'accept'").get() as {
            n: number;
          }
        ).n;
        expect(accepts).toBe(stored.size);
      } finally {
        db.close();
      }
    }
    expect(acknowledged.size).toBeGreaterThan(1000);
    expect(killedMidRequest).toBeGreaterThan(CYCLES / 2);

    // After the last kill, everything acknowledged is a duplicate when sent again.
    const node = await startNodeProcess(dir);
    try {
      const sample = [...ids.entries()].filter(([, id]) => acknowledged.has(id)).slice(0, 500);
      const { body } = await postEvents(
        node.url,
        sample.map(([i]) => events[i]),
      );
      const statuses = (body as { results: { status: string }[] }).results.map((r) => r.status);
      expect(new Set(statuses)).toEqual(new Set(['duplicate']));
    } finally {
      node.child.kill('SIGTERM');
      await node.exited;
    }
  }, 300_000);
});
