/**
 * From a `--keystore` spec to an open keystore and a key in it: the one place that knows every
 * backend, so commands and the node select backends the same way.
 */
import type { Core } from '@commons-sync/bindings';
import { KeyNotFoundError, KeystoreSpecError, KeyTypeError } from './errors.js';
import {
  type KeyHandle,
  type Keystore,
  type SecretSource,
  type Signer,
  signerFor,
} from './keystore.js';
import { Pkcs11Keystore } from './pkcs11.js';
import { formatKeystoreSpec, type KeystoreSpec } from './spec.js';
import { VaultKeystore } from './vault.js';

export interface OpenKeystoreOptions {
  readonly core: Core;
  readonly secrets: SecretSource;
  /** scrypt cost of new vault files (tests lower it). */
  readonly scryptN?: number;
}

export async function openKeystore(
  spec: KeystoreSpec,
  opts: OpenKeystoreOptions,
): Promise<Keystore> {
  if (spec.kind === 'pkcs11')
    return Pkcs11Keystore.open({ module: spec.module, token: spec.token, secrets: opts.secrets });
  return VaultKeystore.open(spec.path, {
    core: opts.core,
    secrets: opts.secrets,
    ...(opts.scryptN === undefined ? {} : { scryptN: opts.scryptN }),
  });
}

/**
 * The label a spec names: its `key`, else the single key of a one-file vault. A directory vault
 * or a token without `key=` is `ERR_KEYSTORE_SPEC`: which key would be ambiguous.
 */
export function labelOf(spec: KeystoreSpec): string {
  if (spec.key !== undefined) return spec.key;
  if (spec.kind === 'vault' && !spec.path.endsWith('/')) {
    const name = spec.path.split('/').pop() ?? '';
    const label = name.endsWith('.key') && name.length > 4 ? name.slice(0, -4) : name;
    if (/^[A-Za-z0-9._-]{1,64}$/.test(label) && !label.startsWith('.')) return label;
  }
  throw new KeystoreSpecError(`${formatKeystoreSpec(spec)} names no key: add ;key=LABEL`);
}

/** The key a spec names, which must exist (`ERR_KEY_NOT_FOUND`). */
export async function requireKey(keystore: Keystore, spec: KeystoreSpec): Promise<KeyHandle> {
  const label = labelOf(spec);
  const key = await keystore.get(label);
  if (key === undefined)
    throw new KeyNotFoundError(
      `${formatKeystoreSpec(spec)}: no key labelled ${JSON.stringify(label)}`,
    );
  return key;
}

/** An open keystore and a signer over the key the spec names; close the keystore when done. */
export interface OpenedSigner {
  readonly keystore: Keystore;
  readonly key: KeyHandle;
  readonly signer: Signer;
}

export async function openSigner(
  spec: KeystoreSpec,
  opts: OpenKeystoreOptions,
): Promise<OpenedSigner> {
  const keystore = await openKeystore(spec, opts);
  try {
    const key = await requireKey(keystore, spec);
    return { keystore, key, signer: signerFor(keystore, key) };
  } catch (error) {
    await keystore.close();
    throw error;
  }
}

/**
 * Signs a fixed message and checks the signature against the key's public key: run when a node
 * opens its identity, so a wrong PIN or passphrase, or a key whose public half was swapped,
 * fails at start rather than at the first checkpoint.
 */
export async function selfTest(signer: Signer, core: Core): Promise<void> {
  const message = new TextEncoder().encode(`commons-sync keystore self-test ${signer.did}`);
  const signature = await signer.sign(message);
  if (!core.ed25519Verify(signer.publicKey, message, signature)) {
    throw new KeyTypeError(`the key of ${signer.did} signs with another key than its public key`);
  }
}
