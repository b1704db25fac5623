#!/usr/bin/env node
// Generates edge-lengths.json: malformed-length Ed25519 inputs derived from RFC 8032 TEST 1.
// A public key must be exactly 32 bytes and a signature exactly 64 bytes; anything else is invalid.
//
// Usage: node gen-edge-lengths.mjs [output.json]   (default: edge-lengths.json next to this script)
// No dependencies: reads TEST 1 from rfc8032.json in the same directory.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const rfc = JSON.parse(fs.readFileSync(path.join(here, 'rfc8032.json'), 'utf8'));
const t1 = rfc.cases.find((c) => c.id === 'test-1');
if (t1?.publicKey.length !== 64 || t1.signature.length !== 128) throw new Error('TEST 1 not found');

// Resize a hex string to n bytes: truncate, or extend by appending 0x00 bytes.
const resize = (h, n) =>
  n * 2 <= h.length ? h.slice(0, n * 2) : h + '00'.repeat(n - h.length / 2);

const cases = [];
for (const n of [0, 31, 33]) {
  cases.push({
    id: `pubkey-len-${n}`,
    comment: `RFC 8032 TEST 1 with the public key ${n === 0 ? 'empty' : n < 32 ? `truncated to its first ${n} bytes` : `extended to ${n} bytes by appending 0x00`}; signature and (empty) message unchanged. Invalid: public keys must be 32 bytes.`,
    publicKey: resize(t1.publicKey, n),
    message: t1.message,
    signature: t1.signature,
    valid: false,
    flags: ['bad_public_key_length'],
  });
}
for (const n of [0, 63, 65]) {
  cases.push({
    id: `signature-len-${n}`,
    comment: `RFC 8032 TEST 1 with the signature ${n === 0 ? 'empty' : n < 64 ? `truncated to its first ${n} bytes` : `extended to ${n} bytes by appending 0x00`}; public key and (empty) message unchanged. Invalid: signatures must be 64 bytes.`,
    publicKey: t1.publicKey,
    message: t1.message,
    signature: resize(t1.signature, n),
    valid: false,
    flags: ['bad_signature_length'],
  });
}

const doc = {
  source:
    'derived from RFC 8032 TEST 1 (https://www.rfc-editor.org/rfc/rfc8032#section-7.1, case test-1 of rfc8032.json) by gen-edge-lengths.mjs',
  license: 'IETF Trust / RFC 8032 (Simplified BSD)',
  description:
    'Malformed-length inputs built from RFC 8032 TEST 1: the 32-byte public key resized to 0, 31 and 33 bytes, and the 64-byte signature resized to 0, 63 and 65 bytes (truncation keeps the leading bytes; extension appends 0x00), the other inputs left intact. All are invalid under ZIP-215: a verifier must reject (return false, not crash) any public key that is not exactly 32 bytes and any signature that is not exactly 64 bytes.',
  rule: 'zip215',
  cases,
};
const out = process.argv[2] || path.join(here, 'edge-lengths.json');
fs.writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`);
console.log(`wrote ${out} (${cases.length} cases)`);
