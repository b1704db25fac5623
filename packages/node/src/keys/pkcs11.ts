/**
 * The PKCS#11 keystore: Ed25519 keys generated inside a token (SoftHSM2 in our tests, any
 * PKCS#11 v3 device that offers the mechanisms) through the `pkcs11js` binding. Keys are made
 * with CKM_EC_EDWARDS_KEY_PAIR_GEN and sign with CKM_EDDSA (pure Ed25519, RFC 8032); private
 * keys are CKA_SENSITIVE and not CKA_EXTRACTABLE, so they never leave the token and this
 * backend has no export and no import.
 *
 * A key is its pair of objects with one CKA_ID (16 random bytes, the handle's `id` in hex) and
 * one CKA_LABEL. Public objects are readable without logging in, so `list` needs no PIN; the
 * first `generate`, `sign` or `destroy` logs in with the PIN from the {@link SecretSource}.
 * One session per keystore; operations on it run one at a time.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

import { didKeyFromPublicKey } from '../protocol/did.js';
import {
  KeyExistsError,
  KeyNotExportableError,
  KeyNotFoundError,
  KeyNotImportableError,
  KeystoreClosedError,
  KeystoreUnavailableError,
  KeyTypeError,
  Pkcs11Error,
  Pkcs11PinError,
  Pkcs11TokenError,
} from './errors.js';
import {
  checkLabel,
  checkMessage,
  type KeyHandle,
  type Keystore,
  KeystoreError,
  type SecretSource,
} from './keystore.js';

/** Mechanism and key-type numbers of PKCS#11 v3.0 (pkcs11js does not name them). */
export const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
export const CKM_EDDSA = 0x1057;
export const CKK_EC_EDWARDS = 0x40;
/** DER of the OID id-Ed25519 (1.3.101.112), the CKA_EC_PARAMS of an Ed25519 key. */
const ED25519_PARAMS = Buffer.from('06032b6570', 'hex');

export const PIN_ENV = 'COMMONS_SYNC_PKCS11_PIN';

type Pkcs11Module = typeof import('pkcs11js');
type Pkcs11 = InstanceType<Pkcs11Module['PKCS11']>;
type Handle = Buffer;

export interface Pkcs11Options {
  /** Path of the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  readonly module: string;
  /** The token's label. */
  readonly token: string;
  readonly secrets: SecretSource;
}

/** One loaded library per path per process: C_Initialize may run only once. */
const loaded = new Map<string, { lib: Pkcs11; mod: Pkcs11Module; users: number }>();

function ckr(error: unknown): string {
  return error instanceof Error
    ? (/CKR_[A-Z_]+/.exec(error.message)?.[0] ?? error.message)
    : String(error);
}

function pkcs11Error(what: string, error: unknown): KeystoreError {
  if (error instanceof KeystoreError) return error;
  return new Pkcs11Error(`${what}: ${ckr(error)}`, { cause: error });
}

function acquire(path: string): { lib: Pkcs11; mod: Pkcs11Module } {
  const existing = loaded.get(path);
  if (existing !== undefined) {
    existing.users += 1;
    return existing;
  }
  let mod: Pkcs11Module;
  try {
    mod = createRequire(import.meta.url)('pkcs11js') as Pkcs11Module;
  } catch (cause) {
    throw new KeystoreUnavailableError(
      'the pkcs11js binding is not installed (npm run build installs it)',
      { cause },
    );
  }
  const lib = new mod.PKCS11();
  try {
    lib.load(path);
  } catch (cause) {
    throw new KeystoreUnavailableError(`cannot load the PKCS#11 module ${path}: ${ckr(cause)}`, {
      cause,
    });
  }
  try {
    lib.C_Initialize();
  } catch (cause) {
    if (ckr(cause) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
      throw new KeystoreUnavailableError(
        `the PKCS#11 module ${path} did not initialize: ${ckr(cause)}`,
        { cause },
      );
    }
  }
  const entry = { lib, mod, users: 1 };
  loaded.set(path, entry);
  return entry;
}

