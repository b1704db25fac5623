/**
 * One suite, every keystore (js-libp2p interface-compliance-tests style): the vault (key
 * files), PKCS#11 on a real SoftHSM2 token, and the in-memory store that stands in for a KMS.
 * A new backend joins by adding a factory below. Signatures are checked with our core (ZIP-215)
 * and with node:crypto (RFC 8032), so a backend that signs anything else fails here.
 */
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fixedSecrets, type Keystore } from '../src/keys/keystore.js';
import { MemoryKeystore } from '../src/keys/memory.js';
import { Pkcs11Keystore } from '../src/keys/pkcs11.js';
import { VaultKeystore } from '../src/keys/vault.js';
import { didKeyFromPublicKey } from '../src/protocol/did.js';
import { nativeCore as core } from './node-fixtures.js';
import { makeSoftHsm, SOFTHSM_MODULE, USER_PIN } from './softhsm-fixtures.js';

const hsm = makeSoftHsm();
// SoftHSM2 sees the tokens that exist when the module initializes: make them all up front.
for (const token of ['compliance-1', 'compliance-2']) hsm.initToken(token);
const dirs: string[] = [];
let tokens = 0;

interface Backend {
  readonly name: string;
  readonly exportable: boolean;
  readonly importable: boolean;
  /** A fresh, empty keystore. */
  make(): Promise<Keystore>;
}

const BACKENDS: Backend[] = [
  {
    name: 'vault (directory of key files)',
    exportable: true,
    importable: true,
    make: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cs-vault-'));
      dirs.push(dir);
      return VaultKeystore.open(`${dir}/keys/`, {
        core,
        secrets: fixedSecrets({ passphrase: 'compliance' }),
        scryptN: 2 ** 15,
      });
    },
  },
  {
    name: 'pkcs11 (SoftHSM2)',
    exportable: false,
    importable: false,
    make: async () => {
      const token = `compliance-${++tokens}`;
      return Pkcs11Keystore.open({
        module: SOFTHSM_MODULE,
        token,
        secrets: fixedSecrets({ pin: USER_PIN }),
      });
    },
  },
  {
    name: 'memory (KMS stand-in)',
    exportable: false,
    importable: false,
    make: async () => new MemoryKeystore(core),
  },
];

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  hsm.remove();
});

function rfc8032Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), publicKey]);
  return nodeVerify(
    null,
    message,
    createPublicKey({ key: spki, format: 'der', type: 'spki' }),
    signature,
  );
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return String((error as { code?: unknown }).code);
  }
  return 'no error';
}

