/**
 * The keystore contract: where Ed25519 keys live and how they sign, whatever holds them. The
 * file vault (`vault.ts`), a PKCS#11 token (`pkcs11.ts`) and the in-memory store that stands in
 * for a cloud KMS (`memory.ts`) implement it; `test/keystore-compliance.test.ts` runs one suite
 * against every implementation. See `keys/README.md` for how to add a backend.
 *
 * Keys are addressed by a {@link KeyHandle} that the keystore hands out (from `list`, `get` or
 * `generate`); callers never see key material, except through `exportSeed` on a keystore whose
 * `capabilities.export` is true.
 */
import { KeyLabelError, KeyMessageError, KeystoreSecretError } from './errors.js';

export { KeystoreError, type KeystoreErrorCode } from './errors.js';

/** A reference to one key in one keystore. Holds no secret; safe to log. */
export interface KeyHandle {
  /** The backend's own id for the key (a file name, a CKA_ID in hex, a KMS key id). */
  readonly id: string;
  /** The key's label, unique within its keystore. */
  readonly label: string;
  /** The 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** did:key of the public key. */
  readonly did: string;
}

export interface KeystoreCapabilities {
  /** `exportSeed` hands out the 32-byte seed (a vault can back up; an HSM or KMS never does). */
  readonly export: boolean;
  /** `importSeed` takes a seed in (restoring a backup). */
  readonly import: boolean;
}

/**
 * Where keys live. Every method is asynchronous, so that a backend may sit behind a network
 * (a KMS) or a slow device (an HSM). Methods reject with {@link KeystoreError}s.
 */
export interface Keystore {
  /** `vault`, `pkcs11`, `memory`, or a plugin's name. */
  readonly kind: string;
  readonly capabilities: KeystoreCapabilities;
  /** Every key, in a stable order (by label). */
  list(): Promise<KeyHandle[]>;
  /** The key with this label, or undefined. */
  get(label: string): Promise<KeyHandle | undefined>;
  /** Makes a new Ed25519 key inside the backend; `ERR_KEY_EXISTS` if the label is taken. */
  generate(label: string): Promise<KeyHandle>;
  /** The key's public key, read from the backend; `ERR_KEY_NOT_FOUND` if it is gone. */
  publicKey(key: KeyHandle): Promise<Uint8Array>;
  /**
   * A 64-byte Ed25519 signature (RFC 8032) of `message` by the key. The message is 1 byte or
   * more (`ERR_KEY_MESSAGE`): PKCS#11 modules refuse empty data, so no backend signs it.
   */
  sign(key: KeyHandle, message: Uint8Array): Promise<Uint8Array>;
  /** Destroys the key for good. */
  destroy(key: KeyHandle): Promise<void>;
  /** The 32-byte seed, or `ERR_KEY_NOT_EXPORTABLE`. The caller must zero it after use. */
  exportSeed(key: KeyHandle): Promise<Uint8Array>;
  /** Stores a key from its seed under `label`, or `ERR_KEY_NOT_IMPORTABLE`. */
  importSeed(label: string, seed: Uint8Array): Promise<KeyHandle>;
  /** Releases sessions and wipes cached secrets; later calls reject with `ERR_KEYSTORE_CLOSED`. */
  close(): Promise<void>;
}

/** One key of a keystore bound for signing: what event and checkpoint signing need. */
export interface Signer {
  readonly did: string;
  /** A fresh copy on each read. */
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** A {@link Signer} over `key` in `keystore` (the keystore stays open; its owner closes it). */
export function signerFor(keystore: Keystore, key: KeyHandle): Signer {
  const publicKey = Uint8Array.from(key.publicKey);
  return {
    did: key.did,
    get publicKey() {
      return Uint8Array.from(publicKey);
    },
    sign: (message) => keystore.sign(key, message),
  };
}

/** Every backend's first check in `sign`, so that all refuse the same messages. */
export function checkMessage(message: Uint8Array): void {
  if (!(message instanceof Uint8Array) || message.length === 0) {
    throw new KeyMessageError('the message to sign must be a non-empty Uint8Array');
  }
}

const LABEL = /^[A-Za-z0-9._-]{1,64}$/;

/** Labels are 1..64 of [A-Za-z0-9._-], not starting with a dot: safe as file names and URIs. */
export function checkLabel(label: string): string {
  if (typeof label !== 'string' || !LABEL.test(label) || label.startsWith('.')) {
    throw new KeyLabelError(
      `a key label is 1 to 64 characters of A-Z a-z 0-9 . _ - not starting with a dot, got ${JSON.stringify(label)}`,
    );
  }
  return label;
}

/** Where keystore backends get secrets (a passphrase, a PIN), asked only when needed. */
export interface SecretSource {
  /** The passphrase of an existing vault key file (`what` names it for a prompt). */
  passphrase(what: string): Promise<string>;
  /** A passphrase for a new vault key file. */
  newPassphrase(what: string): Promise<string>;
  /** The user PIN of a PKCS#11 token. */
  pin(token: string): Promise<string>;
}

/** Secrets given up front (tests, library callers); a missing one is `ERR_KEYSTORE_SECRET`. */
export function fixedSecrets(secrets: { passphrase?: string; pin?: string }): SecretSource {
  const need = (value: string | undefined, what: string): Promise<string> =>
    value === undefined
      ? Promise.reject(new KeystoreSecretError(`no ${what} was given`))
      : Promise.resolve(value);
  return {
    passphrase: () => need(secrets.passphrase, 'passphrase'),
    newPassphrase: () => need(secrets.passphrase, 'passphrase'),
    pin: () => need(secrets.pin, 'PIN'),
  };
}
