/**
 * The audit log's chain hashes, staged for a whole commit in one call into the crypto core
 * (`Hasher.chain`, `core.sha256Chain`), are exactly the chain of spec/AUDIT.md §3 computed one
 * link at a time with node:crypto: on every backend, across commits of any size (empty ones and
 * ones far larger than a link), across reopening the store, and as `audit verify` recomputes them.
 */
import { createHash } from 'node:crypto';

import { BACKENDS, type Core, loadCore } from '@commons-sync/bindings';
import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { chainOneByOne, makeHasher, sha256One } from '../src/audit/hash.js';
import { Store, verifyAuditData } from '../src/storage/index.js';
import { fakeEvents, tempDir } from './storage-fixtures.js';

const cores = new Map<string, Core>();
beforeAll(async () => {
  for (const backend of BACKENDS) cores.set(backend, await loadCore({ backend }));
});
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** spec/AUDIT.md §3 with OpenSSL, one link at a time: no code of ours. */
function definition(head: Uint8Array, leaves: readonly Uint8Array[]): Uint8Array[] {
  let prev = Buffer.from(head);
  return leaves.map((leaf) => {
    prev = createHash('sha256').update(prev).update(leaf).digest();
    return prev;
  });
}

describe.each(BACKENDS)('%s core', (backend) => {
  it("the Hasher's chain equals the definition for any head and 0..300 leaves", () => {
    const hasher = makeHasher(cores.get(backend) as Core);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc
          .integer({ min: 0, max: 300 })
          .chain((n) => fc.uint8Array({ minLength: 32 * n, maxLength: 32 * n })),
        (head, leaves) => {
          const split = Array.from({ length: leaves.length / 32 }, (_, i) =>
            leaves.subarray(32 * i, 32 * i + 32),
          );
          const want = hex(Buffer.concat(definition(head, split)));
          expect(hex(hasher.chain(head, leaves))).toBe(want);
          expect(hex(chainOneByOne(sha256One, head, leaves))).toBe(want);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a store writes the chain of the definition over commits of random sizes and a reopen', () => {
    const core = cores.get(backend) as Core;
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 5 }),
        (sizes, reopenAfter) => {
          const t = tempDir('cs-chain-');
          cleanups.push(t.cleanup);
          let store = Store.open(t.dir, core);
          try {
            sizes.forEach((n, i) => {
              store.commit(
                fakeEvents(n),
                i === 0 ? [{ type: 'critical', reason: 'NODE_START' }] : [],
              );
              if (i === reopenAfter) {
                store.close();
                store = Store.open(t.dir, core);
              }
            });
            const size = store.audit.size;
            expect(size).toBe(1 + sizes.reduce((a, b) => a + b, 0));
            const entries = Array.from({ length: size }, (_, seq) => store.audit.entry(seq));
            const want = definition(
              new Uint8Array(32),
              entries.map((e) => e?.leafHash ?? new Uint8Array(0)),
            );
            expect(entries.map((e) => hex(e?.chainHash ?? new Uint8Array(0)))).toEqual(
              want.map(hex),
            );
            expect(hex(store.audit.chainHead)).toBe(hex(want[want.length - 1] as Uint8Array));
          } finally {
            store.close();
          }
          expect(verifyAuditData(t.dir, core).ok).toBe(true);
        },
      ),
      { numRuns: 6 },
    );
  });
});