describe.each(BACKENDS)('keystore compliance: $name', (backend) => {
  let ks: Keystore;
  beforeAll(async () => {
    ks = await backend.make();
  });
  afterAll(async () => {
    await ks.close();
  });

  it('generates keys inside the backend and lists them by label with their DIDs', async () => {
    expect(await ks.list()).toEqual([]);
    const b = await ks.generate('beta');
    const a = await ks.generate('alpha');
    for (const k of [a, b]) {
      expect(k.publicKey).toHaveLength(32);
      expect(k.did).toBe(didKeyFromPublicKey(k.publicKey));
      expect(await ks.publicKey(k)).toEqual(k.publicKey);
    }
    expect(a.did).not.toBe(b.did);
    expect((await ks.list()).map((k) => [k.label, k.did])).toEqual([
      ['alpha', a.did],
      ['beta', b.did],
    ]);
    expect((await ks.get('alpha'))?.did).toBe(a.did);
    expect(await ks.get('gamma')).toBeUndefined();
  });

  it('signs by handle: signatures verify under ZIP-215 (our core) and RFC 8032 (node:crypto)', async () => {
    const key = (await ks.get('alpha'))!;
    const other = (await ks.get('beta'))!;
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (message) => {
        const signature = await ks.sign(key, message);
        expect(signature).toHaveLength(64);
        expect(core.ed25519Verify(key.publicKey, message, signature)).toBe(true);
        expect(rfc8032Verify(key.publicKey, message, signature)).toBe(true);
        expect(core.ed25519Verify(other.publicKey, message, signature)).toBe(false);
      }),
      { numRuns: 25 },
    );
  });

  it('signs concurrent requests correctly', async () => {
    const key = (await ks.get('beta'))!;
    const messages = Array.from({ length: 16 }, (_, i) => new TextEncoder().encode(`message ${i}`));
    const signatures = await Promise.all(messages.map((m) => ks.sign(key, m)));
    expect(signatures.map((s, i) => core.ed25519Verify(key.publicKey, messages[i]!, s))).toEqual(
      messages.map(() => true),
    );
  });

  it('refuses a taken label, a bad label, an unknown handle and an empty message with typed errors', async () => {
    expect(await codeOf(ks.sign((await ks.get('alpha'))!, new Uint8Array(0)))).toBe(
      'ERR_KEY_MESSAGE',
    );
    expect(await codeOf(ks.generate('alpha'))).toBe('ERR_KEY_EXISTS');
    for (const label of ['', 'a/b', '.hidden', 'x'.repeat(65), 'spa ce']) {
      expect(await codeOf(ks.generate(label))).toBe('ERR_KEY_LABEL');
    }
    const real = (await ks.get('alpha'))!;
    const ghost = {
      ...real,
      id: real.id.replace(/^./, (c) => (c === '0' ? '1' : '0')),
      label: 'ghost',
    };
    expect(await codeOf(ks.sign(ghost, new Uint8Array(1)))).toBe('ERR_KEY_NOT_FOUND');
  });

  it(`export: ${backend.exportable ? 'hands out the seed of the key' : 'ERR_KEY_NOT_EXPORTABLE'}`, async () => {
    const key = (await ks.get('alpha'))!;
    expect(ks.capabilities.export).toBe(backend.exportable);
    if (backend.exportable) {
      const seed = await ks.exportSeed(key);
      expect(core.ed25519PublicKey(seed)).toEqual(key.publicKey);
    } else {
      expect(await codeOf(ks.exportSeed(key))).toBe('ERR_KEY_NOT_EXPORTABLE');
    }
  });

  it(`import: ${backend.importable ? 'a seed becomes a key with its DID' : 'ERR_KEY_NOT_IMPORTABLE'}`, async () => {
    const seed = core.sha256(new TextEncoder().encode('compliance import'));
    expect(ks.capabilities.import).toBe(backend.importable);
    if (backend.importable) {
      const key = await ks.importSeed('imported', seed);
      expect(key.publicKey).toEqual(core.ed25519PublicKey(seed));
      const message = new Uint8Array([1, 2, 3]);
      expect(await ks.sign(key, message)).toEqual(core.ed25519Sign(seed, message));
      await ks.destroy(key);
    } else {
      expect(await codeOf(ks.importSeed('imported', seed))).toBe('ERR_KEY_NOT_IMPORTABLE');
    }
  });

  it('destroys a key for good; the others stay', async () => {
    const beta = (await ks.get('beta'))!;
    await ks.destroy(beta);
    expect(await codeOf(ks.sign(beta, new Uint8Array(1)))).toBe('ERR_KEY_NOT_FOUND');
    expect(await codeOf(ks.destroy(beta))).toBe('ERR_KEY_NOT_FOUND');
    expect((await ks.list()).map((k) => k.label)).toEqual(['alpha']);
  });

  it('after close every call is ERR_KEYSTORE_CLOSED', async () => {
    const spare = await backend.make();
    const key = await spare.generate('spare');
    await spare.close();
    expect(await codeOf(spare.list())).toBe('ERR_KEYSTORE_CLOSED');
    expect(await codeOf(spare.sign(key, new Uint8Array(1)))).toBe('ERR_KEYSTORE_CLOSED');
    expect(await codeOf(spare.generate('again'))).toBe('ERR_KEYSTORE_CLOSED');
  });
});
