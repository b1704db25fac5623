/**
 * The vault keystore: Ed25519 seeds sealed in passphrase-protected key files (`keyfile.ts`,
 * Fernet under scrypt; the format of every existing `node.key`).
 *
 * Two shapes, one backend:
 * - a **file** (`vault:/data/node.key`): a vault of one key, labelled after the file name
 *   without `.key` (`node`);
 * - a **directory** (`vault:/keys/`, an existing directory or a path ending in `/`): one file
 *   `LABEL.key` per key, so an identity can keep its current and next keys side by side.
 *
 * Each file has its own passphrase, asked through the {@link SecretSource} the first time the
 * key signs or is exported; the opened key stays in memory until `close` zeroes it.
 */
import { mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import type { Core } from '@commons-sync/bindings';
import {
  KeyExistsError,
  KeyFileExistsError,
  KeyFileReadError,
  KeyFileWriteError,
  KeyNotFoundError,
  KeystoreClosedError,
  KeyTypeError,
} from './errors.js';
import { createKeyFile, type OpenedKeyFile, openKeyFile, readKeyFilePublic } from './keyfile.js';
import {
  checkLabel,
  checkMessage,
  type KeyHandle,
  type Keystore,
  type KeystoreError,
  type SecretSource,
} from './keystore.js';

export const KEY_FILE_SUFFIX = '.key';

export interface VaultOptions {
  readonly core: Core;
  readonly secrets: SecretSource;
  /** scrypt cost of new files (default: keyfile.ts's default). */
  readonly scryptN?: number;
}

type Layout =
  | { readonly kind: 'file'; readonly path: string; readonly label: string }
  | { readonly kind: 'dir'; readonly dir: string };

function labelOfFile(path: string): string {
  const name = basename(path);
  return name.endsWith(KEY_FILE_SUFFIX) && name.length > KEY_FILE_SUFFIX.length
    ? name.slice(0, -KEY_FILE_SUFFIX.length)
    : name;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export class VaultKeystore implements Keystore {
  readonly kind = 'vault';
  readonly capabilities = { export: true, import: true } as const;
  readonly #layout: Layout;
  readonly #opts: VaultOptions;
  readonly #opened = new Map<string, OpenedKeyFile>();
  readonly #opening = new Map<string, Promise<OpenedKeyFile>>();
  #closed = false;

  private constructor(layout: Layout, opts: VaultOptions) {
    this.#layout = layout;
    this.#opts = opts;
  }

  /** A vault at `path`: a directory if it is one (or ends with `/`), else a single key file. */
  static async open(path: string, opts: VaultOptions): Promise<VaultKeystore> {
    if (path.endsWith('/') || (await isDirectory(path)))
      return new VaultKeystore({ kind: 'dir', dir: path }, opts);
    return new VaultKeystore({ kind: 'file', path, label: labelOfFile(path) }, opts);
  }

  /** Where the key of `label` lives (or would). */
  pathOf(label: string): string {
    checkLabel(label);
    const layout = this.#layout;
    if (layout.kind === 'dir') return join(layout.dir, `${label}${KEY_FILE_SUFFIX}`);
    if (label !== layout.label) {
      throw new KeyNotFoundError(
        `the vault ${layout.path} holds one key, labelled ${JSON.stringify(layout.label)}, not ${JSON.stringify(label)}`,
      );
    }
    return layout.path;
  }

  async list(): Promise<KeyHandle[]> {
    this.#checkOpen();
    const layout = this.#layout;
    if (layout.kind === 'file') {
      const key = await this.#read(layout.label);
      return key === undefined ? [] : [key];
    }
    let names: string[];
    try {
      names = await readdir(layout.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new KeyFileReadError(`cannot list the vault ${layout.dir}`, {
        cause: error,
      });
    }
    const labels = names
      .filter((n) => n.endsWith(KEY_FILE_SUFFIX) && !n.startsWith('.'))
      .map(labelOfFile)
      .filter((label) => /^[A-Za-z0-9._-]{1,64}$/.test(label))
      .sort();
    const keys: KeyHandle[] = [];
    for (const label of labels) {
      const key = await this.#read(label);
      if (key !== undefined) keys.push(key);
    }
    return keys;
  }

  async get(label: string): Promise<KeyHandle | undefined> {
    this.#checkOpen();
    checkLabel(label);
    if (this.#layout.kind === 'file' && label !== this.#layout.label) return undefined;
    return this.#read(label);
  }

  /** As the contract says; `overwrite` replaces an existing (even unreadable) file atomically. */
  async generate(label: string, opts: { overwrite?: boolean } = {}): Promise<KeyHandle> {
    return this.#create(label, undefined, opts.overwrite === true);
  }

  async importSeed(label: string, seed: Uint8Array): Promise<KeyHandle> {
    if (!(seed instanceof Uint8Array) || seed.length !== 32) {
      throw new KeyTypeError('an Ed25519 seed is 32 bytes');
    }
    return this.#create(label, seed, false);
  }

  async publicKey(key: KeyHandle): Promise<Uint8Array> {
    return (await this.#require(key)).publicKey;
  }

  async sign(key: KeyHandle, message: Uint8Array): Promise<Uint8Array> {
    checkMessage(message);
    return (await this.#unseal(key)).sign(message);
  }

  async exportSeed(key: KeyHandle): Promise<Uint8Array> {
    return (await this.#unseal(key)).exportSeed();
  }

  async destroy(key: KeyHandle): Promise<void> {
    await this.#require(key);
    this.#opened.get(key.label)?.dispose();
    this.#opened.delete(key.label);
    try {
      await unlink(this.pathOf(key.label));
    } catch (error) {
      throw new KeyFileWriteError(`cannot remove ${this.pathOf(key.label)}`, {
        cause: error,
      });
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const opened of this.#opened.values()) opened.dispose();
    this.#opened.clear();
  }

  async #create(
    label: string,
    seed: Uint8Array | undefined,
    overwrite: boolean,
  ): Promise<KeyHandle> {
    this.#checkOpen();
    const path = this.pathOf(label);
    if (!overwrite && (await this.#read(label)) !== undefined) {
      throw new KeyExistsError(
        `the vault already has a key labelled ${JSON.stringify(label)} (${path})`,
      );
    }
    const passphrase = await this.#opts.secrets.newPassphrase(path);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    try {
      const info = await createKeyFile(path, passphrase, this.#opts.core, seed, {
        overwrite,
        ...(this.#opts.scryptN === undefined ? {} : { scryptN: this.#opts.scryptN }),
      });
      this.#opened.get(label)?.dispose();
      this.#opened.delete(label);
      return { id: basename(path), label, did: info.did, publicKey: info.publicKey };
    } catch (error) {
      if (error instanceof KeyFileExistsError) {
        throw new KeyExistsError(`${path} already exists`, { cause: error });
      }
      throw error;
    }
  }

  /** The public part of the file of `label`, or undefined when there is no such file. */
  async #read(label: string): Promise<KeyHandle | undefined> {
    const path = this.pathOf(label);
    try {
      const info = await readKeyFilePublic(path);
      return { id: basename(path), label, did: info.did, publicKey: info.publicKey };
    } catch (error) {
      if (
        error instanceof KeyFileReadError &&
        (error.cause as NodeJS.ErrnoException)?.code === 'ENOENT'
      ) {
        return undefined;
      }
      throw error;
    }
  }

  /** The key as it is on disk now; ERR_KEY_NOT_FOUND if it is gone or is another key. */
  async #require(key: KeyHandle): Promise<KeyHandle> {
    this.#checkOpen();
    const current = await this.#read(key.label);
    if (current === undefined || current.did !== key.did) {
      throw new KeyNotFoundError(
        `the vault has no key ${key.did} labelled ${JSON.stringify(key.label)}`,
      );
    }
    return current;
  }

  async #unseal(key: KeyHandle): Promise<OpenedKeyFile> {
    const current = await this.#require(key);
    const cached = this.#opened.get(key.label);
    if (cached !== undefined && cached.did === current.did) return cached;
    // Concurrent first uses share one passphrase prompt and one scrypt run.
    let pending = this.#opening.get(key.label);
    if (pending === undefined) {
      const path = this.pathOf(key.label);
      pending = (async () =>
        openKeyFile(path, await this.#opts.secrets.passphrase(path), this.#opts.core))();
      this.#opening.set(key.label, pending);
      void pending.finally(() => this.#opening.delete(key.label)).catch(() => undefined);
      const opened = await pending;
      if (this.#closed) {
        opened.dispose();
        throw closedError();
      }
      this.#opened.get(key.label)?.dispose();
      this.#opened.set(key.label, opened);
      return opened;
    }
    const opened = await pending;
    if (this.#closed) throw closedError();
    return opened;
  }

  #checkOpen(): void {
    if (this.#closed) throw closedError();
  }
}

function closedError(): KeystoreError {
  return new KeystoreClosedError('the keystore is closed');
}
