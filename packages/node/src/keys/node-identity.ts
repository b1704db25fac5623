/**
 * Where a data directory's node identity lives.
 *
 * - `node.key`: the default, a one-key vault in the data directory (every existing node);
 * - `node.keystore`: written by `init --keystore SPEC` for any other place (a token, another
 *   vault), recording the spec (never a PIN or passphrase), the DID and the public key:
 *
 *   ```json
 *   { "type": "commons-sync-node-keystore", "version": 1,
 *     "keystore": "pkcs11:module=...;token=node;key=node",
 *     "did": "did:key:z6Mk...", "publicKey": "<64 hex>" }
 *   ```
 *
 * The public key is on record so that `audit verify` needs no PIN, and so that a node is never
 * started with another key than the one its audit log is signed with.
 */
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

import { ConfigError, NoDataDirError, type StorageError } from '../errors.js';
import { didKeyFromPublicKey } from '../protocol/did.js';
import { KeyFileFormatError, KeyFileWriteError, KeyNotFoundError } from './errors.js';
import { readKeyFilePublic } from './keyfile.js';
import { signerFor } from './keystore.js';
import {
  labelOf,
  type OpenedSigner,
  type OpenKeystoreOptions,
  openKeystore,
  selfTest,
} from './open.js';
import { formatKeystoreSpec, type KeystoreSpec, parseKeystoreSpec } from './spec.js';

export const NODE_KEY_FILE = 'node.key';
export const NODE_KEYSTORE_FILE = 'node.keystore';
/** A rotation's new key while the rotation is being written (see `node-key-rotation.ts`). */
export const NODE_KEYSTORE_NEXT_FILE = 'node.keystore.next';
const RECORD_TYPE = 'commons-sync-node-keystore';

export interface NodeIdentity {
  readonly did: string;
  readonly publicKey: Uint8Array;
  /** Where the key is; the default is `vault:DIR/node.key`. */
  readonly spec: KeystoreSpec;
}

function defaultSpec(dir: string): KeystoreSpec {
  return { kind: 'vault', path: join(dir, NODE_KEY_FILE) };
}

