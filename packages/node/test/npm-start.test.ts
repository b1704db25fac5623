/**
 * The README's first command: `npm start` bootstraps (a no-op on a built checkout), initializes
 * a data directory on first run, and serves a node; a second start reuses the identity.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

import { PASSPHRASE } from './node-fixtures.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cs-npm-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function npmStart(): Promise<{ did: string; url: string; stop: () => Promise<number | null> }> {
  const child = spawn('npm', ['start', '--silent', '--', '--port', '0'], {
    cwd: ROOT,
    env: {
      ...process.env,
      COMMONS_SYNC_DATA: join(dir, 'data'),
      COMMONS_SYNC_PASSPHRASE: PASSPHRASE,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so the whole npm → bash → node chain can be stopped
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`npm start did not serve: ${out}`)), 90_000);
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /node (\S+) listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          did: m[1] as string,
          url: m[2] as string,
          stop: () => {
            process.kill(-(child.pid as number), 'SIGTERM');
            return exited;
          },
        });
      }
    });
    void exited.then((code) => reject(new Error(`npm start exited with ${code}: ${out}`)));
  });
}

describe('npm start', () => {
  it('runs a node on a data directory it initializes once', async () => {
    const first = await npmStart();
    const health = (await (await fetch(`${first.url}/healthz`)).json()) as {
      status: string;
      did: string;
    };
    expect(health).toMatchObject({ status: 'ok', did: first.did });
    await first.stop();
    const second = await npmStart();
    expect(second.did).toBe(first.did);
    await second.stop();
  }, 180_000);
});