function release(path: string): void {
  const entry = loaded.get(path);
  if (entry === undefined) return;
  entry.users -= 1;
  if (entry.users > 0) return;
  loaded.delete(path);
  try {
    entry.lib.C_Finalize();
  } catch {
    // Finalizing is cleanup: a module that refuses leaves nothing of ours behind.
  }
}

/** The 32-byte key in a CKA_EC_POINT: a DER OCTET STRING (04 20 ...) or the raw bytes. */
export function ed25519FromEcPoint(point: Uint8Array): Uint8Array {
  if (point.length === 34 && point[0] === 0x04 && point[1] === 0x20)
    return Uint8Array.from(point.subarray(2));
  if (point.length === 32) return Uint8Array.from(point);
  throw new KeyTypeError(`CKA_EC_POINT of ${point.length} bytes is not an Ed25519 public key`);
}

export class Pkcs11Keystore implements Keystore {
  readonly kind = 'pkcs11';
  readonly capabilities = { export: false, import: false } as const;
  readonly #opts: Pkcs11Options;
  readonly #lib: Pkcs11;
  readonly #mod: Pkcs11Module;
  readonly #slot: Handle;
  #session: Handle;
  #loggedIn = false;
  #closed = false;
  /** The tail of the queue of operations on the session. */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(
    opts: Pkcs11Options,
    lib: Pkcs11,
    mod: Pkcs11Module,
    slot: Handle,
    session: Handle,
  ) {
    this.#opts = opts;
    this.#lib = lib;
    this.#mod = mod;
    this.#slot = slot;
    this.#session = session;
  }

  /** Loads the module, finds the token by label, checks its mechanisms and opens a session. */
  static async open(opts: Pkcs11Options): Promise<Pkcs11Keystore> {
    const { lib, mod } = acquire(opts.module);
    try {
      const slot = findTokenSlot(lib, opts.token);
      const mechanisms = lib.C_GetMechanismList(slot);
      if (!mechanisms.includes(CKM_EC_EDWARDS_KEY_PAIR_GEN) || !mechanisms.includes(CKM_EDDSA)) {
        throw new KeystoreUnavailableError(
          `token ${JSON.stringify(opts.token)} offers no Ed25519 (CKM_EC_EDWARDS_KEY_PAIR_GEN, CKM_EDDSA)`,
        );
      }
      const session = lib.C_OpenSession(slot, mod.CKF_SERIAL_SESSION | mod.CKF_RW_SESSION);
      return new Pkcs11Keystore(opts, lib, mod, slot, session);
    } catch (error) {
      release(opts.module);
      throw pkcs11Error(`cannot open token ${JSON.stringify(opts.token)}`, error);
    }
  }

