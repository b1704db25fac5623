// The ingest bench's identity case (src/ingest/identity-authors.ts): its events are accepted by
// a real node over HTTP once the key events are posted, and refused without them (so the case
// measures the identity verdict, not a shortcut around it); its ratio table compares medians
// of the same run, pairs round by round, and says whether the 10% target is met.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadCore } from '@commons-sync/bindings';
import { initDataDir, openNode, startApiServer } from '@commons-sync/node';
import { afterAll, describe, expect, it } from 'vitest';

import { EventFactory } from '../src/ingest/events.js';
import {
  IdentityAuthors,
  identityRatioLines,
  identityRatios,
} from '../src/ingest/identity-authors.js';

const core = await loadCore();
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function withNode(run: (url: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-bench-identity-'));
  dirs.push(dir);
  await initDataDir(dir, 'bench identity test', { scryptN: 2 ** 15 });
  const node = await openNode({ dataDir: dir, passphrase: 'bench identity test', workers: 0 });
  const api = await startApiServer(node, { port: 0, host: '127.0.0.1' });
  try {
    await run(api.url);
  } finally {
    await api.close();
    await node.close();
  }
}

const postBody = async (url: string, body: Buffer) => {
  const res = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { results: { status: string; reason?: string }[] }).results;
};

describe('the identity case of the ingest bench', () => {
  const now = Math.floor(Date.now() / 1000);
  const authors = new IdentityAuthors(core, now);
  const [batch] = authors.batches(0, 400, 400, now);

  it('makes 200 rotated identities whose events a node accepts once their key events are posted', async () => {
    expect(authors.keyEvents).toHaveLength(400);
    await withNode(async (url) => {
      await authors.postKeyEvents(url);
      const results = await postBody(url, batch?.body as Buffer);
      expect(results.map((r) => r.status)).toEqual(Array(400).fill('accepted'));
      const identity = (await (
        await fetch(`${url}/v1/identities/${authors.event(0, now).author}`)
      ).json()) as {
        key_events: number;
        events: { stored: number };
      };
      expect(identity.key_events).toBe(2);
      expect(identity.events.stored).toBe(2); // events 0 and 200
    });
  });

  it("whose events are the did:key case's, spelled alike, but for the author who signs them", () => {
    const [didKeyBatch] = new EventFactory(core, 'ingest').batches(0, 400, 400, now);
    const parse = (b: Buffer | undefined) =>
      JSON.parse((b as Buffer).toString()) as Record<string, unknown>[];
    const plain = parse(didKeyBatch?.body);
    const byIdentity = parse(batch?.body);
    expect(byIdentity).toHaveLength(plain.length);
    byIdentity.forEach((e, i) => {
      const d = plain[i] as Record<string, unknown>;
      // the same members in the same order, key_state added after the author
      expect(Object.keys(e)).toEqual([
        ...Object.keys(d).slice(0, 3),
        'key_state',
        ...Object.keys(d).slice(3),
      ]);
      for (const k of ['v', 'kind', 'created_at', 'expires_at']) expect(e[k]).toEqual(d[k]);
      // the payload spelled member by member as the did:key case spells it (not sorted)
      expect(JSON.stringify(e.payload)).toBe(JSON.stringify(d.payload));
      expect(e.author).not.toEqual(d.author);
    });
  });

  it('whose events a node without the key events refuses', async () => {
    await withNode(async (url) => {
      const results = await postBody(url, batch?.body as Buffer);
      expect(new Set(results.map((r) => r.reason))).toEqual(new Set(['ERR_KEL_UNKNOWN_IDENTITY']));
    });
  });

  it('compares medians of the same run, pairs rounds, and says whether the target is met', () => {
    const runs = (rates: number[], cpu: number) =>
      rates.map((eventsPerSec, i) => ({
        eventsPerSec,
        mainCpuUs: cpu + i,
        workerCpuUs: cpu / 2 + i,
        otherCpuUs: cpu + 2 * i,
      }));
    const didKey = new Map([
      ['1 worker', runs([1000, 1100, 900], 40)],
      ['2 workers', runs([2000, 2000, 2000], 40)],
    ]);
    const ids = new Map([
      ['1 worker', runs([950, 1000, 880], 44)],
      ['2 workers', runs([1700, 1900, 1600], 44)],
    ]);
    const ratios = identityRatios(['1 worker', '2 workers'], didKey, ids);
    expect(ratios[0]?.ratio).toBeCloseTo(950 / 1000);
    expect(ratios[0]?.pairs.map((p) => p.toFixed(3))).toEqual(['0.950', '0.909', '0.978']);
    expect(ratios[1]?.ratio).toBeCloseTo(0.85);
    const lines = identityRatioLines(ratios).join('\n');
    expect(lines).toContain(
      '| 1 worker | 1,000 → 950 | 0.950 | 5.0% | 0.950, 0.909, 0.978 | 41.0 → 45.0 | 21.0 → 23.0 | 42.0 → 46.0 |',
    );
    expect(lines).toContain(
      'All 6 round pairs of every setting (each identity run over its did:key run): median 0.950, middle half 0.850–0.950.',
    );
    expect(lines).toContain('MISS');
    expect(lines).toContain('NOT met (worst ratio 0.850, target ≥ 0.90)');
    const fine = identityRatioLines(identityRatios(['1 worker'], didKey, ids)).join('\n');
    expect(fine).toContain('PASS');
    expect(fine).toContain(': met (worst ratio 0.950, target ≥ 0.90)');
  });
});
