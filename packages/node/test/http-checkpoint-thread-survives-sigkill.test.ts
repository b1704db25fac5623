/**
 * Through the real node in its own process, with a small checkpoint threshold and the main
 * connection's own automatic checkpoint out of reach (storage/checkpointer.ts): during a long
 * HTTP ingest the database file grows and the WAL stays bounded, which only the checkpoint
 * thread's connection can have done; a SIGKILL right after the last acknowledgement loses
 * nothing (every event is served after a restart, `audit verify` passes).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach, expect, it } from 'vitest';

import { DB_FILE } from '../src/storage/index.js';
import { makeEvents, PASSPHRASE, postEvents, runCli } from './node-fixtures.js';

const NODE_SOURCE = fileURLToPath(new URL('../src/node.ts', import.meta.url));
const SERVER_SOURCE = fileURLToPath(new URL('../src/api/server.ts', import.meta.url));

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A node from source with the given checkpoint thresholds, in a child process. */
async function startNode(
  dir: string,
  script: string,
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => {
    err += String(d);
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += String(d);
      const m = /listening on (\S+)/.exec(out);
      if (m !== null) resolve(m[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`node exited (${code}): ${out}${err}`)));
  });
  return { url, child };
}

function nodeScript(dir: string): string {
  const script = join(dir, 'small-checkpoint-node.mts');
  writeFileSync(
    script,
    [
      `import { openNode } from ${JSON.stringify(NODE_SOURCE)};`,
      `import { startApiServer } from ${JSON.stringify(SERVER_SOURCE)};`,
      'const node = await openNode({',
      `  dataDir: process.argv[2], passphrase: ${JSON.stringify(PASSPHRASE)}, trusted: 'open',`,
      '  workers: 1, walCheckpoint: { thresholdPages: 64, backstopPages: 1_000_000 },',
      '});',
      "const server = await startApiServer(node, { port: 0, host: '127.0.0.1' });",
      "console.log('listening on ' + server.url);",
      // no process.exit: the process ends only if closing left no thread or handle behind
      "process.once('SIGTERM', async () => { await server.close(); await node.close(); });",
    ].join('\n'),
  );
  return script;
}

it('checkpoints on its thread during an HTTP ingest, and a SIGKILL after the acknowledgement loses nothing', async () => {
  const root = mkdtempSync(join(tmpdir(), 'cs-ckpt-http-'));
  dirs.push(root);
  const dir = join(root, 'data');
  expect((await runCli(['init', '--data', dir])).code).toBe(0);
  const script = nodeScript(root);
  const events = makeEvents(16_000, 50, 'checkpoint-thread');
  const size = (f: string) => statSync(join(dir, f)).size;

  const first = await startNode(dir, script);
  const dbAtStart = size(DB_FILE);
  const ids: string[] = [];
  let maxWal = 0;
  for (let i = 0; i < events.length; i += 250) {
    const { status, body } = await postEvents(first.url, events.slice(i, i + 250));
    expect(status).toBe(200);
    for (const r of (body as { results: { status: string; id: string }[] }).results) {
      expect(r.status).toBe('accepted');
      ids.push(r.id);
    }
    maxWal = Math.max(maxWal, size(`${DB_FILE}-wal`));
    await new Promise((r) => setTimeout(r, 10)); // a client that does not saturate the node
  }
  first.child.kill('SIGKILL'); // right after the last acknowledgement
  await new Promise((r) => first.child.once('exit', r));
  const dbGrown = size(DB_FILE) - dbAtStart;
  // every page of the database went through the WAL first; without the thread's rounds the
  // WAL would hold all of them and the database file would not have grown
  expect(dbGrown).toBeGreaterThan(8 * 2 ** 20);
  expect(maxWal).toBeLessThan(dbGrown / 3);

  const second = await startNode(dir, script);
  let next = 0;
  const missing: string[] = [];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < ids.length) {
        const id = ids[next++] as string;
        const res = await fetch(`${second.url}/v1/events/${id}`);
        if (res.status !== 200) missing.push(id);
        await res.arrayBuffer();
      }
    }),
  );
  expect(missing).toEqual([]);
  second.child.kill('SIGTERM'); // closes the node: the process must then end on its own
  expect(await new Promise((r) => second.child.once('exit', r))).toBe(0);
  const verify = await runCli(['audit', 'verify', '--data', dir]);
  expect(verify.code, verify.stdout + verify.stderr).toBe(0);
}, 180_000);
