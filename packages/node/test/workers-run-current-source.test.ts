/**
 * Tests never run a stale build of a worker: from source, the pool's workers load the worker's
 * TypeScript source (through tsx), not dist/, so what a test checks is the code as it is now.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { VerifyPool } from '../src/pipeline/verify-pool.js';
import { siblingModule, WorkerPool } from '../src/pool/worker-pool.js';

const dir = mkdtempSync(join(tmpdir(), 'cs-worker-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('worker modules', () => {
  it('the verify pool, run from source, runs pipeline/verify-worker.ts from source', async () => {
    const pool = await VerifyPool.create({ threads: 1 });
    try {
      const expected = new URL('../src/pipeline/verify-worker.ts', import.meta.url).href;
      expect(await pool.workerModule()).toBe(expected);
    } finally {
      await pool.close();
    }
  });

  it('a caller from source gets the .ts worker even beside a different compiled .js', async () => {
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
    // the "build" says one thing, the source another: the source must win for a .ts caller
    writeFileSync(join(dir, 'worker.js'), "export default () => 'stale build';\n");
    writeFileSync(join(dir, 'worker.ts'), "export default (n: number): string => 'source ' + n;\n");
    const fromSource = new WorkerPool(
      siblingModule(pathToFileURL(join(dir, 'caller.ts')).href, 'worker'),
      {
        threads: 1,
      },
    );
    const compiled = new WorkerPool(
      siblingModule(pathToFileURL(join(dir, 'caller.js')).href, 'worker'),
      {
        threads: 1,
      },
    );
    try {
      expect(await fromSource.run<string>(7)).toBe('source 7');
      expect(await compiled.run<string>(7)).toBe('stale build');
    } finally {
      await Promise.all([fromSource.close(), compiled.close()]);
    }
  });

  it('refuses a pool without threads', () => {
    expect(() => new WorkerPool(new URL('file:///x.js'), { threads: 0 })).toThrow(RangeError);
  });
});
