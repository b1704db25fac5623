/**
 * Encrypted key files for node identities and author keys. The 32-byte Ed25519 seed lives on
 * disk only as a Fernet token under a key stretched from a passphrase by scrypt:
 *
 * ```json
 * { "type": "commons-sync-key", "version": 1,
 *   "did": "did:key:z6Mk...", "publicKey": "<64 hex>",
 *   "kdf": { "name": "scrypt", "salt": "<base64 of 16 bytes>", "N": 65536, "r": 8, "p": 1 },
 *   "token": "<Fernet token of the seed>" }
 * ```
 *
 * Fernet key = scrypt(UTF-8 of the NFC-normalised passphrase, salt, N, r, p, 32 bytes). The
 * token's HMAC covers the seed; `did` and `publicKey` are checked against the decrypted seed,
 * and `kdf` is covered implicitly (other parameters give another key, and the HMAC fails).
 */
import { randomBytes, type ScryptOptions, scrypt } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { type FileHandle, link, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Core } from '@commons-sync/bindings';
import { ConfigError, type KeyFileError, StorageError } from '../errors.js';
import { didKeyFromPublicKey } from '../protocol/did.js';
import {
  FernetMacError,
  KeyDisposedError,
  KeyFileAlteredError,
  KeyFileExistsError,
  KeyFileFormatError,
  KeyFileKdfError,
  KeyFilePassphraseError,
  KeyFileReadError,
  KeyFileWriteError,
  KeySeedError,
  PassphraseAbortedError,
  PassphraseEmptyError,
  PassphraseUnavailableError,
} from './errors.js';
import { fernetDecrypt, fernetEncrypt } from './fernet.js';

export const KEY_FILE_TYPE = 'commons-sync-key';
export const KEY_FILE_VERSION = 1;
export const PASSPHRASE_ENV = 'COMMONS_SYNC_PASSPHRASE';

/** Default cost: about 0.2 s and 64 MiB per open on a 2020s CPU. */
export const DEFAULT_SCRYPT_N = 2 ** 16;
/** Nothing weaker is written or opened. */
export const MIN_SCRYPT_N = 2 ** 15;
/** Files asking for more work than this are refused rather than run (denial of service). */
const MAX_SCRYPT_MEMORY = 512 * 1024 * 1024;
const SALT_BYTES = 16;
const SEED_BYTES = 32;
const FILE_MODE = 0o600;

export interface ScryptParams {
  name: 'scrypt';
  /** Standard padded base64. */
  salt: string;
  N: number;
  r: number;
  p: number;
}

/** The JSON on disk, version 1. */
export interface KeyFileJson {
  type: typeof KEY_FILE_TYPE;
  version: typeof KEY_FILE_VERSION;
  did: string;
  /** The 32-byte Ed25519 public key, lowercase hex. */
  publicKey: string;
  kdf: ScryptParams;
  token: string;
}

export interface CreateKeyFileOptions {
  /** Replace an existing file; by default an existing file is an error. */
  overwrite?: boolean;
  /** scrypt cost, a power of two of at least 2^15; default 2^16. */
  scryptN?: number;
}

export interface KeyFileInfo {
  path: string;
  did: string;
  publicKey: Uint8Array;
}

/**
 * An opened key file: signs without handing out the seed (only `exportSeed`, which the vault
 * keystore uses for backups, copies it out). Code outside `keys/` reaches keys through the
 * keystore contract (`keystore.ts`), not through this.
 */
export interface OpenedKeyFile {
  readonly did: string;
  /** A fresh copy on each read. */
  readonly publicKey: Uint8Array;
  /** A 64-byte Ed25519 signature; throws {@link KeyFileError} `ERR_KEY_DISPOSED` after dispose. */
  sign(message: Uint8Array): Uint8Array;
  /** A copy of the 32-byte seed, for backups; the caller zeroes it. */
  exportSeed(): Uint8Array;
  /** Zeroes the seed; idempotent. */
  dispose(): void;
}

/**
 * Writes a new key file for `seed` (32 bytes; random when omitted) and returns its identity.
 * The file is written to a temporary name, fsynced and moved into place with mode 0600, so a
 * crash leaves either no file or a whole one. The caller's seed is not modified.
 */
