/**
 * Encrypted key files: round trip, refusals with typed errors, mode 0600, no silent overwrite,
 * no seed on disk, a version-1 fixture written by an independent implementation (Python), and
 * the passphrase sources.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { inspect } from 'node:util';
import { type Core, loadCore } from '@commons-sync/bindings';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, KeyFileError, StorageError } from '../src/errors.js';
import {
  createKeyFile,
  DEFAULT_SCRYPT_N,
  type KeyFileJson,
  MIN_SCRYPT_N,
  openKeyFile,
  passphraseFromEnv,
  promptPassphrase,
} from '../src/keys/keyfile.js';

/** RFC 8032 section 7.1, test 1. */
const RFC_SEED = Buffer.from(
  '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
  'hex',
);
const RFC_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const RFC_DID = 'did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw';

/**
 * A version-1 key file made by Python (hashlib.scrypt + cryptography.fernet + a hand-written
 * base58), not by this code: it pins the format on disk. Passphrase below, in NFC.
 */
const FIXTURE_PASSPHRASE = 'correct horse battery staple — café ✓';
const FIXTURE_V1: KeyFileJson = {
  type: 'commons-sync-key',
  version: 1,
  did: RFC_DID,
  publicKey: RFC_PUBLIC,
  kdf: { name: 'scrypt', salt: 'AAECAwQFBgcICQoLDA0ODw==', N: 32768, r: 8, p: 1 },
  token:
    'gAAAAABpVbkAEBESExQVFhcYGRobHB0eH2HuwrTabMiHEJZQ3eDLIhjXz52ZUoN5yGa36wsVWFw_d27MMYIPpemA' +
    '4nptI-DAE56JGHUMreJ04vNHvCjSylmtSKA4bKoHZZH0Odlxqgy9',
};

const FAST = { scryptN: MIN_SCRYPT_N };
const PASS = 'open sesame';
const MESSAGE = new TextEncoder().encode('a message to sign');

let core: Core;
let dir: string;
let counter = 0;
const fresh = (): string => join(dir, `key-${++counter}.json`);

