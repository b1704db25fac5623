/**
 * JSON amplification (issue 7, item 3), through real sockets against a node started by the CLI
 * as the README says: 16 concurrent bodies of ~16 MiB like `[{"payload":[{},{},…]}]` (5.6
 * million empty objects each) keep the node's resident memory under 1 GiB, and /healthz keeps
 * answering while they are processed. The node splits a body structurally (no values built) and
 * reads each event's text with a reader that stops at the protocol's limits, so what a body
 * costs is bounded by its size, not by what it would parse to.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { type RunningNode, runCli, startNodeProcess } from './node-fixtures.js';

const MIB = 1024 * 1024;
const LIMIT_BYTES = 1024 * MIB;
const BODIES = 16;

const dirs: string[] = [];
const running: RunningNode[] = [];
afterAll(async () => {
  for (const n of running) {
    n.child.kill('SIGKILL');
    await n.exited;
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Resident set size of a process, in bytes (Linux). */
function rssOf(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(
    readFileSync(`/proc/${pid}/status`, 'utf8'),
  );
  return m === null ? 0 : Number(m[1]) * 1024;
}

/** Each body from its own loopback address: the node budgets bytes per client, and an attacker has many addresses. */
function post(
  url: string,
  body: Buffer,
  localAddress: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL('/v1/events', url),
      {
        method: 'POST',
        agent: false,
        localAddress,
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(30_000) });
    return res.status === 200;
  } catch {
    return false;
  }
}

describe('JSON amplification', () => {
  it(`${BODIES} concurrent ~16 MiB bodies of empty objects stay under 1 GiB of RSS; /healthz answers meanwhile`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-amplify-'));
    dirs.push(dir);
    const init = await runCli(['init', '--data', dir]);
    expect(init.code, init.stderr).toBe(0);
    const node = await startNodeProcess(dir);
    running.push(node);
    const pid = node.child.pid as number;

    // [{"payload":[{},{},...,{}]}] just under the default 16 MiB body limit
    const head = Buffer.from('[{"payload":[');
    const tail = Buffer.from(']}]');
    const count = Math.floor((16 * MIB - head.length - tail.length) / 3);
    const body = Buffer.alloc(head.length + 3 * count - 1 + tail.length, ',');
    head.copy(body, 0);
    for (let i = 0; i < count; i++) body.write('{}', head.length + 3 * i, 'latin1');
    tail.copy(body, body.length - tail.length);
    expect(body.length).toBeLessThanOrEqual(16 * MIB);

    let peak = rssOf(pid, 'VmRSS');
    let overLimit = false;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, rssOf(pid, 'VmRSS'));
      } catch {
        return; // the process is gone; the requests will say so
      }
      if (peak > LIMIT_BYTES && !overLimit) {
        overLimit = true;
        node.child.kill('SIGKILL'); // a failing run must not take the machine's memory with it
      }
    }, 25);

    let inFlight = BODIES;
    let healthDuringAttack = 0;
    const health = (async () => {
      while (inFlight > 0 && !overLimit) {
        if ((await healthy(node.url)) && inFlight > 0) healthDuringAttack++;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const answers = await Promise.all(
      Array.from({ length: BODIES }, async (_, i) => {
        try {
          return await post(node.url, body, `127.0.0.${i + 2}`);
        } finally {
          inFlight--;
        }
      }),
    ).catch((error: unknown) => {
      throw new Error(
        `requests failed${overLimit ? ` (the node passed ${LIMIT_BYTES / MIB} MiB and was stopped)` : ''}: ${String(error)}`,
      );
    });
    await health;
    clearInterval(sampler);
    const hwm = overLimit ? peak : rssOf(pid, 'VmHWM');

    console.log(
      `amplification: ${BODIES} bodies of ${(body.length / MIB).toFixed(1)} MiB; node peak RSS ${(Math.max(peak, hwm) / MIB).toFixed(0)} MiB; ${healthDuringAttack} health answers during the attack`,
    );
    expect(overLimit, `peak RSS ${(peak / MIB).toFixed(0)} MiB`).toBe(false);
    expect(Math.max(peak, hwm)).toBeLessThan(LIMIT_BYTES);
    for (const a of answers) {
      expect(a.status, a.text.slice(0, 200)).toBe(200);
      // one element of 16 MiB: over the JSON text limit, refused from its length alone
      expect(JSON.parse(a.text)).toMatchObject({
        results: [{ status: 'rejected', reason: 'ERR_TOO_LARGE' }],
      });
    }
    expect(healthDuringAttack).toBeGreaterThan(0);
    expect(await healthy(node.url)).toBe(true);
  });
});