export async function createKeyFile(
  path: string,
  passphrase: string,
  core: Core,
  seed?: Uint8Array,
  opts: CreateKeyFileOptions = {},
): Promise<KeyFileInfo> {
  if (passphrase.length === 0) {
    throw new PassphraseEmptyError('the passphrase must not be empty');
  }
  if (seed !== undefined && seed.length !== SEED_BYTES) {
    throw new KeySeedError(`a seed is ${SEED_BYTES} bytes, got ${seed.length}`);
  }
  const N = opts.scryptN ?? DEFAULT_SCRYPT_N;
  const kdf: ScryptParams = {
    name: 'scrypt',
    salt: randomBytes(SALT_BYTES).toString('base64'),
    N,
    r: 8,
    p: 1,
  };
  checkScryptParams(kdf, (message) => new KeyFileKdfError(message));
  if (opts.overwrite !== true) await refuseExisting(path); // fail before the slow part

  const ownSeed = seed === undefined ? randomBytes(SEED_BYTES) : Buffer.from(seed);
  const key = await deriveKey(passphrase, kdf);
  try {
    const publicKey = core.ed25519PublicKey(ownSeed);
    const did = didKeyFromPublicKey(publicKey);
    const file: KeyFileJson = {
      type: KEY_FILE_TYPE,
      version: KEY_FILE_VERSION,
      did,
      publicKey: Buffer.from(publicKey).toString('hex'),
      kdf,
      token: fernetEncrypt(key, ownSeed),
    };
    await writeAtomically(path, `${JSON.stringify(file, null, 2)}\n`, opts.overwrite === true);
    return { path, did, publicKey };
  } finally {
    ownSeed.fill(0);
    key.fill(0);
  }
}

/**
 * Opens a key file. Throws {@link KeyFileError} `ERR_KEYFILE_PASSPHRASE` when the passphrase
 * does not open it (or its token or kdf were altered), `ERR_KEYFILE_ALTERED` when its did or
 * publicKey do not belong to the sealed seed, and {@link StorageError} when it cannot be read
 * or is not a version-1 key file.
 */
export async function openKeyFile(
  path: string,
  passphrase: string,
  core: Core,
): Promise<OpenedKeyFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new KeyFileReadError(`cannot read key file ${path}`, { cause });
  }
  const file = parseKeyFile(text, path);
  const publicKey = Buffer.from(file.publicKey, 'hex');
  if (didKeyFromPublicKey(publicKey) !== file.did) {
    throw altered(path, 'its did does not match its publicKey');
  }

  const key = await deriveKey(passphrase, file.kdf);
  let seed: Buffer;
  try {
    seed = fernetDecrypt(key, file.token);
  } catch (cause) {
    if (cause instanceof FernetMacError) {
      throw new KeyFilePassphraseError(
        `the passphrase does not open ${path} (or its token or kdf were altered)`,
        { cause },
      );
    }
    throw altered(path, 'its token does not hold a key', cause);
  } finally {
    key.fill(0);
  }
  if (seed.length !== SEED_BYTES) {
    seed.fill(0);
    throw altered(path, 'its token does not hold a 32-byte seed');
  }
  const derived = core.ed25519PublicKey(seed);
  if (!publicKey.equals(derived)) {
    seed.fill(0);
    throw altered(path, 'its publicKey does not belong to the sealed seed');
  }
  return new SealedKey(seed, publicKey, file.did, core);
}

/**
 * The public part of a key file (its did and public key), read without the passphrase. The
 * file's format is checked in full; that the public key belongs to the sealed seed is only
 * known once it is opened.
 */
export async function readKeyFilePublic(path: string): Promise<KeyFileInfo> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new KeyFileReadError(`cannot read key file ${path}`, { cause });
  }
  const file = parseKeyFile(text, path);
  const publicKey = Uint8Array.from(Buffer.from(file.publicKey, 'hex'));
  if (didKeyFromPublicKey(publicKey) !== file.did) {
    throw altered(path, 'its did does not match its publicKey');
  }
  return { path, did: file.did, publicKey };
}

/** The passphrase from `COMMONS_SYNC_PASSPHRASE`, or `undefined` when unset or empty. */
export function passphraseFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[PASSPHRASE_ENV];
  return value === undefined || value === '' ? undefined : value;
}

export interface PromptOptions {
  /** Default process.stdin. */
  input?: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  /** Where the prompt goes; default process.stderr, so stdout stays clean for pipes. */
  output?: NodeJS.WritableStream;
}