beforeAll(async () => {
  core = await loadCore();
  dir = await mkdtemp(join(tmpdir(), 'commons-sync-keyfile-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readJson(path: string): Promise<KeyFileJson> {
  return JSON.parse(await readFile(path, 'utf8')) as KeyFileJson;
}

async function rewrite(path: string, edit: (file: KeyFileJson) => void): Promise<void> {
  const file = await readJson(path);
  edit(file);
  await writeFile(path, JSON.stringify(file));
}

async function refusal(promise: Promise<unknown>): Promise<Error & { code: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code: string };
  }
  throw new Error('the call succeeded');
}

describe('key files', () => {
  it('round-trips a given seed: same did, public key and signatures', async () => {
    const path = fresh();
    const info = await createKeyFile(path, PASS, core, RFC_SEED, FAST);
    expect(info.did).toBe(RFC_DID);
    expect(Buffer.from(info.publicKey).toString('hex')).toBe(RFC_PUBLIC);

    const key = await openKeyFile(path, PASS, core);
    expect(key.did).toBe(RFC_DID);
    expect(Buffer.from(key.publicKey).toString('hex')).toBe(RFC_PUBLIC);
    const signature = key.sign(MESSAGE);
    expect(signature).toEqual(core.ed25519Sign(RFC_SEED, MESSAGE));
    expect(core.ed25519Verify(key.publicKey, MESSAGE, signature)).toBe(true);
    key.dispose();
  });

  it('makes a random seed when none is given, with the default scrypt cost', async () => {
    const path = fresh();
    const info = await createKeyFile(path, PASS, core);
    const file = await readJson(path);
    expect(file).toMatchObject({ type: 'commons-sync-key', version: 1, did: info.did });
    expect(file.kdf).toMatchObject({ name: 'scrypt', N: DEFAULT_SCRYPT_N, r: 8, p: 1 });
    expect(DEFAULT_SCRYPT_N).toBeGreaterThanOrEqual(2 ** 15);
    expect(Buffer.from(file.kdf.salt, 'base64')).toHaveLength(16);
    expect(file.did).toMatch(/^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]+$/);

    const key = await openKeyFile(path, PASS, core);
    expect(core.ed25519Verify(info.publicKey, MESSAGE, key.sign(MESSAGE))).toBe(true);
    const other = await createKeyFile(fresh(), PASS, core, undefined, FAST);
    expect(other.did).not.toBe(info.did);
  });

  it('opens a version-1 file written by an independent implementation', async () => {
    const path = fresh();
    await writeFile(path, JSON.stringify(FIXTURE_V1));
    const key = await openKeyFile(path, FIXTURE_PASSPHRASE, core);
    expect(key.did).toBe(RFC_DID);
    expect(key.sign(MESSAGE)).toEqual(core.ed25519Sign(RFC_SEED, MESSAGE));
    // The passphrase is NFC-normalised: the decomposed spelling opens the same file.
    const decomposed = FIXTURE_PASSPHRASE.normalize('NFD');
    expect(decomposed).not.toBe(FIXTURE_PASSPHRASE);
    expect((await openKeyFile(path, decomposed, core)).did).toBe(RFC_DID);
  });

  it('writes what Python can open (scrypt + Fernet as documented)', async () => {
    const path = fresh();
    const passphrase = 'pässwörd';
    await createKeyFile(path, passphrase, core, RFC_SEED, FAST);
    const script = `
import base64, hashlib, json, sys, unicodedata
from cryptography.fernet import Fernet
job = json.load(sys.stdin)
f, k = job["file"], job["file"]["kdf"]
passphrase = unicodedata.normalize("NFC", job["passphrase"]).encode()
key = hashlib.scrypt(passphrase, salt=base64.b64decode(k["salt"]), n=k["N"], r=k["r"], p=k["p"],
                     maxmem=256 * 1024 * 1024, dklen=32)
print(Fernet(base64.urlsafe_b64encode(key)).decrypt(f["token"].encode()).hex())
`;
    const run = spawnSync(process.env['PYTHON'] ?? 'python3', ['-c', script], {
      input: JSON.stringify({ file: await readJson(path), passphrase }),
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (run.error !== undefined || run.status !== 0) {
      throw new Error(
        `python3 with the \`cryptography\` package is needed for this test (pip install ` +
          `cryptography): ${run.error?.message ?? ''}${run.stderr ?? ''}`,
      );
    }
    expect(run.stdout.trim()).toBe(RFC_SEED.toString('hex'));
  });

  it('refuses a wrong passphrase with KeyFileError ERR_KEYFILE_PASSPHRASE', async () => {
    const path = fresh();
    await createKeyFile(path, PASS, core, undefined, FAST);
    const error = await refusal(openKeyFile(path, 'open sesame!', core));
    expect(error).toBeInstanceOf(KeyFileError);
    expect(error.code).toBe('ERR_KEYFILE_PASSPHRASE');
  });

  describe('refuses an altered file with a KeyFileError', () => {
    const cases: [string, (file: KeyFileJson, other: KeyFileJson) => void, string][] = [
      [
        'one token character changed',
        (f) => {
          const i = 60;
          const c = f.token[i] === 'A' ? 'B' : 'A';
          f.token = f.token.slice(0, i) + c + f.token.slice(i + 1);
        },
        'ERR_KEYFILE_PASSPHRASE',
      ],
      ['token of another file', (f, o) => (f.token = o.token), 'ERR_KEYFILE_PASSPHRASE'],
      ['token not base64url', (f) => (f.token = `*${f.token.slice(1)}`), 'ERR_KEYFILE_ALTERED'],
      ['salt changed', (f) => (f.kdf.salt = 'AAAAAAAAAAAAAAAAAAAAAA=='), 'ERR_KEYFILE_PASSPHRASE'],
      ['N doubled', (f) => (f.kdf.N *= 2), 'ERR_KEYFILE_PASSPHRASE'],
      ['publicKey replaced', (f, o) => (f.publicKey = o.publicKey), 'ERR_KEYFILE_ALTERED'],
      ['did replaced', (f, o) => (f.did = o.did), 'ERR_KEYFILE_ALTERED'],
      [
        'publicKey and did both replaced, consistently',
        (f, o) => {
          f.publicKey = o.publicKey;
          f.did = o.did;
        },
        'ERR_KEYFILE_ALTERED',
      ],
    ];
    it.each(cases)('%s', async (_name, edit, code) => {
      const path = fresh();
      const otherPath = fresh();
      await createKeyFile(path, PASS, core, undefined, FAST);
      await createKeyFile(otherPath, PASS, core, undefined, FAST);
      const other = await readJson(otherPath);
      await rewrite(path, (f) => edit(f, other));
      const error = await refusal(openKeyFile(path, PASS, core));
      expect(error).toBeInstanceOf(KeyFileError);
      expect(error.code).toBe(code);
    });
  });

  it('refuses files that are not version-1 key files with StorageError', async () => {
    const path = fresh();
    await createKeyFile(path, PASS, core, undefined, FAST);
    const good = await readFile(path, 'utf8');
    type Loose = Omit<KeyFileJson, 'type' | 'version' | 'token'> & {
      type: unknown;
      version: unknown;
      token?: string;
    };
    const variants: ((f: Loose) => void)[] = [
      (f) => (f.version = 2),
      (f) => (f.type = 'something-else'),
      (f) => (f.publicKey = f.publicKey.toUpperCase()),
      (f) => (f.kdf.N = 2 ** 14), // weaker than the floor
      (f) => (f.kdf.N = 2 ** 24), // a file asking for gigabytes is refused, not run
      (f) => (f.kdf.N = 40_000),
      (f) => (f.kdf.salt = 'short'),
      (f) => delete f.token,
    ];
    for (const variant of variants) {
      const file = JSON.parse(good) as Loose;
      variant(file);
      await writeFile(path, JSON.stringify(file));
      const error = await refusal(openKeyFile(path, PASS, core));
      expect(error, variant.toString()).toBeInstanceOf(StorageError);
      expect(error.code).toBe('ERR_KEYFILE_FORMAT');
    }
    await writeFile(path, 'not json');
    expect((await refusal(openKeyFile(path, PASS, core))).code).toBe('ERR_KEYFILE_FORMAT');
    const missing = await refusal(openKeyFile(join(dir, 'missing.json'), PASS, core));
    expect(missing).toBeInstanceOf(StorageError);
    expect(missing.code).toBe('ERR_KEYFILE_READ');
  });

  it.runIf(process.platform !== 'win32')('writes the file with mode 0600', async () => {
    const path = fresh();
    await createKeyFile(path, PASS, core, undefined, FAST);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await createKeyFile(path, PASS, core, undefined, { ...FAST, overwrite: true });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('does not overwrite an existing file unless asked, and leaves no temp files', async () => {
    const path = fresh();
    const first = await createKeyFile(path, PASS, core, undefined, FAST);
    const before = await readFile(path, 'utf8');
    const error = await refusal(createKeyFile(path, PASS, core, undefined, FAST));
    expect(error).toBeInstanceOf(StorageError);
    expect(error.code).toBe('ERR_KEYFILE_EXISTS');
    expect(await readFile(path, 'utf8')).toBe(before);

    const again = { ...FAST, overwrite: true };
    const second = await createKeyFile(path, 'new pass', core, undefined, again);
    expect(second.did).not.toBe(first.did);
    expect((await openKeyFile(path, 'new pass', core)).did).toBe(second.did);
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('never writes the seed in any common encoding', async () => {
    const path = fresh();
    const seed = Buffer.from(RFC_SEED);
    await createKeyFile(path, PASS, core, seed, FAST);
    expect(seed).toEqual(RFC_SEED); // the caller's buffer is left alone
    const bytes = await readFile(path);
    const text = bytes.toString('utf8');
    expect(bytes.includes(seed)).toBe(false);
    for (const encoding of ['hex', 'base64', 'base64url'] as const) {
      const encoded = seed.toString(encoding).replace(/=+$/, '');
      expect(text.toLowerCase()).not.toContain(encoded.toLowerCase().slice(0, 16));
    }
    expect(text).not.toContain([...seed.subarray(0, 8)].join(','));
  });

  it('keeps the seed out of sight and zeroes it on dispose', async () => {
    const path = fresh();
    await createKeyFile(path, PASS, core, RFC_SEED, FAST);
    const key = await openKeyFile(path, PASS, core);
    const shown = `${inspect(key, { showHidden: true, depth: 5 })} ${JSON.stringify(key)}`;
    expect(shown).not.toContain(RFC_SEED.toString('hex').slice(0, 16));
    expect(shown).not.toContain(`${RFC_SEED[0]}, ${RFC_SEED[1]}, ${RFC_SEED[2]}`);
    const exposed = Object.values(key).filter((v) => v instanceof Uint8Array);
    expect(exposed.some((v) => Buffer.from(v).equals(RFC_SEED))).toBe(false);

    key.publicKey.fill(0); // a copy: the handle's own key is untouched
    expect(Buffer.from(key.publicKey).toString('hex')).toBe(RFC_PUBLIC);

    key.dispose();
    const error = (() => {
      try {
        key.sign(MESSAGE);
      } catch (e) {
        return e as KeyFileError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(KeyFileError);
    expect(error?.code).toBe('ERR_KEY_DISPOSED');
    key.dispose(); // idempotent
  });

  it('refuses an empty passphrase and a seed of the wrong length', async () => {
    expect((await refusal(createKeyFile(fresh(), '', core, undefined, FAST))).code).toBe(
      'ERR_PASSPHRASE_EMPTY',
    );
    const short = await refusal(createKeyFile(fresh(), PASS, core, new Uint8Array(31), FAST));
    expect(short).toBeInstanceOf(ConfigError);
    expect(short.code).toBe('ERR_KEY_SEED');
    const weak = await refusal(createKeyFile(fresh(), PASS, core, undefined, { scryptN: 2 ** 14 }));
    expect(weak.code).toBe('ERR_KEYFILE_KDF');
  });
});

describe('passphrase sources', () => {
  it('passphraseFromEnv reads COMMONS_SYNC_PASSPHRASE; unset or empty is undefined', () => {
    expect(passphraseFromEnv({ COMMONS_SYNC_PASSPHRASE: 'x y' })).toBe('x y');
    expect(passphraseFromEnv({ COMMONS_SYNC_PASSPHRASE: '' })).toBeUndefined();
    expect(passphraseFromEnv({})).toBeUndefined();
  });

  it('promptPassphrase without a terminal says to set COMMONS_SYNC_PASSPHRASE', async () => {
    const input = Object.assign(new PassThrough(), { isTTY: false });
    const output = new PassThrough();
    const error = await refusal(promptPassphrase('Passphrase: ', { input, output }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.code).toBe('ERR_PASSPHRASE_UNAVAILABLE');
    expect(error.message).toContain('COMMONS_SYNC_PASSPHRASE');
  });

  interface FakeTerminal {
    input: PassThrough & { isTTY: true; setRawMode: (raw: boolean) => void };
    output: PassThrough;
    /** Every setRawMode call, in order. */
    raw: boolean[];
    /** Everything written to the output. */
    shown: () => string;
  }

  function fakeTerminal(): FakeTerminal {
    const raw: boolean[] = [];
    const input = Object.assign(new PassThrough(), {
      isTTY: true as const,
      setRawMode: (mode: boolean) => void raw.push(mode),
    });
    const output = new PassThrough();
    const chunks: Buffer[] = [];
    output.on('data', (c: Buffer) => chunks.push(c));
    return { input, raw, output, shown: () => Buffer.concat(chunks).toString() };
  }

  it('promptPassphrase reads a line in raw mode, without echo, handling backspace', async () => {
    const term = fakeTerminal();
    const answer = promptPassphrase('Key passphrase: ', term);
    term.input.write('s3cr\u007fet ');
    term.input.write('é\r');
    expect(await answer).toBe('s3cet é');
    await new Promise((resolve) => setImmediate(resolve));
    expect(term.shown()).toBe('Key passphrase: \n');
    expect(term.raw).toEqual([true, false]);
  });

  it('promptPassphrase rejects on Ctrl-C and restores the terminal', async () => {
    const term = fakeTerminal();
    const answer = promptPassphrase('Passphrase: ', term);
    term.input.write('abc\u0003');
    const error = await refusal(answer);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.code).toBe('ERR_PASSPHRASE_ABORTED');
    expect(term.raw).toEqual([true, false]);
  });
});
