/** Hashing: our native and wasm backends against node:crypto and @noble/hashes. */
import { createHash, hash as nodeHash } from 'node:crypto';

import type { Core, HashAlgorithm } from '@commons-sync/bindings';
import { blake3 } from '@noble/hashes/blake3.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';

import { HASH_BATCH, type HashInputs } from './inputs.js';
import { type Case, sink } from './runner.js';

const ALGORITHMS: readonly HashAlgorithm[] = ['sha256', 'sha512', 'blake3'];
const DIGEST_LENGTH: Record<HashAlgorithm, number> = { sha256: 32, sha512: 64, blake3: 32 };
const NOBLE: Record<HashAlgorithm, (data: Uint8Array) => Uint8Array> = { sha256, sha512, blake3 };

interface Hasher {
  impl: string;
  baseline?: boolean;
  hash(data: Uint8Array): Uint8Array;
}

/** node:crypto (OpenSSL) has no BLAKE3; there @noble/hashes is the reference. */
function hashers(cores: readonly Core[], algorithm: HashAlgorithm): Hasher[] {
  const list: Hasher[] = cores.map((core) => ({
    impl: core.backend,
    hash: (d: Uint8Array) => core[algorithm](d),
  }));
  if (algorithm !== 'blake3') {
    list.push({
      impl: 'node:crypto',
      baseline: true,
      hash: (d) => createHash(algorithm).update(d).digest(),
    });
  }
  list.push({ impl: '@noble/hashes', baseline: algorithm === 'blake3', hash: NOBLE[algorithm] });
  return list;
}

/** Hashes every message of the batch one call at a time, digests back to back like hashBatch. */
function loop(hash: (d: Uint8Array) => Uint8Array, views: readonly Uint8Array[], len: number) {
  return (): Uint8Array => {
    const out = new Uint8Array(views.length * len);
    for (let i = 0; i < views.length; i++) out.set(hash(views[i]!), i * len);
    return out;
  };
}

function batchRunners(cores: readonly Core[], algorithm: HashAlgorithm, inputs: HashInputs) {
  const { packed, views } = inputs.batch;
  const len = DIGEST_LENGTH[algorithm];
  type Runner = { impl: string; baseline?: boolean; run: () => Uint8Array };
  const runners: Runner[] = cores.map((core) => ({
    impl: core.backend,
    run: () => core.hashBatch(algorithm, packed),
  }));
  if (algorithm !== 'blake3') {
    const h = (d: Uint8Array) => createHash(algorithm).update(d).digest();
    runners.push({ impl: 'node:crypto createHash loop', baseline: true, run: loop(h, views, len) });
    // The one-shot crypto.hash() skips the Hash object: a user's best node:crypto option.
    const oneShot = (d: Uint8Array) => nodeHash(algorithm, d, 'buffer');
    runners.push({ impl: 'node:crypto hash() loop', run: loop(oneShot, views, len) });
  }
  runners.push({
    impl: '@noble/hashes loop',
    baseline: algorithm === 'blake3',
    run: loop(NOBLE[algorithm], views, len),
  });
  return runners;
}

/** Links per call of the chain group: about one commit of the node's audit log. */
const CHAIN_LINKS = 1000;

/**
 * The audit log's chain (spec/AUDIT.md §3): `sha256Chain` against the loop the node ran before,
 * one call per link. Head and leaves are the first bytes of the batch inputs.
 */
function chainRunners(cores: readonly Core[], inputs: HashInputs) {
  const data = inputs.batch.packed.data;
  const head = data.subarray(0, 32);
  const leaves = data.subarray(32, 32 + 32 * CHAIN_LINKS);
  const loop = (hash: (d: Uint8Array) => Uint8Array) => (): Uint8Array => {
    const out = new Uint8Array(leaves.length);
    const input = new Uint8Array(64);
    input.set(head, 0);
    for (let at = 0; at < leaves.length; at += 32) {
      input.set(leaves.subarray(at, at + 32), 32);
      const link = hash(input);
      out.set(link, at);
      input.set(link, 0);
    }
    return out;
  };
  type Runner = { impl: string; baseline?: boolean; run: () => Uint8Array };
  const runners: Runner[] = cores.map((core) => ({
    impl: core.backend,
    run: () => core.sha256Chain(head, leaves),
  }));
  runners.push({
    impl: 'node:crypto hash() loop',
    baseline: true,
    run: loop((d) => nodeHash('sha256', d, 'buffer')),
  });
  runners.push({ impl: '@noble/hashes loop', run: loop(sha256) });
  return runners;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** Every implementation must produce the same digests before anything is timed. */
export function checkHashing(cores: readonly Core[], inputs: HashInputs): string[] {
  const problems: string[] = [];
  for (const algorithm of ALGORITHMS) {
    for (const { label, data } of inputs.single) {
      const expected = hex(NOBLE[algorithm](data));
      for (const h of hashers(cores, algorithm)) {
        const got = hex(h.hash(data));
        if (got !== expected) problems.push(`${h.impl}: ${algorithm} of ${label} disagrees`);
      }
    }
    const batchRuns = batchRunners(cores, algorithm, inputs);
    const expected = hex(batchRuns[batchRuns.length - 1]!.run()); // the @noble/hashes loop
    for (const r of batchRuns) {
      if (hex(r.run()) !== expected) problems.push(`${r.impl}: ${algorithm} batch disagrees`);
    }
  }
  const chainRuns = chainRunners(cores, inputs);
  const expected = hex(chainRuns[chainRuns.length - 1]!.run()); // the @noble/hashes loop
  for (const r of chainRuns) {
    if (hex(r.run()) !== expected) problems.push(`${r.impl}: sha256 chain disagrees`);
  }
  return problems;
}

export function hashingCases(allCores: readonly Core[], inputs: HashInputs): Case[] {
  // The js backend hashes with @noble/hashes, which is timed as a peer already.
  const cores = allCores.filter((core) => core.backend !== 'js');
  const cases: Case[] = [];
  for (const algorithm of ALGORITHMS) {
    for (const { label, data } of inputs.single) {
      for (const h of hashers(cores, algorithm)) {
        cases.push({
          group: `${algorithm} ${label}`,
          impl: h.impl,
          baseline: h.baseline === true,
          itemsPerOp: 1,
          bytesPerOp: data.length,
          fn: () => {
            sink.value += h.hash(data)[0]!;
          },
        });
      }
    }
  }
  const { count, bytes } = HASH_BATCH;
  for (const algorithm of ['sha256', 'blake3'] as const) {
    for (const r of batchRunners(cores, algorithm, inputs)) {
      cases.push({
        group: `${algorithm} batch ${count}×${bytes} B`,
        impl: r.impl,
        baseline: r.baseline === true,
        itemsPerOp: count,
        bytesPerOp: count * bytes,
        fn: () => {
          sink.value += r.run()[0]!;
        },
      });
    }
  }
  for (const r of chainRunners(cores, inputs)) {
    cases.push({
      group: `sha256 chain ${CHAIN_LINKS} links`,
      impl: r.impl,
      baseline: r.baseline === true,
      itemsPerOp: CHAIN_LINKS,
      bytesPerOp: CHAIN_LINKS * 64,
      fn: () => {
        sink.value += r.run()[0]!;
      },
    });
  }
  return cases;
}
