/**
 * Rotation of the node's own key in its audit log (spec/AUDIT.md §5.4).
 *
 * A node key signs checkpoints. Rotating it writes one `critical` entry, reason
 * `NODE_KEY_ROTATED`, whose detail names the old and new keys and carries a signature of each
 * over the same message: the position of the entry in the log and the log's root just before it.
 * The old key's signature says "my successor is this key"; the new key's says "I take over this
 * log at this point", so nobody holding only one of the two keys can splice a key into a log.
 * Checkpoints whose tree covers the entry (tree size > its index) are signed by the new key,
 * the ones before by the old. `audit verify` follows that schedule and requires it to end at the
 * key the data directory records.
 */
import type { Core } from '@commons-sync/bindings';

import { writeU64 } from './entry.js';

export const NODE_KEY_ROTATED = 'NODE_KEY_ROTATED';

/** 32 ASCII bytes, like the checkpoint domains. */
export const NODE_KEY_ROTATION_DOMAIN = 'commons-sync/node-key-rotate/v1/';
const DOMAIN_BYTES = new TextEncoder().encode(NODE_KEY_ROTATION_DOMAIN);

/** What a rotation entry's detail holds (hex on the wire). */
export interface NodeKeyRotation {
  /** The entry's index in the log (its seq), which is the log's size just before it. */
  readonly treeSize: number;
  /** RFC 6962 root of the log's first `treeSize` entries. */
  readonly root: Uint8Array;
  readonly from: Uint8Array;
  readonly to: Uint8Array;
  readonly fromSignature: Uint8Array;
  readonly toSignature: Uint8Array;
}

/**
 * The bytes both keys sign (136 bytes):
 * ```text
 * 32  "commons-sync/node-key-rotate/v1/"
 * 32  old public key
 * 32  new public key
 * u64 tree size (the entry's index)
 * 32  root of the log at that size
 * ```
 */
export function nodeKeyRotationMessage(
  r: Pick<NodeKeyRotation, 'treeSize' | 'root' | 'from' | 'to'>,
): Uint8Array {
  const msg = new Uint8Array(136);
  msg.set(DOMAIN_BYTES, 0);
  msg.set(r.from, 32);
  msg.set(r.to, 64);
  writeU64(new DataView(msg.buffer), 96, r.treeSize);
  msg.set(r.root, 104);
  return msg;
}

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The detail object of the entry (the audit log stores it as JSON). */
export function nodeKeyRotationDetail(r: NodeKeyRotation): Record<string, unknown> {
  return {
    tree_size: r.treeSize,
    root: toHex(r.root),
    from: toHex(r.from),
    to: toHex(r.to),
    from_signature: toHex(r.fromSignature),
    to_signature: toHex(r.toSignature),
  };
}

function hexField(o: Record<string, unknown>, name: string, bytes: number): Uint8Array | undefined {
  const v = o[name];
  if (typeof v !== 'string' || v.length !== 2 * bytes || !/^[0-9a-f]*$/.test(v)) return undefined;
  return Uint8Array.from(Buffer.from(v, 'hex'));
}

/** Reads a rotation entry's detail; undefined when it is not one. Never throws. */
export function parseNodeKeyRotation(detail: string): NodeKeyRotation | undefined {
  let o: unknown;
  try {
    o = JSON.parse(detail);
  } catch {
    return undefined;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return undefined;
  const r = o as Record<string, unknown>;
  const treeSize = r['tree_size'];
  if (typeof treeSize !== 'number' || !Number.isSafeInteger(treeSize) || treeSize < 0)
    return undefined;
  const root = hexField(r, 'root', 32);
  const from = hexField(r, 'from', 32);
  const to = hexField(r, 'to', 32);
  const fromSignature = hexField(r, 'from_signature', 64);
  const toSignature = hexField(r, 'to_signature', 64);
  if (!root || !from || !to || !fromSignature || !toSignature) return undefined;
  return { treeSize, root, from, to, fromSignature, toSignature };
}

/** Both signatures verify over the rotation's message. Never throws. */
export function verifyNodeKeyRotation(core: Core, r: NodeKeyRotation): boolean {
  const msg = nodeKeyRotationMessage(r);
  return (
    core.ed25519Verify(r.from, msg, r.fromSignature) && core.ed25519Verify(r.to, msg, r.toSignature)
  );
}

/**
 * Which key signs a checkpoint of a given tree size, from the log's rotations (in log order):
 * the `to` of the last rotation whose index is below the size, else the first rotation's
 * `from`, else `initial`. Undefined when nothing says (no rotation, no initial key).
 */
export function keyForTreeSize(
  rotations: readonly { readonly index: number; readonly rotation: NodeKeyRotation }[],
  initial: Uint8Array | undefined,
  treeSize: number,
): Uint8Array | undefined {
  let key = rotations[0]?.rotation.from ?? initial;
  for (const r of rotations) {
    if (r.index < treeSize) key = r.rotation.to;
    else break;
  }
  return key;
}