/**
 * Reads a passphrase from the terminal without echo. When stdin is not a terminal there is
 * no one to ask: throws {@link ConfigError} `ERR_PASSPHRASE_UNAVAILABLE`, which says to set
 * `COMMONS_SYNC_PASSPHRASE`. Ctrl-C or Ctrl-D reject with `ERR_PASSPHRASE_ABORTED`.
 */
export function promptPassphrase(
  prompt = 'Passphrase: ',
  opts: PromptOptions = {},
): Promise<string> {
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stderr;
  const setRawMode = input.setRawMode;
  if (input.isTTY !== true || setRawMode === undefined) {
    return Promise.reject(
      new PassphraseUnavailableError(`no terminal to ask for a passphrase: set ${PASSPHRASE_ENV}`),
    );
  }
  return new Promise((resolve, reject) => {
    const chars: string[] = [];
    const finish = (error: Error | undefined): void => {
      input.removeListener('data', onData);
      setRawMode.call(input, false);
      input.pause();
      output.write('\n');
      if (error === undefined) resolve(chars.join(''));
      else reject(error);
    };
    const onData = (chunk: string | Buffer): void => {
      for (const ch of String(chunk)) {
        if (ch === '\r' || ch === '\n') {
          finish(undefined);
          return;
        }
        if (ch === '\u0003' || (ch === '\u0004' && chars.length === 0)) {
          finish(new PassphraseAbortedError('passphrase entry aborted'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') chars.pop();
        else if (ch >= ' ') chars.push(ch);
      }
    };
    output.write(prompt);
    input.setEncoding('utf8');
    setRawMode.call(input, true);
    input.on('data', onData);
    input.resume();
  });
}

/** `COMMONS_SYNC_PASSPHRASE` if set, else a terminal prompt. */
export async function resolvePassphrase(prompt?: string): Promise<string> {
  return passphraseFromEnv() ?? promptPassphrase(prompt);
}

class SealedKey implements OpenedKeyFile {
  readonly #seed: Buffer;
  readonly #publicKey: Buffer;
  readonly #core: Core;
  #disposed = false;
  readonly did: string;

  constructor(seed: Buffer, publicKey: Buffer, did: string, core: Core) {
    this.#seed = seed;
    this.#publicKey = publicKey;
    this.#core = core;
    this.did = did;
  }

  get publicKey(): Uint8Array {
    return Uint8Array.from(this.#publicKey);
  }

  sign(message: Uint8Array): Uint8Array {
    if (this.#disposed) throw new KeyDisposedError('this key has been disposed');
    return this.#core.ed25519Sign(this.#seed, message);
  }

  exportSeed(): Uint8Array {
    if (this.#disposed) throw new KeyDisposedError('this key has been disposed');
    return Uint8Array.from(this.#seed);
  }

  dispose(): void {
    this.#seed.fill(0);
    this.#disposed = true;
  }

  toJSON(): { did: string } {
    return { did: this.did };
  }
}

function parseKeyFile(text: string, path: string): KeyFileJson {
  const bad = (what: string): StorageError =>
    new KeyFileFormatError(`${path} is not a version-${KEY_FILE_VERSION} key file: ${what}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad('not JSON');
  }
  if (!isRecord(value)) throw bad('not a JSON object');
  if (value['type'] !== KEY_FILE_TYPE) throw bad(`type is not "${KEY_FILE_TYPE}"`);
  if (value['version'] !== KEY_FILE_VERSION) {
    throw bad(`unsupported version ${String(value['version'])}`);
  }
  const { did, publicKey, kdf, token } = value;
  if (typeof did !== 'string') throw bad('did is not a string');
  if (typeof publicKey !== 'string' || !/^[0-9a-f]{64}$/.test(publicKey)) {
    throw bad('publicKey is not 64 lowercase hex digits');
  }
  if (typeof token !== 'string') throw bad('token is not a string');
  if (!isRecord(kdf) || kdf['name'] !== 'scrypt') throw bad('kdf is not scrypt');
  const { salt, N, r, p } = kdf;
  if (
    typeof salt !== 'string' ||
    typeof N !== 'number' ||
    typeof r !== 'number' ||
    typeof p !== 'number'
  ) {
    throw bad('kdf needs salt, N, r and p');
  }
  const params: ScryptParams = { name: 'scrypt', salt, N, r, p };
  checkScryptParams(params, bad);
  return { type: KEY_FILE_TYPE, version: KEY_FILE_VERSION, did, publicKey, kdf: params, token };
}

function checkScryptParams(kdf: ScryptParams, fail: (message: string) => Error): void {
  const { N, r, p } = kdf;
  if (!Number.isSafeInteger(N) || N < MIN_SCRYPT_N || (N & (N - 1)) !== 0) {
    throw fail(`scrypt N must be a power of two of at least ${MIN_SCRYPT_N}, got ${N}`);
  }
  if (!Number.isSafeInteger(r) || r < 1 || !Number.isSafeInteger(p) || p < 1 || p > 16) {
    throw fail(`scrypt r and p must be small positive integers, got r=${r} p=${p}`);
  }
  if (128 * N * r > MAX_SCRYPT_MEMORY) {
    throw fail(`scrypt N=${N} r=${r} needs more than ${MAX_SCRYPT_MEMORY >> 20} MiB`);
  }
  const salt = decodeBase64(kdf.salt);
  if (salt === undefined || salt.length < SALT_BYTES) {
    throw fail(`the scrypt salt must be base64 of at least ${SALT_BYTES} bytes`);
  }
}

function deriveKey(passphrase: string, kdf: ScryptParams): Promise<Buffer> {
  const salt = decodeBase64(kdf.salt) ?? Buffer.alloc(0); // checked by checkScryptParams
  const options: ScryptOptions = {
    N: kdf.N,
    r: kdf.r,
    p: kdf.p,
    // Node refuses above 32 MiB by default; scrypt needs about 128·N·r plus 128·r·p.
    maxmem: 128 * kdf.N * kdf.r + 128 * kdf.r * kdf.p + 1024 * 1024,
  };
  return new Promise((resolve, reject) => {
    scrypt(passphrase.normalize('NFC'), salt, 32, options, (error, key) => {
      if (error === null) resolve(key);
      else reject(new KeyFileKdfError('scrypt failed', { cause: error }));
    });
  });
}

async function refuseExisting(path: string): Promise<void> {
  try {
    await (await open(path, fsConstants.O_RDONLY)).close();
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return;
    throw new KeyFileWriteError(`cannot check ${path}`, { cause: error });
  }
  throw exists(path);
}

/**
 * Temp file in the same directory (so the final step is a rename within one file system),
 * created 0600, fsynced, then moved into place. Without `overwrite` the move is a hard link,
 * which fails atomically if `path` appeared meanwhile; file systems without hard links fall
 * back to a check-then-rename.
 */
async function writeAtomically(path: string, data: string, overwrite: boolean): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let placed = false;
  try {
    const handle = await open(temp, 'wx', FILE_MODE);
    try {
      await handle.chmod(FILE_MODE); // in case a umask or ACL widened it
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (overwrite) {
      await rename(temp, path);
      placed = true;
    } else {
      try {
        await link(temp, path);
      } catch (error) {
        if (isErrno(error, 'EEXIST')) throw exists(path);
        if (!isErrno(error, 'EPERM', 'ENOTSUP', 'ENOSYS', 'EOPNOTSUPP')) throw error;
        await refuseExisting(path);
        await rename(temp, path);
        placed = true;
      }
    }
    await syncDirectory(dir);
  } catch (error) {
    if (error instanceof StorageError) throw error;
    throw new KeyFileWriteError(`cannot write key file ${path}`, { cause: error });
  } finally {
    if (!placed) await unlink(temp).catch(() => undefined);
  }
}

/** Makes the rename durable. Not every platform can open a directory (Windows): best effort. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(dir, fsConstants.O_RDONLY);
  } catch {
    return;
  }
  try {
    await handle.sync();
  } catch {
    // EINVAL/EISDIR on some platforms: the file itself is already synced.
  } finally {
    await handle.close();
  }
}

function exists(path: string): StorageError {
  return new KeyFileExistsError(`${path} already exists; refusing to overwrite a key file`);
}

function altered(path: string, what: string, cause?: unknown): KeyFileError {
  return new KeyFileAlteredError(`${path} was altered: ${what}`, { cause });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isErrno(error: unknown, ...codes: string[]): boolean {
  return error instanceof Error && codes.includes(String((error as NodeJS.ErrnoException).code));
}

const BASE64_PADDED = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBase64(text: string): Buffer | undefined {
  return BASE64_PADDED.test(text) ? Buffer.from(text, 'base64') : undefined;
}
