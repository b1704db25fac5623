/** Ed25519 verification: our three backends against the libraries a user would pick instead. */
import { verify as nodeVerify } from 'node:crypto';

import type { Core, SignedItem } from '@commons-sync/bindings';
import { ed25519 } from '@noble/curves/ed25519.js';
import sodium from 'sodium-native';
import nacl from 'tweetnacl';

import {
  BATCH_SIZES,
  corruptMessage,
  corruptSignature,
  packFirst,
  type SignatureSet,
} from './inputs.js';
import { type Case, sink } from './runner.js';

/**
 * The batch sizes a backend is timed at. The js backend has no batch equation (its batch call is
 * a loop of single verifies, so its cost per signature is the same at every size): it is timed
 * at 64 only, which also keeps the run short (a js batch of 1,024 takes about a second).
 */
function batchSizesOf(core: Core): readonly number[] {
  return core.backend === 'js' ? [64] : BATCH_SIZES;
}

/** Single verification cycles through this many signatures, so no one key stays hot. */
const ROTATION = 64;

/** Verifies item `i`'s public key over the given message and signature, as its users call it. */
interface Verifier {
  impl: string;
  baseline?: boolean;
  verify(i: number, message: Uint8Array, signature: Uint8Array): boolean;
}

function verifiers(cores: readonly Core[], set: SignatureSet): Verifier[] {
  const keys = set.publicKeys;
  const keyObjects = set.keyObjects;
  return [
    ...cores.map((core) => ({
      impl: core.backend,
      verify: (i: number, m: Uint8Array, s: Uint8Array) => core.ed25519Verify(keys[i]!, m, s),
    })),
    {
      impl: 'node:crypto',
      baseline: true,
      verify: (i, m, s) => nodeVerify(null, m, keyObjects[i]!, s),
    },
    { impl: '@noble/curves', verify: (i, m, s) => ed25519.verify(s, m, keys[i]!) },
    { impl: 'tweetnacl', verify: (i, m, s) => nacl.sign.detached.verify(m, s, keys[i]!) },
    {
      impl: 'sodium-native',
      verify: (i, m, s) => sodium.crypto_sign_verify_detached(s, m, keys[i]!),
    },
  ];
}

function corrupted(bytes: Uint8Array, at: number): Uint8Array {
  const copy = bytes.slice();
  copy[at] = (copy[at] as number) ^ 0x01;
  return copy;
}

function attempt(f: () => boolean): boolean | string {
  try {
    return f();
  } catch (error) {
    return `threw ${String(error)}`;
  }
}

/**
 * Every implementation must accept every benchmark signature and reject corrupted ones before
 * anything is timed: a fast wrong answer is not a result. Returns the problems found.
 */
export function checkEd25519(cores: readonly Core[], set: SignatureSet): string[] {
  const problems: string[] = [];
  const { messages, signatures } = set;
  for (const v of verifiers(cores, set)) {
    const count = v.impl === 'node:crypto' ? messages.length : ROTATION; // node loops over all
    for (let i = 0; i < count; i++) {
      const ok = attempt(() => v.verify(i, messages[i]!, signatures[i]!));
      if (ok !== true) problems.push(`${v.impl}: signature ${i} should be valid, got ${ok}`);
    }
    const badSig = attempt(() => v.verify(0, messages[0]!, corrupted(signatures[0]!, 32)));
    const badMsg = attempt(() => v.verify(1, corrupted(messages[1]!, 0), signatures[1]!));
    if (badSig !== false) problems.push(`${v.impl}: a corrupted signature passed (${badSig})`);
    if (badMsg !== false) problems.push(`${v.impl}: a corrupted message passed (${badMsg})`);
  }
  for (const core of cores) {
    for (const n of batchSizesOf(core)) {
      const verdicts = core.ed25519VerifyBatchPacked(packFirst(set, n));
      const bad = verdicts.length === n ? verdicts.indexOf(0) : -2;
      if (bad !== -1) problems.push(`${core.backend}: batch-${n} rejected item ${bad}`);
    }
    const tampered = corruptMessage(corruptSignature(packFirst(set, 64), 3), 40);
    const verdicts = Array.from(core.ed25519VerifyBatchPacked(tampered));
    const expected = verdicts.map((_, i) => (i === 3 || i === 40 ? 0 : 1));
    if (verdicts.join() !== expected.join()) {
      problems.push(`${core.backend}: batch with items 3, 40 corrupted gave ${verdicts.join('')}`);
    }
  }
  return problems;
}

