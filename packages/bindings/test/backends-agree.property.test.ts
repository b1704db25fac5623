// fast-check properties: every backend (native, wasm, js; single and batch) gives the same
// verdict as @noble/curves in ZIP-215 mode on random and adversarial inputs. A validator
// network forks when two nodes disagree, so this is the consensus-safety test.
import { createHash } from 'node:crypto';

import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';

import { BACKENDS, type Core, loadCore } from '../src/index.js';
import { jsBackend } from '../src/js.js';
import { loadNativeBackend } from '../src/native.js';
import type { RawBackend } from '../src/types.js';
import { loadWasmBackend } from '../src/wasm.js';
import { anyItem, bytes, mixedOrder, noble } from './arbitraries.js';

let cores: Core[] = [];
let raws: [string, RawBackend][] = [];
beforeAll(async () => {
  cores = await Promise.all(BACKENDS.map((backend) => loadCore({ backend })));
  raws = [
    ['native', loadNativeBackend()],
    ['wasm', await loadWasmBackend()],
    ['js', jsBackend],
  ];
});

/** The chain link by link through node:crypto (OpenSSL): no code of ours. */
function opensslChain(head: Uint8Array, leaves: Uint8Array): string {
  let prev = Buffer.from(head);
  const links: Buffer[] = [];
  for (let i = 0; i < leaves.length; i += 32) {
    prev = createHash('sha256')
      .update(prev)
      .update(leaves.subarray(i, i + 32))
      .digest();
    links.push(prev);
  }
  return Buffer.concat(links).toString('hex');
}

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const chainInputs = fc.tuple(
  bytes(32, 32),
  fc.integer({ min: 0, max: 300 }).chain((n) => bytes(32 * n, 32 * n)),
);

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

  it('the SHA-256 chain agrees across backends and with node:crypto, link by link', () => {
    fc.assert(
      fc.property(chainInputs, ([head, leaves]) => {
        const want = opensslChain(head, leaves);
        for (const core of cores)
          expect(hexOf(core.sha256Chain(head, leaves)), core.backend).toBe(want);
      }),
      { numRuns: 100 },
    );
  });

  it("a chain in two calls, the second from the first call's last link, is the same", () => {
    fc.assert(
      fc.property(chainInputs, fc.nat(), ([head, leaves], at) => {
        const cut = 32 * (at % (leaves.length / 32 + 1));
        for (const core of cores) {
          const first = core.sha256Chain(head, leaves.subarray(0, cut));
          const from = cut === 0 ? head : first.subarray(first.length - 32);
          const second = core.sha256Chain(from, leaves.subarray(cut));
          expect(hexOf(first) + hexOf(second), core.backend).toBe(
            hexOf(core.sha256Chain(head, leaves)),
          );
        }
      }),
      { numRuns: 40 },
    );
  });

  it('every backend refuses a bad chain layout with ERR_BATCH_LAYOUT, the core and the raw call', () => {
    const badLayout = fc.oneof(
      fc.tuple(
        bytes(0, 80).filter((h) => h.length !== 32),
        fc.nat({ max: 4 }).map((n) => new Uint8Array(32 * n)),
      ),
      fc.tuple(
        bytes(32, 32),
        bytes(1, 200).filter((l) => l.length % 32 !== 0),
      ),
    );
    fc.assert(
      fc.property(badLayout, ([head, leaves]) => {
        for (const core of cores) {
          expect(() => core.sha256Chain(head, leaves), core.backend).toThrow(
            expect.objectContaining({ name: 'BatchLayoutError', code: 'ERR_BATCH_LAYOUT' }),
          );
        }
        for (const [name, raw] of raws) {
          expect(() => raw.sha256Chain(head, leaves), name).toThrow(
            expect.objectContaining({ code: 'ERR_BATCH_LAYOUT' }),
          );
        }
      }),
      { numRuns: 100 },
    );
  });
});
