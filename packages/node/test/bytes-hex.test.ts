/**
 * `toHex` (protocol/bytes.ts) writes ASCII into a byte array, reused for 32-byte values: it
 * must agree with Node's own hex for every length and byte, and a string it returned must not
 * change when the next call reuses the array.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../src/protocol/bytes.js';

describe('toHex', () => {
  it("agrees with Buffer's hex for any bytes, and fromHex reads it back", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), (bytes) => {
        const hex = toHex(bytes);
        expect(hex).toBe(Buffer.from(bytes).toString('hex'));
        expect(fromHex(hex)).toEqual(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it('a 32-byte value keeps its hex when later calls reuse the scratch array', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 2, maxLength: 20 }),
        (ids) => {
          const hexes = ids.map(toHex);
          ids.forEach((id, i) => {
            expect(hexes[i]).toBe(Buffer.from(id).toString('hex'));
          });
        },
      ),
    );
  });

  it('every byte value, and a view into a larger buffer', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(toHex(all)).toBe(Buffer.from(all).toString('hex'));
    const view = all.subarray(100, 132);
    expect(toHex(view)).toBe(Buffer.from(view).toString('hex'));
  });
});
