// The benches that run node processes, interrupted (Ctrl-C, a CI job's SIGTERM) while nodes run:
// `ingest` and `network` stop their node processes and remove their stores before they exit,
// leaving nothing running and no store behind.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'cs-bench-interrupted-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The command lines of the processes that name `text`, by pid. */
function processesNaming(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(text)) out.set(Number(name), cmdline);
    } catch {
      // the process ended between the listing and the read
    }
  }
  return out;
}

const alive = (pid: number): boolean => existsSync(`/proc/${pid}`);

// should a test fail, it still leaves nothing running
const seen: number[] = [];
afterEach(() => {
  for (const pid of seen.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

/**
 * Runs the bench with `args`, waits for a node process (`start`) whose command line names a
 * folder `prefix`…, sends `signal`; returns the exit code, stderr, those nodes and that folder.
 */
async function interrupt(args: readonly string[], prefix: string, signal: NodeJS.Signals) {
  const bench = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: new URL('..', import.meta.url),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  bench.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => bench.once('exit', resolve));
  let nodes = new Map<number, string>();
  for (let i = 0; i < 900 && nodes.size === 0 && bench.exitCode === null; i++) {
    await new Promise((r) => setTimeout(r, 100));
    // `commons-sync start` processes (not the short `init` before them)
    nodes = new Map([...processesNaming(prefix)].filter(([, cmd]) => cmd.includes(' start ')));
  }
  seen.push(bench.pid as number, ...nodes.keys());
  bench.kill(signal);
  const folder = new RegExp(`${prefix}[^/ ]+`).exec([...nodes.values()][0] ?? '')?.[0];
  return { code: await exited, stderr, nodes: [...nodes.keys()], folder };
}

describe('a bench interrupted while its nodes run', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)(
    'ingest, by %s: stops its node processes, removes its stores and exits %i',
    async (signal, code) => {
      const args = ['ingest', '--quick', '--identity-pairs', '0', '--dir', dir];
      const r = await interrupt(args, `${dir}/cs-ingest-bench-`, signal);
      expect(r.nodes.length, r.stderr).toBeGreaterThan(0);
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toContain(`${signal}: stopping the node processes and removing ${dir}`);
      expect(r.nodes.filter(alive)).toEqual([]);
      expect(readdirSync(dir)).toEqual([]);
    },
    120_000,
  );

  it('network, by SIGTERM: stops its cluster, removes its folder and exits 143', async () => {
    const prefix = join(tmpdir(), 'commons-sync-bench-network-');
    const r = await interrupt(['network', '--events', '2000'], prefix, 'SIGTERM');
    expect(r.nodes.length, r.stderr).toBeGreaterThan(0);
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toContain('SIGTERM: stopping the node processes and removing');
    expect(r.nodes.filter(alive)).toEqual([]);
    expect(r.folder).toBeDefined();
    expect(existsSync(r.folder as string)).toBe(false);
  }, 120_000);
});
