/**
 * Rotating the node's own key (spec/AUDIT.md §5.4), on a stopped node.
 *
 * The order makes a crash at any point harmless:
 * 1. the new key is made in its keystore and recorded as pending (`node.keystore.next`);
 * 2. one critical `NODE_KEY_ROTATED` entry, signed by both keys over the log's size and root,
 *    is committed (the point of no return), then a checkpoint signed by the new key;
 * 3. the pending record replaces the data directory's record (`node.keystore`, atomically).
 * A crash between 2 and 3 is finished by the next open ({@link finishNodeKeyRotation}): the
 * pending record is adopted if the log's last rotation ends at its key, and dropped otherwise.
 * The old key is left where it was (a key file, a token object): retire it as policy says.
 */
import { access, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

import { type Core, loadCore } from '@commons-sync/bindings';

import {
  NODE_KEY_ROTATED,
  nodeKeyRotationDetail,
  nodeKeyRotationMessage,
  parseNodeKeyRotation,
} from './audit/node-key.js';
import { CommonsSyncError, ConfigError } from './errors.js';
import { fixedSecrets, type SecretSource, signerFor } from './keys/keystore.js';
import {
  NODE_KEYSTORE_FILE,
  NODE_KEYSTORE_NEXT_FILE,
  openNodeSigner,
  readNodeIdentity,
  readNodeKeyRecord,
  writeNodeKeyRecord,
} from './keys/node-identity.js';
import { labelOf, openKeystore, selfTest } from './keys/open.js';
import { type KeystoreSpec, parseKeystoreSpec } from './keys/spec.js';
import { Store } from './storage/index.js';

export interface RotateNodeKeyOptions {
  readonly dataDir: string;
  /** Passphrases and PINs of the old key's and the new key's keystores (or a passphrase). */
  readonly secrets?: SecretSource | string;
  /** Where to make the new key; default a new vault file `node-N.key` in the directory. */
  readonly keystore?: KeystoreSpec | string;
  readonly core?: Core;
  readonly now?: () => number;
}

export interface NodeKeyRotationResult {
  readonly from: string;
  readonly to: string;
  /** The rotation entry's index in the audit log. */
  readonly entry: number;
  /** The first checkpoint signed by the new key. */
  readonly checkpoint: number;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function defaultTarget(dir: string): Promise<KeystoreSpec> {
  for (let n = 2; ; n++) {
    const path = join(dir, `node-${n}.key`);
    if (!(await exists(path))) return { kind: 'vault', path };
  }
}

/**
 * Finishes a rotation that a crash interrupted (see the file comment); a no-op when none is
 * pending. Called before the node key is read: by `openNode`, `verifyAudit` and rotations.
 */
export async function finishNodeKeyRotation(dir: string, core: Core): Promise<void> {
  const pendingPath = join(dir, NODE_KEYSTORE_NEXT_FILE);
  const pending = await readNodeKeyRecord(pendingPath);
  if (pending === undefined) return;
  const store = Store.open(dir, core);
  let last: string | undefined;
  try {
    last = store.entryDetailsWithReason(NODE_KEY_ROTATED).at(-1);
  } finally {
    store.close();
  }
  const rotation = last === undefined ? undefined : parseNodeKeyRotation(last);
  if (rotation !== undefined && Buffer.from(rotation.to).equals(Buffer.from(pending.publicKey)))
    await rename(pendingPath, join(dir, NODE_KEYSTORE_FILE));
  else await unlink(pendingPath);
}

/**
 * Rotates the node key of a stopped node's data directory: the log records the handover
 * signed by both keys, the next checkpoints are the new key's, and the directory's record
 * names the new key, so `start` uses it and `audit verify` follows the rotation.
 */
export async function rotateNodeKey(opts: RotateNodeKeyOptions): Promise<NodeKeyRotationResult> {
  const core = opts.core ?? (await loadCore());
  const dir = opts.dataDir;
  const secrets =
    typeof opts.secrets === 'object'
      ? opts.secrets
      : fixedSecrets(opts.secrets === undefined ? {} : { passphrase: opts.secrets });
  await finishNodeKeyRotation(dir, core);
  const identity = await readNodeIdentity(dir);
  if (identity === undefined)
    throw new ConfigError('ERR_NO_DATA_DIR', `${dir} has no node identity to rotate`);
  const old = await openNodeSigner(dir, undefined, { core, secrets });
  try {
    const target =
      typeof opts.keystore === 'string'
        ? parseKeystoreSpec(opts.keystore)
        : (opts.keystore ?? (await defaultTarget(dir)));
    const keystore = await openKeystore(target, { core, secrets });
    try {
      const label = labelOf(target);
      const key = (await keystore.get(label)) ?? (await keystore.generate(label));
      if (key.did === identity.did)
        throw new ConfigError(
          'ERR_NODE_KEY_UNCHANGED',
          `${label} in the target keystore is the current node key ${identity.did}`,
        );
      const next = signerFor(keystore, key);
      await selfTest(next, core);
      const pendingPath = join(dir, NODE_KEYSTORE_NEXT_FILE);
      await writeNodeKeyRecord(pendingPath, { ...target, key: label }, key);

      const store = Store.open(dir, core, opts.now === undefined ? {} : { now: opts.now });
      try {
        const treeSize = store.audit.size;
        const root = store.audit.root();
        const base = { treeSize, root, from: old.signer.publicKey, to: next.publicKey };
        const msg = nodeKeyRotationMessage(base);
        const rotation = {
          ...base,
          fromSignature: await old.signer.sign(msg),
          toSignature: await next.sign(msg),
        };
        if (store.audit.size !== treeSize)
          throw new CommonsSyncError(
            'ERR_NODE_RUNNING',
            'the audit log grew during the rotation: stop the node first',
          );
        store.commit(
          [],
          [{ type: 'critical', reason: NODE_KEY_ROTATED, detail: nodeKeyRotationDetail(rotation) }],
        );
        const cp = await store.audit.checkpointAsync(next);
        await rename(pendingPath, join(dir, NODE_KEYSTORE_FILE));
        return { from: identity.did, to: key.did, entry: treeSize, checkpoint: cp.seq };
      } finally {
        store.close();
      }
    } finally {
      await keystore.close();
    }
  } finally {
    await old.keystore.close();
  }
}
