/**
 * The inputs every implementation is timed on. They are derived from a fixed seed, so two runs
 * (and two machines) measure exactly the same bytes.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

import {
  type Core,
  type PackedMessages,
  type PackedSignatureBatch,
  packMessages,
} from '@commons-sync/bindings';

/** Signed messages are about the size of a small event. */
export const MESSAGE_LENGTH = 100;
export const BATCH_SIZES = [64, 256, 1024] as const;
export const HASH_SIZES = [
  { label: '32 B', bytes: 32 },
  { label: '1 KiB', bytes: 1024 },
  { label: '1 MiB', bytes: 1024 * 1024 },
] as const;
export const HASH_BATCH = { count: 10_000, bytes: 256 } as const;

/** Deterministic bytes: SHA-512 in counter mode over a label. */
export function seededBytes(label: string, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let at = 0, counter = 0; at < length; counter++) {
    const block = createHash('sha512').update(`${label}/${counter}`).digest();
    out.set(block.subarray(0, Math.min(block.length, length - at)), at);
    at += block.length;
  }
  return out;
}

/** One key per signature: distinct random signers, the worst case for batch verification. */
export interface SignatureSet {
  publicKeys: Uint8Array[];
  messages: Uint8Array[];
  signatures: Uint8Array[];
  /** The same public keys as node:crypto KeyObjects, built once (node:crypto's best case). */
  keyObjects: KeyObject[];
}

function rawEd25519KeyObject(publicKey: Uint8Array): KeyObject {
  const x = Buffer.from(publicKey).toString('base64url');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

/**
 * `signer` makes the keys and signatures (Ed25519 is deterministic: every correct implementation
 * makes the same bytes). The suite passes its wasm core, which ships inside the package: the
 * inputs then never wait on the build under test, which may be a deliberately slow native one.
 */
export function makeSignatureSet(signer: Core, count: number, label = 'ed25519'): SignatureSet {
  const set: SignatureSet = { publicKeys: [], messages: [], signatures: [], keyObjects: [] };
  for (let i = 0; i < count; i++) {
    const seed = seededBytes(`${label}-seed/${i}`, 32);
    const message = seededBytes(`${label}-message/${i}`, MESSAGE_LENGTH);
    const publicKey = signer.ed25519PublicKey(seed);
    set.publicKeys.push(publicKey);
    set.messages.push(message);
    set.signatures.push(signer.ed25519Sign(seed, message));
    set.keyObjects.push(rawEd25519KeyObject(publicKey));
  }
  return set;
}

/** The first `n` items of a set, packed for one boundary crossing. */
export function packFirst(set: SignatureSet, n: number): PackedSignatureBatch {
  const publicKeys = new Uint8Array(32 * n);
  const signatures = new Uint8Array(64 * n);
  for (let i = 0; i < n; i++) {
    publicKeys.set(set.publicKeys[i] as Uint8Array, 32 * i);
    signatures.set(set.signatures[i] as Uint8Array, 64 * i);
  }
  return { publicKeys, signatures, messages: packMessages(set.messages.slice(0, n)) };
}

/** A copy of a packed batch with item `i`'s signature (first byte of S) altered. */
export function corruptSignature(batch: PackedSignatureBatch, i: number): PackedSignatureBatch {
  const signatures = batch.signatures.slice();
  signatures[64 * i + 32] = (signatures[64 * i + 32] as number) ^ 0x01;
  return { ...batch, signatures };
}

/** A copy of a packed batch with one byte of item `i`'s message altered. */
export function corruptMessage(batch: PackedSignatureBatch, i: number): PackedSignatureBatch {
  const data = batch.messages.data.slice();
  const at = batch.messages.offsets[i] as number;
  data[at] = (data[at] as number) ^ 0x80;
  return { ...batch, messages: { data, offsets: batch.messages.offsets } };
}

export interface HashInputs {
  single: { label: string; data: Uint8Array }[];
  /** HASH_BATCH.count messages of HASH_BATCH.bytes, packed, plus views of each for the loops. */
  batch: { packed: PackedMessages; views: Uint8Array[] };
}

export function makeHashInputs(): HashInputs {
  const single = HASH_SIZES.map(({ label, bytes }) => ({
    label,
    data: seededBytes(`hash/${label}`, bytes),
  }));
  const { count, bytes } = HASH_BATCH;
  const data = seededBytes('hash-batch', count * bytes);
  const offsets = new Uint32Array(count + 1);
  for (let i = 0; i <= count; i++) offsets[i] = i * bytes;
  const views = Array.from({ length: count }, (_, i) => data.subarray(i * bytes, (i + 1) * bytes));
  return { single, batch: { packed: { data, offsets }, views } };
}