/** node:crypto's answer to a batch: `n` single verifies from `start`, KeyObjects made in advance. */
function nodeCryptoLoop(set: SignatureSet, start: number, n: number): number {
  let ok = 0;
  for (let i = start; i < start + n; i++) {
    if (nodeVerify(null, set.messages[i]!, set.keyObjects[i]!, set.signatures[i]!)) ok++;
  }
  return ok;
}

export function ed25519Cases(cores: readonly Core[], set: SignatureSet): Case[] {
  const { messages, signatures } = set;
  const cases: Case[] = verifiers(cores, set).map((v) => {
    let next = 0;
    return {
      group: 'ed25519 verify',
      impl: v.impl,
      baseline: v.baseline === true,
      itemsPerOp: 1,
      bytesPerOp: 0,
      fn: () => {
        const i = next++ % ROTATION;
        if (v.verify(i, messages[i]!, signatures[i]!)) sink.value++;
      },
    };
  });
  for (const n of BATCH_SIZES) {
    const group = `ed25519 batch-${n}`;
    const packed = packFirst(set, n); // packed once, outside the timed loop
    for (const core of cores.filter((c) => batchSizesOf(c).includes(n))) {
      cases.push({
        group,
        impl: core.backend,
        itemsPerOp: n,
        bytesPerOp: 0,
        fn: () => {
          sink.value += core.ed25519VerifyBatchPacked(packed)[0]!;
        },
      });
    }
    if (n === 64) cases.push(...arrayCases(cores, group, [itemsOf(set, 0, n)]));
    cases.push({
      group,
      impl: 'node:crypto',
      baseline: true,
      itemsPerOp: n,
      bytesPerOp: 0,
      fn: () => {
        sink.value += nodeCryptoLoop(set, 0, n);
      },
    });
  }
  return cases;
}

export const COLD_GROUP = 'ed25519 batch-64 cold keys';

/** Distinct keys in the cold-key rotation: four times the bindings' per-thread key cache (4096). */
export const COLD_KEYS = 16_384;

/** Items `start..start + n` of a set in the array form that `ed25519VerifyBatch` takes. */
function itemsOf(set: SignatureSet, start: number, n: number): SignedItem[] {
  return Array.from({ length: n }, (_, j) => ({
    publicKey: set.publicKeys[start + j]!,
    message: set.messages[start + j]!,
    signature: set.signatures[start + j]!,
  }));
}

/**
 * The native backend through the array form, `ed25519VerifyBatch(items)`, rotating through
 * `batches` (built before timing): what callers that hold items rather than packed buffers pay,
 * packing included.
 */
function arrayCases(cores: readonly Core[], group: string, batches: SignedItem[][]): Case[] {
  return cores
    .filter((core) => core.backend === 'native')
    .map((core) => {
      let next = 0;
      return {
        group,
        impl: `${core.backend} (array)`,
        itemsPerOp: batches[0]!.length,
        bytesPerOp: 0,
        fn: () => {
          if (core.ed25519VerifyBatch(batches[next++ % batches.length]!)[0]) sink.value++;
        },
      };
    });
}

/**
 * Batch-64 where no key has been seen recently: the rotation walks through {@link COLD_KEYS}
 * distinct signers, so every public key must be decoded again (the worst case; a validator whose
 * authors repeat sits between this and the warm figures above).
 */
export function coldBatchCases(cores: readonly Core[], cold: SignatureSet): Case[] {
  const n = 64;
  const batches = cold.publicKeys.length / n;
  const packed = Array.from({ length: batches }, (_, b) => {
    const slice: SignatureSet = {
      publicKeys: cold.publicKeys.slice(b * n, b * n + n),
      messages: cold.messages.slice(b * n, b * n + n),
      signatures: cold.signatures.slice(b * n, b * n + n),
      keyObjects: [],
    };
    return packFirst(slice, n);
  });
  const group = COLD_GROUP;
  const cases: Case[] = cores
    .filter((core) => core.backend !== 'js') // @noble has no key cache: its batch-64 is cold
    .map((core) => {
      let next = 0;
      return {
        group,
        impl: core.backend,
        itemsPerOp: n,
        bytesPerOp: 0,
        fn: () => {
          sink.value += core.ed25519VerifyBatchPacked(packed[next++ % batches]!)[0]!;
        },
      };
    });
  const items = Array.from({ length: batches }, (_, b) => itemsOf(cold, b * n, n));
  cases.push(...arrayCases(cores, group, items));
  let next = 0;
  cases.push({
    group,
    impl: 'node:crypto',
    baseline: true,
    itemsPerOp: n,
    bytesPerOp: 0,
    fn: () => {
      sink.value += nodeCryptoLoop(cold, (next++ % batches) * n, n);
    },
  });
  return cases;
}
