// fast-check properties: every backend (native, wasm, js; single and batch) gives the same
// verdict as @noble/curves in ZIP-215 mode on random and adversarial inputs. A validator
// network forks when two nodes disagree, so this is the consensus-safety test.
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';

import { BACKENDS, type Core, loadCore } from '../src/index.js';
import { anyItem, bytes, mixedOrder, noble } from './arbitraries.js';

let cores: Core[] = [];
beforeAll(async () => {
  cores = await Promise.all(BACKENDS.map((backend) => loadCore({ backend })));
});

describe('all backends agree with @noble/curves (ZIP-215)', () => {
  it('single verify, on random and adversarial inputs', () => {
    fc.assert(
      fc.property(anyItem, (item) => {
        const want = noble(item);
        for (const core of cores) {
          expect(
            core.ed25519Verify(item.publicKey, item.message, item.signature),
            core.backend,
          ).toBe(want);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('mixed-order signatures are valid (cofactored), as ZIP-215 says', () => {
    fc.assert(
      fc.property(mixedOrder, (item) => {
        expect(noble(item)).toBe(true);
        for (const core of cores)
          expect(core.ed25519Verify(item.publicKey, item.message, item.signature)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('batch verify equals single verify for any mix of good and bad items', () => {
    fc.assert(
      fc.property(fc.array(anyItem, { maxLength: 40 }), (items) => {
        const want = items.map(noble);
        for (const core of cores)
          expect(core.ed25519VerifyBatch(items), core.backend).toEqual(want);
      }),
      { numRuns: 60 },
    );
  });

  it('sign and verify round-trip, and every backend signs identically', () => {
    fc.assert(
      fc.property(bytes(32, 32), bytes(0, 300), (seed, msg) => {
        const sigs = cores.map((c) => Buffer.from(c.ed25519Sign(seed, msg)).toString('hex'));
        const pks = cores.map((c) => Buffer.from(c.ed25519PublicKey(seed)).toString('hex'));
        expect(new Set(sigs).size).toBe(1);
        expect(new Set(pks).size).toBe(1);
        expect(sigs[0]).toBe(Buffer.from(ed25519.sign(msg, seed)).toString('hex'));
        for (const core of cores) {
          expect(
            core.ed25519Verify(core.ed25519PublicKey(seed), msg, core.ed25519Sign(seed, msg)),
          ).toBe(true);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('hashes agree across backends', () => {
    fc.assert(
      fc.property(bytes(0, 3000), (data) => {
        for (const alg of ['sha256', 'sha512', 'blake3'] as const) {
          const out = new Set(cores.map((c) => Buffer.from(c[alg](data)).toString('hex')));
          expect(out.size, alg).toBe(1);
        }
      }),
      { numRuns: 100 },
    );
  });
});