function isDefault(dir: string, spec: KeystoreSpec): boolean {
  return (
    spec.kind === 'vault' &&
    spec.path === join(dir, NODE_KEY_FILE) &&
    (spec.key === undefined || spec.key === 'node')
  );
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/** The data directory's identity, read without any secret; undefined when it has none. */
export async function readNodeIdentity(dir: string): Promise<NodeIdentity | undefined> {
  const recordPath = join(dir, NODE_KEYSTORE_FILE);
  if (await exists(recordPath)) return parseRecord(recordPath, await readFile(recordPath, 'utf8'));
  const keyPath = join(dir, NODE_KEY_FILE);
  if (!(await exists(keyPath))) return undefined;
  const info = await readKeyFilePublic(keyPath);
  return { did: info.did, publicKey: info.publicKey, spec: defaultSpec(dir) };
}

function parseRecord(path: string, text: string): NodeIdentity {
  const bad = (why: string): StorageError =>
    new KeyFileFormatError(`${path} is not a node keystore record: ${why}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad('not JSON');
  }
  const r = (value ?? {}) as Record<string, unknown>;
  if (r['type'] !== RECORD_TYPE || r['version'] !== 1)
    throw bad(`type is not ${RECORD_TYPE} version 1`);
  const { keystore, did, publicKey } = r;
  if (
    typeof keystore !== 'string' ||
    typeof did !== 'string' ||
    typeof publicKey !== 'string' ||
    !/^[0-9a-f]{64}$/.test(publicKey)
  ) {
    throw bad('needs keystore, did and a 64-hex publicKey');
  }
  const key = Uint8Array.from(Buffer.from(publicKey, 'hex'));
  if (didKeyFromPublicKey(key) !== did) throw bad('its did does not match its publicKey');
  let spec: KeystoreSpec;
  try {
    spec = parseKeystoreSpec(keystore);
  } catch (cause) {
    throw bad((cause as Error).message);
  }
  return { did, publicKey: key, spec };
}

/**
 * Gives a data directory its identity: in `spec`'s keystore (the key is made there unless one
 * with that label exists: a token may be prepared in advance) or, by default, in `node.key`.
 * A directory that has an identity keeps it; asking for another is `ERR_NODE_IDENTITY_EXISTS`.
 */
export async function createNodeIdentity(
  dir: string,
  spec: KeystoreSpec | undefined,
  opts: OpenKeystoreOptions,
): Promise<{ identity: NodeIdentity; created: boolean }> {
  const existing = await readNodeIdentity(dir);
  if (existing !== undefined) {
    if (
      spec !== undefined &&
      formatKeystoreSpec(spec) !== formatKeystoreSpec(existing.spec) &&
      !(isDefault(dir, spec) && isDefault(dir, existing.spec))
    ) {
      throw new ConfigError(
        'ERR_NODE_IDENTITY_EXISTS',
        `${dir} already has its identity ${existing.did} in ${formatKeystoreSpec(existing.spec)}; it is not replaced`,
      );
    }
    return { identity: existing, created: false };
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const target = spec ?? defaultSpec(dir);
  const label = labelOf(target);
  const keystore = await openKeystore(target, opts);
  try {
    const key = (await keystore.get(label)) ?? (await keystore.generate(label));
    if (!isDefault(dir, target)) {
      await writeRecord(join(dir, NODE_KEYSTORE_FILE), {
        type: RECORD_TYPE,
        version: 1,
        keystore: formatKeystoreSpec({ ...target, key: label }),
        did: key.did,
        publicKey: Buffer.from(key.publicKey).toString('hex'),
      });
    }
    return {
      identity: { did: key.did, publicKey: key.publicKey, spec: { ...target, key: label } },
      created: true,
    };
  } finally {
    await keystore.close();
  }
}

/**
 * Opens the node's signing key: in the recorded keystore, or in `override` (the same key
 * reached another way, such as a token under another module path). The key must be the one
 * on record (`ERR_NODE_IDENTITY_MISMATCH`) and must sign (a self-test signature is checked).
 */
export async function openNodeSigner(
  dir: string,
  override: KeystoreSpec | undefined,
  opts: OpenKeystoreOptions,
): Promise<OpenedSigner> {
  const identity = await readNodeIdentity(dir);
  if (identity === undefined) {
    throw new NoDataDirError(
      `${dir} has no node identity; run \`commons-sync init --data ${dir}\` first`,
    );
  }
  const spec = override ?? identity.spec;
  const keystore = await openKeystore(spec, opts);
  try {
    const key = await keystore.get(labelOf(spec));
    if (key === undefined) {
      throw new KeyNotFoundError(
        `${formatKeystoreSpec(spec)}: the node key ${identity.did} is not there`,
      );
    }
    if (key.did !== identity.did) {
      throw new ConfigError(
        'ERR_NODE_IDENTITY_MISMATCH',
        `${formatKeystoreSpec(spec)} holds ${key.did}, but ${dir} is the node ${identity.did}`,
      );
    }
    const signer = signerFor(keystore, key);
    await selfTest(signer, opts.core);
    return { keystore, key, signer };
  } catch (error) {
    await keystore.close();
    throw error;
  }
}

/** Writes a node keystore record for `key` in `spec` at `path` (atomically). */
export async function writeNodeKeyRecord(
  path: string,
  spec: KeystoreSpec,
  key: { readonly did: string; readonly publicKey: Uint8Array },
): Promise<void> {
  await writeRecord(path, {
    type: RECORD_TYPE,
    version: 1,
    keystore: formatKeystoreSpec({ ...spec, key: labelOf(spec) }),
    did: key.did,
    publicKey: Buffer.from(key.publicKey).toString('hex'),
  });
}

/** Reads a node keystore record (the pending one of a rotation, say); undefined when absent. */
export async function readNodeKeyRecord(path: string): Promise<NodeIdentity | undefined> {
  if (!(await exists(path))) return undefined;
  return parseRecord(path, await readFile(path, 'utf8'));
}

async function writeRecord(path: string, record: object): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(record, null, 2)}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    throw new KeyFileWriteError(`cannot write ${path}`, { cause: error });
  }
}
