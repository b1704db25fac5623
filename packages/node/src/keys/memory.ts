/**
 * An in-memory keystore in the shape of a cloud KMS: keys are born inside it, sign by handle,
 * and by default never leave it (no export, no import). It holds nothing across restarts, so
 * it serves tests (the compliance suite runs against it as the KMS stand-in) and is the
 * smallest complete example of the {@link Keystore} contract for a new backend: a KMS plugin
 * replaces the map below with calls to the service (`keys/README.md`).
 */
import { randomBytes, randomUUID } from 'node:crypto';

import type { Core } from '@commons-sync/bindings';

import { didKeyFromPublicKey } from '../protocol/did.js';
import {
  KeyExistsError,
  KeyNotExportableError,
  KeyNotFoundError,
  KeyNotImportableError,
  KeystoreClosedError,
  KeyTypeError,
} from './errors.js';
import { checkLabel, checkMessage, type KeyHandle, type Keystore } from './keystore.js';

interface StoredKey {
  readonly handle: KeyHandle;
  readonly seed: Uint8Array;
}

export interface MemoryKeystoreOptions {
  /** Allow exportSeed and importSeed (default false, as a KMS). */
  readonly exportable?: boolean;
}

export class MemoryKeystore implements Keystore {
  readonly kind = 'memory';
  readonly capabilities: { readonly export: boolean; readonly import: boolean };
  readonly #core: Core;
  readonly #keys = new Map<string, StoredKey>();
  #closed = false;

  constructor(core: Core, opts: MemoryKeystoreOptions = {}) {
    this.#core = core;
    const exportable = opts.exportable === true;
    this.capabilities = { export: exportable, import: exportable };
  }

  async list(): Promise<KeyHandle[]> {
    this.#checkOpen();
    return [...this.#keys.values()]
      .map((k) => k.handle)
      .sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  }

  async get(label: string): Promise<KeyHandle | undefined> {
    this.#checkOpen();
    checkLabel(label);
    return [...this.#keys.values()].find((k) => k.handle.label === label)?.handle;
  }

  async generate(label: string): Promise<KeyHandle> {
    return this.#store(label, randomBytes(32));
  }

  async importSeed(label: string, seed: Uint8Array): Promise<KeyHandle> {
    if (!this.capabilities.import)
      throw new KeyNotImportableError('this keystore generates its keys itself');
    if (!(seed instanceof Uint8Array) || seed.length !== 32)
      throw new KeyTypeError('an Ed25519 seed is 32 bytes');
    return this.#store(label, Uint8Array.from(seed));
  }

  async publicKey(key: KeyHandle): Promise<Uint8Array> {
    return Uint8Array.from(this.#require(key).handle.publicKey);
  }

  async sign(key: KeyHandle, message: Uint8Array): Promise<Uint8Array> {
    checkMessage(message);
    return this.#core.ed25519Sign(this.#require(key).seed, message);
  }

  async exportSeed(key: KeyHandle): Promise<Uint8Array> {
    const stored = this.#require(key);
    if (!this.capabilities.export)
      throw new KeyNotExportableError(`${key.did} never leaves this keystore`);
    return Uint8Array.from(stored.seed);
  }

  async destroy(key: KeyHandle): Promise<void> {
    const stored = this.#require(key);
    stored.seed.fill(0);
    this.#keys.delete(stored.handle.id);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const k of this.#keys.values()) k.seed.fill(0);
    this.#keys.clear();
  }

  #store(label: string, seed: Uint8Array): KeyHandle {
    this.#checkOpen();
    checkLabel(label);
    if ([...this.#keys.values()].some((k) => k.handle.label === label)) {
      seed.fill(0);
      throw new KeyExistsError(`a key labelled ${JSON.stringify(label)} exists`);
    }
    const publicKey = this.#core.ed25519PublicKey(seed);
    const handle: KeyHandle = Object.freeze({
      id: randomUUID(),
      label,
      publicKey,
      did: didKeyFromPublicKey(publicKey),
    });
    this.#keys.set(handle.id, { handle, seed });
    return handle;
  }

  #require(key: KeyHandle): StoredKey {
    this.#checkOpen();
    const stored = this.#keys.get(key.id);
    if (stored === undefined) throw new KeyNotFoundError(`no key ${key.did} (id ${key.id})`);
    return stored;
  }

  #checkOpen(): void {
    if (this.#closed) throw new KeystoreClosedError('the keystore is closed');
  }
}
