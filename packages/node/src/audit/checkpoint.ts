import type { Core } from '@commons-sync/bindings';

import { writeU64 } from './entry.js';
import type { Sha256 } from './merkle.js';

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

/**
 * A signed statement: "the audit log of this node had `treeSize` entries with this root".
 * Version 2 (spec/AUDIT.md §5) also numbers checkpoints and chains each to the one before,
 * so that a deleted or renumbered checkpoint is evident.
 */
export interface Checkpoint {
  readonly version: 1 | 2;
  /** The checkpoint's number: 1, 2, 3... in the order they were made (signed from version 2 on). */
  readonly seq: number;
  readonly treeSize: number;
  /** RFC 6962 root of the first `treeSize` entries. */
  readonly root: Uint8Array;
  /** Unix time in milliseconds. */
  readonly time: number;
  readonly publicKey: Uint8Array;
  /** Version 2: {@link checkpointHash} of checkpoint `seq - 1`, or 32 zero bytes for the first. */
  readonly prev: Uint8Array | null;
  readonly signature: Uint8Array;
}

/** The domain tags; exactly 32 ASCII bytes each, so the encodings below have fixed layouts. */
export const CHECKPOINT_DOMAIN = 'commons-sync/audit-checkpoint/v1';
export const CHECKPOINT_DOMAIN_V2 = 'commons-sync/audit-checkpoint/v2';
const DOMAIN_BYTES = new TextEncoder().encode(CHECKPOINT_DOMAIN);
const DOMAIN_V2_BYTES = new TextEncoder().encode(CHECKPOINT_DOMAIN_V2);

export const ZERO_HASH: Uint8Array = new Uint8Array(32);

/**
 * The bytes a checkpoint signature covers (integers big-endian).
 *
 * Version 1 (112 bytes):
 * ```text
 * 32  "commons-sync/audit-checkpoint/v1" (domain separation: no other message the node
 *     signs starts with these bytes)
 * u64 tree size
 * 32  root
 * u64 time (Unix milliseconds)
 * 32  public key
 * ```
 *
 * Version 2 (152 bytes):
 * ```text
 * 32  "commons-sync/audit-checkpoint/v2"
 * u64 checkpoint number (seq)
 * u64 tree size
 * 32  root
 * u64 time (Unix milliseconds)
 * 32  public key
 * 32  previous checkpoint's hash (zeros for checkpoint 1)
 * ```
 */
export function checkpointMessage(
  cp: Pick<Checkpoint, 'treeSize' | 'root' | 'time' | 'publicKey'> &
    Partial<Pick<Checkpoint, 'version' | 'seq' | 'prev'>>,
): Uint8Array {
  if (cp.root.length !== 32 || cp.publicKey.length !== 32) {
    throw new RangeError('a checkpoint root and public key are 32 bytes each');
  }
  if (cp.version !== 2) {
    const msg = new Uint8Array(32 + 8 + 32 + 8 + 32);
    const view = new DataView(msg.buffer);
    msg.set(DOMAIN_BYTES, 0);
    writeU64(view, 32, cp.treeSize);
    msg.set(cp.root, 40);
    writeU64(view, 72, cp.time);
    msg.set(cp.publicKey, 80);
    return msg;
  }
  const prev = cp.prev ?? null;
  if (prev === null || prev.length !== 32)
    throw new RangeError('a version 2 checkpoint has a 32-byte prev');
  const msg = new Uint8Array(32 + 8 + 8 + 32 + 8 + 32 + 32);
  const view = new DataView(msg.buffer);
  msg.set(DOMAIN_V2_BYTES, 0);
  writeU64(view, 32, cp.seq ?? 0);
  writeU64(view, 40, cp.treeSize);
  msg.set(cp.root, 48);
  writeU64(view, 80, cp.time);
  msg.set(cp.publicKey, 88);
  msg.set(prev, 120);
  return msg;
}

/** SHA-256(message || signature): what the next checkpoint's `prev` and the log's checkpoint entry name. */
export function checkpointHash(sha256: Sha256, cp: Checkpoint): Uint8Array {
  const msg = checkpointMessage(cp);
  const buf = new Uint8Array(msg.length + cp.signature.length);
  buf.set(msg, 0);
  buf.set(cp.signature, msg.length);
  return sha256(buf);
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
  if (cp.version === 2) {
    if (!Number.isSafeInteger(cp.seq) || cp.seq < 1) return false;
    if (!(cp.prev instanceof Uint8Array) || cp.prev.length !== 32) return false;
  }
  return core.ed25519Verify(cp.publicKey, checkpointMessage(cp), cp.signature);
}

/** The detail of a `checkpoint` entry: the checkpoint's number and its hash (lowercase hex). */
export function checkpointEntryDetail(seq: number, hash: Uint8Array): string {
  return `{"checkpoint":${seq},"hash":"${Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('hex')}"}`;
}

const CHECKPOINT_DETAIL = /^\{"checkpoint":([1-9][0-9]{0,15}),"hash":"([0-9a-f]{64})"\}$/;

/** Parses a `checkpoint` entry's detail; undefined when it is not what {@link checkpointEntryDetail} writes. */
export function parseCheckpointEntryDetail(
  detail: string,
): { seq: number; hash: string } | undefined {
  const m = CHECKPOINT_DETAIL.exec(detail);
  return m === null ? undefined : { seq: Number(m[1]), hash: m[2] as string };
}
