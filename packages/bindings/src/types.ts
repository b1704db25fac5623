/** Which implementation backs a {@link Core}. */
export type Backend = 'native' | 'wasm' | 'js';

/** The digest algorithms of the core. */
export type HashAlgorithm = 'sha256' | 'sha512' | 'blake3';

/** One signature to check. */
export interface SignedItem {
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}

/**
 * Many messages in one buffer: message `i` is `data.subarray(offsets[i], offsets[i + 1])`.
 * `offsets` holds `n + 1` non-decreasing entries starting at 0.
 */
export interface PackedMessages {
  data: Uint8Array;
  offsets: Uint32Array;
}

/**
 * A batch of signatures laid out for one boundary crossing: `publicKeys` is 32 bytes per item,
 * `signatures` 64 bytes per item, back to back, and the messages are packed.
 */
export interface PackedSignatureBatch {
  publicKeys: Uint8Array;
  signatures: Uint8Array;
  messages: PackedMessages;
}

/**
 * The crypto core. Every backend gives the same answers on every input: Ed25519 under the
 * ZIP-215 rule (see spec/PROTOCOL.md and crates/core), SHA-2 and BLAKE3.
 *
 * Verification never throws for bad signatures or inputs of the wrong length: it returns
 * `false`. Signing throws {@link InvalidSeedError} for a seed that is not 32 bytes.
 */
export interface Core {
  readonly backend: Backend;
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  ed25519VerifyBatch(items: ReadonlyArray<SignedItem>): boolean[];
  ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array;
  ed25519PublicKey(seed: Uint8Array): Uint8Array;
  sha256(data: Uint8Array): Uint8Array;
  sha512(data: Uint8Array): Uint8Array;
  blake3(data: Uint8Array): Uint8Array;
  /**
   * The hot-path batch verify: one crossing, no per-item objects. Returns one byte per item,
   * 1 when valid. Throws {@link BatchLayoutError} when the buffers do not fit together.
   */
  ed25519VerifyBatchPacked(batch: PackedSignatureBatch): Uint8Array;
  /** Hashes every packed message; the digests come back to back in one buffer. */
  hashBatch(algorithm: HashAlgorithm, messages: PackedMessages): Uint8Array;
  /**
   * Extends a SHA-256 hash chain by one link per leaf, in one call: `leaves` holds `n` 32-byte
   * hashes back to back, and the result the `n` links back to back, `c[0] = SHA-256(head ||
   * leaf[0])` and `c[i] = SHA-256(c[i - 1] || leaf[i])` (the audit log's chain hash,
   * spec/AUDIT.md §3). `n = 0` gives an empty array. Throws {@link BatchLayoutError}
   * (`ERR_BATCH_LAYOUT`) when `head` is not 32 bytes or `leaves` not a multiple of 32.
   */
  sha256Chain(head: Uint8Array, leaves: Uint8Array): Uint8Array;
  /**
   * Splits `secret` (1..1024 bytes) into `count` Shamir shares over GF(2^8), any `threshold`
   * of which restore it (2 <= threshold <= count <= 255). Shares are in the version-1 format of
   * `crates/core/src/shamir.rs`, with a checksum. Throws {@link ShamirError} `ERR_SHAMIR_PARAMS`.
   */
  shamirSplit(secret: Uint8Array, threshold: number, count: number): Uint8Array[];
  /**
   * As {@link shamirSplit}, with the split id and coefficients taken from `randomness`
   * (`8 + (threshold - 1) * secret.length` bytes). For test vectors only: reusing randomness
   * across secrets leaks them.
   */
  shamirSplitWithRandomness(
    secret: Uint8Array,
    threshold: number,
    count: number,
    randomness: Uint8Array,
  ): Uint8Array[];
  /**
   * Restores the secret from at least `threshold` shares of one split. Throws
   * {@link ShamirError}: `ERR_SHAMIR_TOO_FEW`, `ERR_SHAMIR_CHECKSUM` (a corrupted share),
   * `ERR_SHAMIR_MISMATCH` (shares of different splits), `ERR_SHAMIR_DUPLICATE_INDEX`,
   * `ERR_SHAMIR_FORMAT`, `ERR_SHAMIR_VERSION`.
   */
  shamirCombine(shares: ReadonlyArray<Uint8Array>): Uint8Array;
}

/**
 * What a backend module supplies: raw calls over well-formed inputs. The shared layer in
 * `core.ts` checks lengths and layouts first, so every backend sees the same inputs.
 */
export interface RawBackend {
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  verifyBatchPacked(
    publicKeys: Uint8Array,
    signatures: Uint8Array,
    messages: Uint8Array,
    offsets: Uint32Array,
  ): Uint8Array;
  sign(seed: Uint8Array, message: Uint8Array): Uint8Array;
  publicKey(seed: Uint8Array): Uint8Array;
  sha256(data: Uint8Array): Uint8Array;
  sha512(data: Uint8Array): Uint8Array;
  blake3(data: Uint8Array): Uint8Array;
  hashBatchPacked(algorithm: HashAlgorithm, data: Uint8Array, offsets: Uint32Array): Uint8Array;
  /** The chain links back to back; refuses a bad layout itself too, with `ERR_BATCH_LAYOUT`. */
  sha256Chain(head: Uint8Array, leaves: Uint8Array): Uint8Array;
  /** The shares back to back (each `13 + secret.length + 4` bytes). */
  shamirSplit(secret: Uint8Array, threshold: number, count: number): Uint8Array;
  shamirSplitWithRandomness(
    secret: Uint8Array,
    threshold: number,
    count: number,
    randomness: Uint8Array,
  ): Uint8Array;
  /** Shares packed as data plus `n + 1` offsets. */
  shamirCombine(data: Uint8Array, offsets: Uint32Array): Uint8Array;
}
