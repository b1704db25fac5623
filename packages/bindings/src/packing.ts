import { BatchLayoutError } from './errors.js';
import type { PackedMessages, PackedSignatureBatch, SignedItem } from './types.js';

const PUBLIC_KEY_LENGTH = 32;
const SIGNATURE_LENGTH = 64;

export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

/** Packs messages into one buffer with `n + 1` offsets. */
export function packMessages(messages: ReadonlyArray<Uint8Array>): PackedMessages {
  let total = 0;
  for (const m of messages) total += m.length;
  const data = new Uint8Array(total);
  const offsets = new Uint32Array(messages.length + 1);
  let at = 0;
  messages.forEach((m, i) => {
    data.set(m, at);
    at += m.length;
    offsets[i + 1] = at;
  });
  return { data, offsets };
}

/**
 * Packs signature items for one crossing. Items that cannot be valid (not byte arrays, or a key
 * that is not 32 bytes, or a signature that is not 64 bytes) are left out; `positions[j]` is the
 * index in `items` of packed item `j`.
 */
export function packSignatureBatch(items: ReadonlyArray<SignedItem>): {
  batch: PackedSignatureBatch;
  positions: Uint32Array;
} {
  const positions: number[] = [];
  items.forEach((item, i) => {
    if (
      item !== null &&
      typeof item === 'object' &&
      isBytes(item.publicKey) &&
      isBytes(item.message) &&
      isBytes(item.signature) &&
      item.publicKey.length === PUBLIC_KEY_LENGTH &&
      item.signature.length === SIGNATURE_LENGTH
    ) {
      positions.push(i);
    }
  });
  const n = positions.length;
  const publicKeys = new Uint8Array(n * PUBLIC_KEY_LENGTH);
  const signatures = new Uint8Array(n * SIGNATURE_LENGTH);
  const messages: Uint8Array[] = [];
  positions.forEach((p, j) => {
    const item = items[p] as SignedItem;
    publicKeys.set(item.publicKey, j * PUBLIC_KEY_LENGTH);
    signatures.set(item.signature, j * SIGNATURE_LENGTH);
    messages.push(item.message);
  });
  return {
    batch: { publicKeys, signatures, messages: packMessages(messages) },
    positions: Uint32Array.from(positions),
  };
}

/** Checks packed messages; returns the number of messages. */
export function checkPackedMessages(messages: PackedMessages): number {
  const { data, offsets } = messages ?? ({} as PackedMessages);
  if (!isBytes(data)) throw new BatchLayoutError('messages.data must be a Uint8Array');
  if (!(offsets instanceof Uint32Array)) {
    throw new BatchLayoutError('messages.offsets must be a Uint32Array');
  }
  if (offsets.length === 0) throw new BatchLayoutError('offsets must hold n + 1 entries, got none');
  if (offsets[0] !== 0) throw new BatchLayoutError('offsets must start at 0');
  for (let i = 1; i < offsets.length; i++) {
    if ((offsets[i] as number) < (offsets[i - 1] as number)) {
      throw new BatchLayoutError('offsets must not decrease');
    }
  }
  if ((offsets[offsets.length - 1] as number) > data.length) {
    throw new BatchLayoutError('offsets point past the end of the data');
  }
  return offsets.length - 1;
}

/** Checks a packed signature batch; returns the number of items. */
export function checkPackedBatch(batch: PackedSignatureBatch): number {
  if (batch === null || typeof batch !== 'object') {
    throw new BatchLayoutError('a packed batch must be an object');
  }
  const n = checkPackedMessages(batch.messages);
  if (!isBytes(batch.publicKeys) || batch.publicKeys.length !== n * PUBLIC_KEY_LENGTH) {
    throw new BatchLayoutError(`publicKeys must be ${n * PUBLIC_KEY_LENGTH} bytes (32 per item)`);
  }
  if (!isBytes(batch.signatures) || batch.signatures.length !== n * SIGNATURE_LENGTH) {
    throw new BatchLayoutError(`signatures must be ${n * SIGNATURE_LENGTH} bytes (64 per item)`);
  }
  return n;
}

const CHAIN_HASH_LENGTH = 32;

/**
 * Checks the inputs of a SHA-256 chain (a 32-byte head, whole 32-byte leaves); returns the
 * number of leaves. Every backend refuses the same inputs with the same code.
 */
export function checkChainInputs(head: Uint8Array, leaves: Uint8Array): number {
  if (!isBytes(head) || head.length !== CHAIN_HASH_LENGTH) {
    const got = isBytes(head) ? `${head.length} bytes` : typeof head;
    throw new BatchLayoutError(`the chain head must be a 32-byte Uint8Array, got ${got}`);
  }
  if (!isBytes(leaves) || leaves.length % CHAIN_HASH_LENGTH !== 0) {
    const got = isBytes(leaves) ? `${leaves.length} bytes` : typeof leaves;
    throw new BatchLayoutError(
      `leaves must be a Uint8Array of 32-byte hashes back to back, got ${got}`,
    );
  }
  return leaves.length / CHAIN_HASH_LENGTH;
}
