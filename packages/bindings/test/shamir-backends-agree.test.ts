// Shamir backups across the three backends: each reproduces the vectors that an independent
// Python implementation generated (spec/vectors/shamir, checked again by that script here), and
// fast-check splits on one backend and combines on another. Fewer shares than the threshold and
// any corrupted share are typed errors on every backend, never a wrong secret.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';

import { BACKENDS, type Backend, type Core, loadCore, ShamirError } from '../src/index.js';
import { hex, toHex, VECTORS } from './vectors.js';

interface VectorFile {
  cases: {
    name: string;
    secret: string;
    threshold: number;
    count: number;
    randomness: string;
    shares: string[];
  }[];
  invalid: { name: string; shares: string[]; error: string }[];
}
const file = JSON.parse(
  readFileSync(`${VECTORS}shamir/commons-sync-v1.json`, 'utf8'),
) as VectorFile;

const cores = {} as Record<Backend, Core>;
beforeAll(async () => {
  for (const b of BACKENDS) cores[b] = await loadCore({ backend: b });
});

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ShamirError);
    return (error as ShamirError).code;
  }
  return 'no error';
}

it('the independent Python implementation regenerates the vector file byte for byte', () => {
  const out = execFileSync('python3', [`${VECTORS}shamir/gen_shamir.py`, '--check'], {
    encoding: 'utf8',
  });
  expect(out).toContain('reproduces every case');
});

describe.each(BACKENDS)('%s backend against the vectors', (backend) => {
  it('splits reproduce every share and any threshold of them combine', () => {
    expect(file.cases.length).toBeGreaterThanOrEqual(8);
    for (const c of file.cases) {
      const shares = cores[backend].shamirSplitWithRandomness(
        hex(c.secret),
        c.threshold,
        c.count,
        hex(c.randomness),
      );
      expect(shares.map(toHex), c.name).toEqual(c.shares);
      const given = c.shares.map(hex);
      expect(toHex(cores[backend].shamirCombine(given.slice(0, c.threshold))), c.name).toBe(
        c.secret,
      );
      expect(toHex(cores[backend].shamirCombine(given.slice(-c.threshold).reverse())), c.name).toBe(
        c.secret,
      );
      expect(codeOf(() => cores[backend].shamirCombine(given.slice(0, c.threshold - 1)))).toBe(
        'ERR_SHAMIR_TOO_FEW',
      );
    }
  });

  it('refuses each invalid share set with its code', () => {
    for (const c of file.invalid) {
      expect(
        codeOf(() => cores[backend].shamirCombine(c.shares.map(hex))),
        c.name,
      ).toBe(c.error);
    }
  });

  it('refuses bad parameters with ERR_SHAMIR_PARAMS', () => {
    const core = cores[backend];
    for (const [secret, m, n] of [
      [new Uint8Array(0), 2, 3],
      [new Uint8Array(1025), 2, 3],
      [new Uint8Array(32), 1, 3],
      [new Uint8Array(32), 4, 3],
      [new Uint8Array(32), 2, 256],
      [new Uint8Array(32), 2.5, 3],
    ] as const) {
      expect(codeOf(() => core.shamirSplit(secret, m, n))).toBe('ERR_SHAMIR_PARAMS');
    }
    expect(
      codeOf(() => core.shamirSplitWithRandomness(new Uint8Array(32), 2, 3, new Uint8Array(7))),
    ).toBe('ERR_SHAMIR_PARAMS');
  });
});

const splitArb = fc
  .record({
    secret: fc.uint8Array({ minLength: 1, maxLength: 64 }),
    count: fc.integer({ min: 2, max: 12 }),
    splitOn: fc.constantFrom(...BACKENDS),
    combineOn: fc.constantFrom(...BACKENDS),
    seed: fc.integer(),
  })
  .chain(
    (r) =>
      fc.record({
        ...Object.fromEntries(Object.entries(r).map(([k, v]) => [k, fc.constant(v)])),
        threshold: fc.integer({ min: 2, max: r.count }),
      }) as fc.Arbitrary<typeof r & { threshold: number }>,
  )
  .chain((r) =>
    fc
      .shuffledSubarray([...Array(r.count).keys()], {
        minLength: r.threshold,
        maxLength: r.threshold,
      })
      .map((pick) => ({ ...r, pick })),
  );

describe('split on one backend, combine on another', () => {
  it('any threshold of shares restore the secret; one fewer is ERR_SHAMIR_TOO_FEW', () => {
    fc.assert(
      fc.property(splitArb, ({ secret, threshold, count, splitOn, combineOn, pick }) => {
        const shares = cores[splitOn].shamirSplit(secret, threshold, count);
        const chosen = pick.map((i) => shares[i] as Uint8Array);
        expect(toHex(cores[combineOn].shamirCombine(chosen))).toBe(toHex(secret));
        expect(codeOf(() => cores[combineOn].shamirCombine(chosen.slice(1)))).toBe(
          'ERR_SHAMIR_TOO_FEW',
        );
      }),
      { numRuns: 150 },
    );
  });

  it('a share with any bit flipped gives the same typed error on every backend, never a secret', () => {
    fc.assert(
      fc.property(
        splitArb,
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        ({ secret, threshold, count, splitOn, pick }, at, bit) => {
          const shares = cores[splitOn].shamirSplit(secret, threshold, count);
          const chosen = pick.map((i) => Uint8Array.from(shares[i] as Uint8Array));
          const victim = chosen[at % chosen.length] as Uint8Array;
          const byte = at % victim.length;
          victim[byte] = (victim[byte] as number) ^ (1 << bit);
          const codes = BACKENDS.map((b) => codeOf(() => cores[b].shamirCombine(chosen)));
          expect(codes[0]).toMatch(/^ERR_SHAMIR_(CHECKSUM|FORMAT|VERSION)$/);
          expect(new Set(codes).size).toBe(1);
        },
      ),
      { numRuns: 200 },
    );
  });
});
