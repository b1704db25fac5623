#!/usr/bin/env node
// Generates zip215.json: the 196 ZIP-215 small-order test cases.
//
// Procedure (ed25519-consensus tests/small_order.rs + tests/util/mod.rs, the same test as
// ed25519-zebra tests/small_order.rs):
//   encodings = the 8 canonical encodings of the 8-torsion points (curve25519-dalek EIGHT_TORSION,
//               in that order) ++ the first 6 entries of non_canonical_point_encodings()
//   for A in encodings: for R in encodings: signature = R || S with S = 0, message = b"Zcash",
//   valid_zip215 = true (A and R are torsion points, so [8][S]B = 0 = [8]R + [8][k]A).
//
// Usage: node gen-zip215.mjs [output.json]   (default: zip215.json next to this script)
// Needs @noble/curves v2 resolvable from this script's location (Node ESM resolution walks up
// from the script's directory looking for node_modules), used only to
// reproduce the "does this encoding decompress" filter of the source and to self-check.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ed25519 } from '@noble/curves/ed25519.js';

const Point = ed25519.Point;
const hex = (b) => Buffer.from(b).toString('hex');
const unhex = (h) => Uint8Array.from(Buffer.from(h, 'hex'));

// curve25519-dalek constants EIGHT_TORSION[i] = [i]P for a generator P of the 8-torsion subgroup,
// compressed (as listed, byte for byte, in novifinancial/ed25519-speccheck src/main.rs
// "ported from curve25519-dalek", and used via EIGHT_TORSION.iter().map(|p| p.compress()) in
// ed25519-consensus / ed25519-zebra tests/small_order.rs).
const EIGHT_TORSION = [
  '0100000000000000000000000000000000000000000000000000000000000000',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  '0000000000000000000000000000000000000000000000000000000000000080',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  '0000000000000000000000000000000000000000000000000000000000000000',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
];

// ed25519-consensus tests/util/mod.rs non_canonical_field_encodings(): the 19 field elements
// y + p (y = 0..18) that fit in 255 bits, little-endian, sign bit clear.
function nonCanonicalFieldEncodings() {
  const out = [];
  for (let i = 0; i < 19; i++) {
    const b = new Uint8Array(32).fill(255);
    b[0] = 237 + i;
    b[31] = 127;
    out.push(b);
  }
  return out;
}

const decompresses = (b) => {
  try {
    Point.fromBytes(b, true);
    return true;
  } catch {
    return false;
  }
};

// ed25519-consensus tests/util/mod.rs non_canonical_point_encodings()
function nonCanonicalPointEncodings() {
  const enc = [];
  enc.push(unhex('0100000000000000000000000000000000000000000000000000000000000080')); // y1_noncanonical_sign_bit
  enc.push(unhex('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff')); // ym1_noncanonical_sign_bit
  for (const x of nonCanonicalFieldEncodings()) {
    if (decompresses(x)) enc.push(Uint8Array.from(x));
    x[31] |= 128;
    if (decompresses(x)) enc.push(Uint8Array.from(x));
  }
  // source: "Check that all of the non-canonical points are really non-canonical"
  for (const e of enc)
    if (hex(Point.fromBytes(e, true).toBytes()) === hex(e)) throw new Error(`canonical: ${hex(e)}`);
  return enc;
}

const canonical = EIGHT_TORSION.map(unhex);
// self-check: EIGHT_TORSION[i] == [i] * EIGHT_TORSION[1], each canonical
const P1 = Point.fromBytes(canonical[1]);
let acc = Point.ZERO;
for (let i = 0; i < 8; i++) {
  if (hex(acc.toBytes()) !== EIGHT_TORSION[i]) throw new Error(`EIGHT_TORSION mismatch at ${i}`);
  acc = acc.add(P1);
}
if (!acc.is0()) throw new Error('P1 does not have order 8');

const nonCanonical = nonCanonicalPointEncodings().slice(0, 6); // .take(6)
for (const e of nonCanonical)
  if (!Point.fromBytes(e, true).isSmallOrder()) throw new Error(`not small order: ${hex(e)}`);
const encodings = [...canonical, ...nonCanonical];
const label = (i) => (i < 8 ? `T${i}` : `N${i - 8}`);
const describe = (i) => {
  const p = Point.fromBytes(encodings[i], true);
  let ord = 1,
    q = p;
  while (!q.is0()) {
    q = q.add(p);
    ord++;
  }
  return i < 8
    ? `canonical ${label(i)} = [${i}]P (order ${ord})`
    : `non-canonical ${label(i)} (order ${ord}, canonical form ${hex(p.toBytes())})`;
};

const MESSAGE = Buffer.from('Zcash').toString('hex');
const S_ZERO = '00'.repeat(32);
const cases = [];
for (let a = 0; a < encodings.length; a++) {
  for (let r = 0; r < encodings.length; r++) {
    const flags = ['small_order_A', 'small_order_R'];
    if (a >= 8) flags.push('non_canonical_A');
    if (r >= 8) flags.push('non_canonical_R');
    cases.push({
      id: `A${label(a)}-R${label(r)}`,
      comment: `A = ${describe(a)}; R = ${describe(r)}; S = 0; message "Zcash"`,
      publicKey: hex(encodings[a]),
      message: MESSAGE,
      signature: hex(encodings[r]) + S_ZERO,
      valid: true,
      sourceResult: 'valid_zip215 = true',
      flags,
    });
  }
}
if (cases.length !== 196) throw new Error('expected 196 cases');

const doc = {
  source:
    'ZIP 215 "Explicitly Defining and Modifying Ed25519 Validation Rules" (zcash/zips zips/zip-0215.rst, https://zips.z.cash/zip-0215); test procedure and encodings from penumbra-zone/ed25519-consensus tests/small_order.rs (commit 2ec9dc2a4ac70b53f35c46623983895875f1847d) and tests/util/mod.rs (commit 61afa04c175100f7aa3cfffc431924746634aed9), the same SMALL_ORDER_SIGS test as ZcashFoundation/ed25519-zebra tests/small_order.rs; canonical 8-torsion encodings = curve25519-dalek EIGHT_TORSION',
  license: 'ZIP 215: BSD-2-Clause; ed25519-consensus / ed25519-zebra test code: MIT OR Apache-2.0',
  description:
    'The 196 ZIP-215 small-order cases, generated deterministically by gen-zip215.mjs (this directory) with the ed25519-consensus SMALL_ORDER_SIGS procedure: 14 encodings = the 8 canonical encodings of the 8-torsion points (T0..T7 = curve25519-dalek EIGHT_TORSION, T_i = [i]P) followed by the first 6 outputs of non_canonical_point_encodings() (N0 = 0100..0080 (y = 1, sign bit set), N1 = ecff..ffff (y = -1, sign bit set), N2/N3 = edff..ff7f / edff..ffff (y = p, i.e. 0, sign 0/1), N4/N5 = eeff..ff7f / eeff..ffff (y = p + 1, i.e. 1, sign 0/1)); for every A (outer loop) and R (inner loop) among them: signature = R || S with S = 0 (32 zero bytes), message = "Zcash" (5a63617368). All are valid under ZIP-215 (the source asserts valid_zip215 = true): A and R are torsion points, so [8]R = [8][k]A = 0 = [8][0]B. Under the source\'s legacy (libsodium 1.0.15) rules many of them are invalid; that verdict is not recorded here.',
  rule: 'zip215',
  cases,
};

const here = path.dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] || path.join(here, 'zip215.json');
fs.writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`);
console.log(`wrote ${out} (${cases.length} cases)`);
