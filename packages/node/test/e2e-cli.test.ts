/**
 * A new user's path through the CLI against a real node in a child process: init, start,
 * keygen, event create, submit, fetch, status, audit verify; then tampering with the store is
 * caught by audit verify, which names the first bad entry.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

import { DB_FILE } from '../src/storage/index.js';
import { runCli, startNodeProcess } from './node-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'cs-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('commons-sync, end to end', () => {
  it('makes, signs and submits events; the node accepts good ones, rejects bad ones, proves its log', async () => {
    const data = join(dir, 'data');
    const init = await runCli(['init', '--data', data]);
    expect(init.code, init.stderr).toBe(0);
    const nodeDid = /did:key:z[1-9A-HJ-NP-Za-km-z]+/.exec(init.stdout)?.[0];
    expect(nodeDid).toBeDefined();

    const key = join(dir, 'author.key');
    const keygen = await runCli(['keygen', '--out', key]);
    expect(keygen.code, keygen.stderr).toBe(0);

    const files: string[] = [];
    for (let i = 0; i < 3; i++) {
      const made = await runCli([
        'event',
        'create',
        '--key',
        key,
        '--kind',
        'note',
        '--payload',
        JSON.stringify({ i }),
        '--expires-in',
        '1h',
      ]);
      expect(made.code, made.stderr).toBe(0);
      const file = join(dir, `event-${i}.json`);
      writeFileSync(file, made.stdout);
      files.push(file);
    }
    // one event altered after signing (a fresh nonce too, else it would be a replay of event 2)
    const bad = JSON.parse(readFileSync(files[2]!, 'utf8')) as { payload: unknown; nonce: string };
    bad.payload = { i: 99 };
    bad.nonce = 'ab'.repeat(16);
    const badFile = join(dir, 'bad.json');
    writeFileSync(badFile, JSON.stringify(bad));

    const node = await startNodeProcess(data);
    try {
      expect(node.did).toBe(nodeDid);
      const ok = await runCli(['submit', '--url', node.url, '--json', ...files]);
      expect(ok.code, ok.stderr).toBe(0);
      const again = await runCli(['submit', '--url', node.url, '--json', files[0]!]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/duplicate/);
      const rejected = await runCli(['submit', '--url', node.url, '--json', badFile]);
      expect(rejected.code).not.toBe(0);
      expect(rejected.stdout + rejected.stderr, rejected.stdout + rejected.stderr).toMatch(
        /ERR_BAD_SIGNATURE/,
      );

      const status = await runCli(['status', '--url', node.url, '--json']);
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toContain(nodeDid!);

      const health = (await (await fetch(`${node.url}/healthz`)).json()) as { events: number };
      expect(health.events).toBe(3);
      const metrics = await (await fetch(`${node.url}/metrics`)).text();
      expect(metrics).toMatch(/commons_sync_rejections_total\{reason="ERR_BAD_SIGNATURE"\} 1/);
    } finally {
      node.child.kill('SIGTERM');
      expect(await node.exited, node.ending()).toBe(0);
    }

    const verified = await runCli(['audit', 'verify', '--data', data]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);

    // Change one byte of one stored event: audit verify fails and names it.
    const db = new Database(join(data, DB_FILE));
    const row = db
      .prepare('SELECT seq, encoded FROM events ORDER BY seq LIMIT 1 OFFSET 1')
      .get() as { seq: number; encoded: Buffer };
    row.encoded[row.encoded.length - 3]! ^= 1;
    db.prepare('UPDATE events SET encoded = ? WHERE seq = ?').run(row.encoded, row.seq);
    db.close();
    const caught = await runCli(['audit', 'verify', '--data', data]);
    expect(caught.code).not.toBe(0);
    expect(caught.stdout + caught.stderr).toMatch(new RegExp(`events row ${row.seq}`));
  }, 120_000);
});
