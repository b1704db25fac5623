import type { Core } from '@commons-sync/bindings';

import { writeU64 } from './entry.js';

/**
 * Signs for the node without handing out its key: the key module implements this and the
 * audit log only ever sees the public key and signatures.
 */
export interface CheckpointSigner {
  /** 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** A 64-byte Ed25519 signature over `message`. */
  sign(message: Uint8Array): Uint8Array;
}

/** A {@link CheckpointSigner} whose key answers asynchronously (an HSM, a KMS). */
export interface AsyncCheckpointSigner {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** A signed statement: "the audit log of this node had `treeSize` entries with this root". */
export interface Checkpoint {
  readonly treeSize: number;
  /** RFC 6962 root of the first `treeSize` entries. */
  readonly root: Uint8Array;
  /** Unix time in milliseconds. */
  readonly time: number;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
}

/** The domain tag; exactly 32 ASCII bytes, so the encoding below has a fixed layout. */
export const CHECKPOINT_DOMAIN = 'commons-sync/audit-checkpoint/v1';
const DOMAIN_BYTES = new TextEncoder().encode(CHECKPOINT_DOMAIN);

/**
 * The bytes a checkpoint signature covers (112 bytes, integers big-endian):
 *
 * ```text
 * 32  "commons-sync/audit-checkpoint/v1" (domain separation: no other message the node
 *     signs starts with these bytes)
 * u64 tree size
 * 32  root
 * u64 time (Unix milliseconds)
 * 32  public key
 * ```
 */
export function checkpointMessage(
  cp: Pick<Checkpoint, 'treeSize' | 'root' | 'time' | 'publicKey'>,
): Uint8Array {
  if (cp.root.length !== 32 || cp.publicKey.length !== 32) {
    throw new RangeError('a checkpoint root and public key are 32 bytes each');
  }
  const msg = new Uint8Array(32 + 8 + 32 + 8 + 32);
  const view = new DataView(msg.buffer);
  msg.set(DOMAIN_BYTES, 0);
  writeU64(view, 32, cp.treeSize);
  msg.set(cp.root, 40);
  writeU64(view, 72, cp.time);
  msg.set(cp.publicKey, 80);
  return msg;
}

/**
 * Whether the checkpoint's signature verifies under its own public key. Whether that key is
 * the node's is the caller's question (pass `publicKey` to `verifyAuditData`). Never throws.
 */
export function verifyCheckpointSignature(core: Core, cp: Checkpoint): boolean {
  if (!(cp.root instanceof Uint8Array) || !(cp.publicKey instanceof Uint8Array)) return false;
  if (cp.root.length !== 32 || cp.publicKey.length !== 32) return false;
  if (!Number.isSafeInteger(cp.treeSize) || cp.treeSize < 0) return false;
  if (!Number.isSafeInteger(cp.time) || cp.time < 0) return false;
  if (!(cp.signature instanceof Uint8Array)) return false;
  return core.ed25519Verify(cp.publicKey, checkpointMessage(cp), cp.signature);
}
