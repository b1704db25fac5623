/**
 * `commons-sync demo` as a user runs it (the built CLI, a real child process): it starts three
 * node processes, loads them, shows them converging, prints its summary, and leaves nothing
 * behind (no node answering, no folder). Bad flags are a usage error before anything starts.
 */
import { existsSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { runCli } from './node-fixtures.js';

describe('commons-sync demo', () => {
  it('shows three nodes converging, prints its summary, and cleans up', async () => {
    const run = await runCli(['demo', '--events', '3000', '--batch', '250']);
    const out = run.stdout;
    expect(run.code, out + run.stderr).toBe(0);
    const dir = /starting 3 nodes in (\S+) \.\.\./.exec(out)?.[1];
    expect(dir).toBeDefined();
    const urls = [...out.matchAll(/api (http:\/\/127\.0\.0\.1:\d+)/g)].map((m) => m[1] as string);
    expect(urls).toHaveLength(3);
    expect(out).toMatch(/connected: every node has 2 peers/);
    // the live view: each node's count, ending with all three at 3000
    expect(out).toMatch(/node 1 +\d+ events +-?\d+\/s/);
    expect(out).toMatch(/converged\n( {2}node \d +3000 events.*\n){3}/);
    expect(out).toMatch(
      /^ {2}events sent: +3000 \(accepted by the node each was sent to: 3000\)$/m,
    );
    expect(out).toMatch(/^ {2}converged: +yes, every node holds 3000 events/m);
    expect(out).toMatch(/^ {2}network throughput: +\d+ events\/s held by every node \(3 nodes\)$/m);
    expect(out).toMatch(/^ {2}propagation: +p50 \d+ ms, p99 \d+ ms/m);
    expect(out).toMatch(/^ {2}audit logs: +3 of 3 intact/m);
    // nothing left behind
    expect(existsSync(dir as string)).toBe(false);
    for (const url of urls) await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  }, 180_000);

  it('refuses bad flags before starting anything', async () => {
    const run = await runCli(['demo', '--nodes', '9']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--nodes must be between 2 and 5/);
    expect(run.stdout).toBe('');
  });
});