  list(): Promise<KeyHandle[]> {
    return this.#run(() => {
      const objects = this.#find([
        { type: this.#mod.CKA_CLASS, value: this.#mod.CKO_PUBLIC_KEY },
        { type: this.#mod.CKA_KEY_TYPE, value: CKK_EC_EDWARDS },
      ]);
      return objects
        .map((o) => this.#handleOf(o))
        .sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
    });
  }

  async get(label: string): Promise<KeyHandle | undefined> {
    checkLabel(label);
    return this.#run(() => {
      const [object] = this.#find([
        { type: this.#mod.CKA_CLASS, value: this.#mod.CKO_PUBLIC_KEY },
        { type: this.#mod.CKA_KEY_TYPE, value: CKK_EC_EDWARDS },
        { type: this.#mod.CKA_LABEL, value: label },
      ]);
      return object === undefined ? undefined : this.#handleOf(object);
    });
  }

  async generate(label: string): Promise<KeyHandle> {
    checkLabel(label);
    await this.#login();
    return this.#run(() => {
      const m = this.#mod;
      if (this.#find([{ type: m.CKA_LABEL, value: label }]).length > 0) {
        throw new KeyExistsError(
          `token ${JSON.stringify(this.#opts.token)} already has a key labelled ${JSON.stringify(label)}`,
        );
      }
      const id = randomBytes(16);
      const keys = this.#call('C_GenerateKeyPair', () =>
        this.#lib.C_GenerateKeyPair(
          this.#session,
          { mechanism: CKM_EC_EDWARDS_KEY_PAIR_GEN },
          [
            { type: m.CKA_TOKEN, value: true },
            { type: m.CKA_PRIVATE, value: false },
            { type: m.CKA_VERIFY, value: true },
            { type: m.CKA_EC_PARAMS, value: ED25519_PARAMS },
            { type: m.CKA_LABEL, value: label },
            { type: m.CKA_ID, value: id },
          ],
          [
            { type: m.CKA_TOKEN, value: true },
            { type: m.CKA_PRIVATE, value: true },
            { type: m.CKA_SENSITIVE, value: true },
            { type: m.CKA_EXTRACTABLE, value: false },
            { type: m.CKA_SIGN, value: true },
            { type: m.CKA_LABEL, value: label },
            { type: m.CKA_ID, value: id },
          ],
        ),
      );
      return this.#handleOf(keys.publicKey);
    });
  }

  async publicKey(key: KeyHandle): Promise<Uint8Array> {
    return this.#run(() => this.#handleOf(this.#object(key, this.#mod.CKO_PUBLIC_KEY)).publicKey);
  }

  async sign(key: KeyHandle, message: Uint8Array): Promise<Uint8Array> {
    checkMessage(message);
    await this.#login();
    return this.#run(async () => {
      const privateKey = this.#object(key, this.#mod.CKO_PRIVATE_KEY);
      this.#call('C_SignInit', () =>
        this.#lib.C_SignInit(this.#session, { mechanism: CKM_EDDSA }, privateKey),
      );
      let signature: Buffer;
      try {
        signature = await this.#lib.C_SignAsync(
          this.#session,
          Buffer.from(message),
          Buffer.alloc(64),
        );
      } catch (error) {
        // A failed C_Sign may leave the operation active, blocking the session: start afresh.
        await this.#renewSession();
        throw pkcs11Error('C_Sign', error);
      }
      if (signature.length !== 64)
        throw new KeyTypeError(`the token returned a ${signature.length}-byte signature`);
      return Uint8Array.from(signature);
    });
  }

  async destroy(key: KeyHandle): Promise<void> {
    await this.#login();
    return this.#run(() => {
      const objects = this.#find([{ type: this.#mod.CKA_ID, value: Buffer.from(key.id, 'hex') }]);
      if (objects.length === 0) throw notFound(key);
      for (const o of objects)
        this.#call('C_DestroyObject', () => this.#lib.C_DestroyObject(this.#session, o));
    });
  }

  exportSeed(key: KeyHandle): Promise<Uint8Array> {
    return Promise.reject(
      new KeyNotExportableError(
        `${key.did} lives in a PKCS#11 token and never leaves it (CKA_SENSITIVE, not CKA_EXTRACTABLE)`,
      ),
    );
  }

  importSeed(): Promise<KeyHandle> {
    return Promise.reject(
      new KeyNotImportableError('PKCS#11 keys are generated inside the token; nothing is imported'),
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue.catch(() => undefined);
    try {
      this.#lib.C_CloseSession(this.#session); // the last session closing also logs out
    } catch {
      // a session the module already dropped
    }
    release(this.#opts.module);
  }

  /** Runs `op` after every earlier operation on the session (PKCS#11 sessions are not reentrant). */
  #run<T>(op: () => T | Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new KeystoreClosedError('the keystore is closed'));
    const result = this.#queue.then(op);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #renewSession(): Promise<void> {
    try {
      this.#lib.C_CloseSession(this.#session);
    } catch {
      // already gone
    }
    this.#session = this.#call('C_OpenSession', () =>
      this.#lib.C_OpenSession(this.#slot, this.#mod.CKF_SERIAL_SESSION | this.#mod.CKF_RW_SESSION),
    );
    this.#loggedIn = false;
    const pin = await this.#opts.secrets.pin(this.#opts.token);
    this.#loginNow(pin);
  }

  async #login(): Promise<void> {
    if (this.#loggedIn) return;
    const pin = await this.#opts.secrets.pin(this.#opts.token);
    await this.#run(() => this.#loginNow(pin));
  }

  #loginNow(pin: string): void {
    if (this.#loggedIn) return;
    try {
      this.#lib.C_Login(this.#session, this.#mod.CKU_USER, pin);
    } catch (error) {
      const name = ckr(error);
      if (name !== 'CKR_USER_ALREADY_LOGGED_IN') {
        if (/^CKR_PIN_(INCORRECT|INVALID|LEN_RANGE|LOCKED|EXPIRED)$/.test(name)) {
          throw new Pkcs11PinError(
            `token ${JSON.stringify(this.#opts.token)} refused the PIN (${name})`,
            { cause: error },
          );
        }
        throw pkcs11Error('C_Login', error);
      }
    }
    this.#loggedIn = true;
  }

  #call<T>(what: string, call: () => T): T {
    try {
      return call();
    } catch (error) {
      throw pkcs11Error(what, error);
    }
  }

  #find(template: { type: number; value: unknown }[]): Handle[] {
    const lib = this.#lib;
    this.#call('C_FindObjectsInit', () =>
      lib.C_FindObjectsInit(this.#session, template as Parameters<Pkcs11['C_FindObjectsInit']>[1]),
    );
    try {
      const out: Handle[] = [];
      for (;;) {
        const batch = this.#call('C_FindObjects', () => lib.C_FindObjects(this.#session, 64));
        if (batch.length === 0) return out;
        out.push(...batch);
      }
    } finally {
      lib.C_FindObjectsFinal(this.#session);
    }
  }

  /** The object of `cls` with the handle's CKA_ID; ERR_KEY_NOT_FOUND when there is none. */
  #object(key: KeyHandle, cls: number): Handle {
    if (!/^[0-9a-f]{2,128}$/.test(key.id)) throw notFound(key);
    const [object] = this.#find([
      { type: this.#mod.CKA_CLASS, value: cls },
      { type: this.#mod.CKA_ID, value: Buffer.from(key.id, 'hex') },
    ]);
    if (object === undefined) throw notFound(key);
    return object;
  }

  #handleOf(publicObject: Handle): KeyHandle {
    const m = this.#mod;
    const attrs = this.#call('C_GetAttributeValue', () =>
      this.#lib.C_GetAttributeValue(this.#session, publicObject, [
        { type: m.CKA_ID },
        { type: m.CKA_LABEL },
        { type: m.CKA_EC_POINT },
      ]),
    );
    const value = (i: number): Buffer => {
      const v = attrs[i]?.value;
      if (!Buffer.isBuffer(v))
        throw new KeyTypeError('a token object lacks CKA_ID, CKA_LABEL or CKA_EC_POINT');
      return v;
    };
    const publicKey = ed25519FromEcPoint(value(2));
    return {
      id: value(0).toString('hex'),
      label: value(1).toString('utf8'),
      publicKey,
      did: didKeyFromPublicKey(publicKey),
    };
  }
}

function findTokenSlot(lib: Pkcs11, label: string): Handle {
  const slots = lib
    .C_GetSlotList(true)
    .filter((slot) => lib.C_GetTokenInfo(slot).label.trimEnd() === label);
  if (slots.length === 0)
    throw new Pkcs11TokenError(`no PKCS#11 token labelled ${JSON.stringify(label)}`);
  if (slots.length > 1)
    throw new Pkcs11TokenError(
      `${slots.length} tokens are labelled ${JSON.stringify(label)}; labels must be unique`,
    );
  return slots[0] as Handle;
}

function notFound(key: KeyHandle): KeystoreError {
  return new KeyNotFoundError(`the token has no key ${key.did} (id ${key.id})`);
}
