// `commons-sync-bench ingest` interrupted (Ctrl-C, a CI job's SIGTERM) while a node process
// runs: it stops its node processes and removes its stores before it exits, leaving nothing
// running and nothing in the temporary folder it was given.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'cs-bench-interrupted-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Pids of the processes whose command line names `path`. */
function processesNaming(path: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(path)) out.push(Number(name));
    } catch {
      // the process ended between the listing and the read
    }
  }
  return out;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the ingest bench interrupted', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)(
    'by %s stops its node processes, removes its stores and exits %i',
    async (signal, code) => {
      const bench = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli.ts',
          'ingest',
          '--quick',
          '--identity-pairs',
          '0',
          '--dir',
          dir,
        ],
        {
          cwd: new URL('..', import.meta.url),
          stdio: ['ignore', 'ignore', 'pipe'],
          env: process.env,
        },
      );
      let stderr = '';
      bench.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const exited = new Promise<number | null>((resolve) => bench.once('exit', resolve));
      // its node processes: those whose command line names a store in --dir
      let nodes: number[] = [];
      for (let i = 0; i < 600 && nodes.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        nodes = processesNaming(`${dir}/cs-ingest-bench-`);
      }
      expect(nodes.length, stderr).toBeGreaterThan(0);
      bench.kill(signal);
      expect(await exited, stderr).toBe(code);
      expect(stderr).toContain(`${signal}: stopping the node processes and removing`);
      expect(nodes.filter(alive)).toEqual([]);
      expect(readdirSync(dir)).toEqual([]);
    },
    120_000,
  );
});
