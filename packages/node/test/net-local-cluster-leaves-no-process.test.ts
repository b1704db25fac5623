/**
 * `net.LocalCluster` (the demo's and the network benchmark's nodes) leaves no node process
 * running when the process that started it dies of an uncaught error instead of calling
 * `stop`: node processes do not die with their parent on their own.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach, expect, it } from 'vitest';

const SOURCE = fileURLToPath(new URL('../src/net/local-cluster.ts', import.meta.url));
const dirs: string[] = [];
const started: number[] = [];
afterEach(() => {
  // should the test fail, it still leaves nothing running
  for (const pid of started.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

it('kills its node processes when the process that started them crashes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-cluster-crash-'));
  dirs.push(dir);
  const script = join(dir, 'crash.mts');
  writeFileSync(
    script,
    [
      `import { LocalCluster } from ${JSON.stringify(SOURCE)};`,
      `const c = await LocalCluster.start({ dir: ${JSON.stringify(join(dir, 'nodes'))}, size: 2, passphrase: 'crash-test-passphrase' });`,
      `process.stdout.write(c.nodes.map((n) => n.pid).join(',') + '\\n');`,
      `setTimeout(() => { throw new Error('an uncaught error'); }, 50);`,
    ].join('\n'),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += String(d);
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(code).not.toBe(0); // it did crash
  const pids = out.trim().split(',').map(Number);
  started.push(...pids);
  expect(pids).toHaveLength(2);
  // SIGKILL is sent as it exits; give the kernel a moment to reap
  for (let i = 0; i < 50 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
  expect(pids.filter(alive)).toEqual([]);
}, 120_000);
