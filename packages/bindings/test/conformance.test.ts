// One conformance suite, run against every backend: the shared vectors (RFC 8032, Wycheproof,
// ZIP-215 small-order, speccheck edge cases, wrong lengths; NIST SHA-2 and BLAKE3; the SHA-256
// chain from Python hashlib and the audit log's vectors).
import { execFileSync } from 'node:child_process';

import { describe, expect, it } from 'vitest';

import { BACKENDS, loadCore, packMessages, packSignatureBatch } from '../src/index.js';
import { chainCases, ed25519Files, hashCases, toHex, VECTORS } from './vectors.js';

const files = ed25519Files();

it('Python hashlib regenerates the SHA-256 chain vectors byte for byte', () => {
  const out = execFileSync('python3', [`${VECTORS}hash/gen_sha256_chain.py`, '--check'], {
    encoding: 'utf8',
  });
  expect(out).toContain('matches the generator');
});

describe.each(BACKENDS)('%s backend', (backend) => {
  it('loads as asked', async () => {
    expect((await loadCore({ backend })).backend).toBe(backend);
  });

  it.each(files.map((f) => [f.file, f.cases] as const))(
    '%s: single verify',
    async (_file, cases) => {
      const core = await loadCore({ backend });
      const wrong = cases
        .filter((c) => core.ed25519Verify(c.publicKey, c.message, c.signature) !== c.valid)
        .map((c) => `${c.id} (${c.comment})`);
      expect(wrong).toEqual([]);
    },
  );

  it.each(files.map((f) => [f.file, f.cases] as const))(
    '%s: batch verify',
    async (_file, cases) => {
      const core = await loadCore({ backend });
      expect(core.ed25519VerifyBatch(cases)).toEqual(cases.map((c) => c.valid));
      const exact = cases.filter((c) => c.publicKey.length === 32 && c.signature.length === 64);
      const { batch } = packSignatureBatch(exact);
      expect([...core.ed25519VerifyBatchPacked(batch)]).toEqual(
        exact.map((c) => (c.valid ? 1 : 0)),
      );
    },
  );

  it('signs RFC 8032 seeds to the published keys and signatures', async () => {
    const core = await loadCore({ backend });
    const seeded = files.flatMap((f) => f.cases).filter((c) => c.seed !== undefined);
    expect(seeded.length).toBeGreaterThanOrEqual(5);
    for (const c of seeded) {
      expect(toHex(core.ed25519PublicKey(c.seed as Uint8Array))).toBe(toHex(c.publicKey));
      expect(toHex(core.ed25519Sign(c.seed as Uint8Array, c.message))).toBe(toHex(c.signature));
    }
  });

  it.each(['sha256', 'sha512', 'blake3'] as const)('%s vectors, single and batch', async (alg) => {
    const core = await loadCore({ backend });
    const cases = hashCases(alg);
    expect(cases.length).toBeGreaterThan(20);
    for (const c of cases) expect(toHex(core[alg](c.input)), c.id).toBe(c.digest);
    const batch = core.hashBatch(alg, packMessages(cases.map((c) => c.input)));
    expect(toHex(batch)).toBe(cases.map((c) => c.digest).join(''));
  });

  it("SHA-256 chain vectors (Python hashlib; the audit log's chain hashes)", async () => {
    const core = await loadCore({ backend });
    const cases = chainCases();
    expect(cases.length).toBeGreaterThanOrEqual(10);
    for (const c of cases) expect(toHex(core.sha256Chain(c.head, c.leaves)), c.id).toBe(c.chain);
  });
});
