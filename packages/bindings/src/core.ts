import { InvalidSeedError, ShamirError, UnknownAlgorithmError } from './errors.js';
import {
  checkChainInputs,
  checkPackedBatch,
  checkPackedMessages,
  isBytes,
  packMessages,
  packSignatureBatch,
} from './packing.js';
import { checkShamirParams } from './shamir.js';
import type { Backend, Core, HashAlgorithm, RawBackend } from './types.js';

const HASH_ALGORITHMS: ReadonlySet<string> = new Set(['sha256', 'sha512', 'blake3']);

function checkSeed(seed: unknown): Uint8Array {
  if (!isBytes(seed) || seed.length !== 32) {
    const got = isBytes(seed) ? `${seed.length} bytes` : typeof seed;
    throw new InvalidSeedError(`an Ed25519 seed must be a 32-byte Uint8Array, got ${got}`);
  }
  return seed;
}

function checkData(data: unknown, what: string): Uint8Array {
  if (!isBytes(data)) throw new TypeError(`${what} must be a Uint8Array`);
  return data;
}

/** A backend's Shamir refusal (a plain Error with a `code`) as a {@link ShamirError}. */
function shamirCall<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (
      !(error instanceof ShamirError) &&
      typeof code === 'string' &&
      (code.startsWith('ERR_SHAMIR_') || code === 'ERR_RANDOMNESS')
    ) {
      throw new ShamirError(code, (error as Error).message, { cause: error });
    }
    throw error;
  }
}

/** Cuts `count` equal shares out of a backend's packed output. */
function unpackShares(packed: Uint8Array, count: number): Uint8Array[] {
  const size = packed.length / count;
  return Array.from({ length: count }, (_, i) => packed.slice(i * size, (i + 1) * size));
}

/**
 * Wraps a raw backend in the checks every backend shares, so that all of them see the same
 * inputs and give the same verdicts: wrong lengths are `false` before any backend runs.
 */
export function makeCore(backend: Backend, raw: RawBackend): Core {
  return Object.freeze({
    backend,
    ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
      if (!isBytes(publicKey) || !isBytes(message) || !isBytes(signature)) return false;
      if (publicKey.length !== 32 || signature.length !== 64) return false;
      return raw.verify(publicKey, message, signature);
    },
    ed25519VerifyBatch(items) {
      const verdicts: boolean[] = new Array<boolean>(items.length).fill(false);
      const { batch, positions } = packSignatureBatch(items);
      if (positions.length === 0) return verdicts;
      const packed = raw.verifyBatchPacked(
        batch.publicKeys,
        batch.signatures,
        batch.messages.data,
        batch.messages.offsets,
      );
      positions.forEach((p, j) => {
        verdicts[p] = packed[j] === 1;
      });
      return verdicts;
    },
    ed25519VerifyBatchPacked(batch) {
      const n = checkPackedBatch(batch);
      if (n === 0) return new Uint8Array(0);
      return raw.verifyBatchPacked(
        batch.publicKeys,
        batch.signatures,
        batch.messages.data,
        batch.messages.offsets,
      );
    },
    ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
      return raw.sign(checkSeed(seed), checkData(message, 'message'));
    },
    ed25519PublicKey(seed: Uint8Array): Uint8Array {
      return raw.publicKey(checkSeed(seed));
    },
    sha256: (data: Uint8Array) => raw.sha256(checkData(data, 'data')),
    sha512: (data: Uint8Array) => raw.sha512(checkData(data, 'data')),
    blake3: (data: Uint8Array) => raw.blake3(checkData(data, 'data')),
    hashBatch(algorithm: HashAlgorithm, messages) {
      if (!HASH_ALGORITHMS.has(algorithm)) throw new UnknownAlgorithmError(algorithm);
      checkPackedMessages(messages);
      return raw.hashBatchPacked(algorithm, messages.data, messages.offsets);
    },
    sha256Chain(head: Uint8Array, leaves: Uint8Array): Uint8Array {
      if (checkChainInputs(head, leaves) === 0) return new Uint8Array(0);
      return raw.sha256Chain(head, leaves);
    },
    shamirSplit(secret: Uint8Array, threshold: number, count: number): Uint8Array[] {
      checkShamirParams(checkData(secret, 'secret').length, threshold, count);
      return unpackShares(
        shamirCall(() => raw.shamirSplit(secret, threshold, count)),
        count,
      );
    },
    shamirSplitWithRandomness(
      secret: Uint8Array,
      threshold: number,
      count: number,
      randomness: Uint8Array,
    ): Uint8Array[] {
      checkShamirParams(checkData(secret, 'secret').length, threshold, count);
      checkData(randomness, 'randomness');
      return unpackShares(
        shamirCall(() => raw.shamirSplitWithRandomness(secret, threshold, count, randomness)),
        count,
      );
    },
    shamirCombine(shares: ReadonlyArray<Uint8Array>): Uint8Array {
      if (!Array.isArray(shares) || !shares.every(isBytes))
        throw new TypeError('shares must be an array of Uint8Arrays');
      if (shares.length > 255) {
        throw new ShamirError(
          'ERR_SHAMIR_DUPLICATE_INDEX',
          `at most 255 distinct shares exist, got ${shares.length}`,
        );
      }
      const packed = packMessages(shares);
      return shamirCall(() => raw.shamirCombine(packed.data, packed.offsets));
    },
  } satisfies Core);
}
