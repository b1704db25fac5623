/**
 * The vault keystore keeps every existing key file working: a version-1 `node.key` written
 * before the keystore contract (a committed fixture) opens as a one-key vault and as a node's
 * identity, and signs as its seed does. A directory vault holds several keys side by side
 * (an identity's current and next keys), each under its own passphrase.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { fixedSecrets, type SecretSource } from '../src/keys/keystore.js';
import { VaultKeystore } from '../src/keys/vault.js';
import { initDataDir, openNode, verifyAudit } from '../src/node.js';
import { nativeCore as core } from './node-fixtures.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/keyfile-v1/node.key', import.meta.url));
const FIXTURE_PASSPHRASE = 'fixture passphrase';
const RFC8032_TEST1_SEED = Uint8Array.from(
  Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex'),
);
const RFC8032_TEST1_DID = 'did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw';

const dir = mkdtempSync(join(tmpdir(), 'cs-vault-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vault keystore', () => {
  it('opens a pre-keystore version-1 key file as a one-key vault that signs as its seed', async () => {
    const vault = await VaultKeystore.open(FIXTURE, {
      core,
      secrets: fixedSecrets({ passphrase: FIXTURE_PASSPHRASE }),
    });
    const [key, ...rest] = await vault.list();
    expect(rest).toEqual([]);
    expect(key).toMatchObject({ label: 'node', did: RFC8032_TEST1_DID });
    const message = new TextEncoder().encode('still the same key');
    expect(await vault.sign(key!, message)).toEqual(core.ed25519Sign(RFC8032_TEST1_SEED, message));
    expect(await vault.exportSeed(key!)).toEqual(RFC8032_TEST1_SEED);
    await vault.close();
    const wrong = await VaultKeystore.open(FIXTURE, {
      core,
      secrets: fixedSecrets({ passphrase: 'not it' }),
    });
    await expect(wrong.sign(key!, message)).rejects.toMatchObject({
      code: 'ERR_KEYFILE_PASSPHRASE',
    });
    await wrong.close();
  });

  it('a data directory with that node.key is a node: same DID, it starts, its checkpoints verify', async () => {
    const data = join(dir, 'old-node');
    mkdirSync(data);
    copyFileSync(FIXTURE, join(data, 'node.key'));
    expect(await initDataDir(data, FIXTURE_PASSPHRASE, core)).toEqual({
      did: RFC8032_TEST1_DID,
      created: false,
    });
    const node = await openNode({
      dataDir: data,
      passphrase: FIXTURE_PASSPHRASE,
      workers: 0,
      core,
    });
    expect(node.did).toBe(RFC8032_TEST1_DID);
    expect((await node.checkpoint()).node).toBe(RFC8032_TEST1_DID);
    await node.close();
    expect(await verifyAudit(data, core)).toMatchObject({ ok: true });
  });

  it('a directory vault keeps several keys, each file under its own passphrase, asked once', async () => {
    const asked: string[] = [];
    const secrets: SecretSource = {
      passphrase: async (what) => {
        asked.push(what);
        return what.endsWith('current.key') ? 'one' : 'two';
      },
      newPassphrase: async (what) => (what.endsWith('current.key') ? 'one' : 'two'),
      pin: () => Promise.reject(new Error('no PIN here')),
    };
    const vault = await VaultKeystore.open(join(dir, 'identity/'), {
      core,
      secrets,
      scryptN: 2 ** 15,
    });
    const current = await vault.generate('current');
    const next = await vault.generate('next');
    expect((await vault.list()).map((k) => k.label)).toEqual(['current', 'next']);
    const message = new Uint8Array([7]);
    const [a, b, c] = await Promise.all([
      vault.sign(current, message),
      vault.sign(current, message),
      vault.sign(next, message),
    ]);
    expect(core.ed25519Verify(current.publicKey, message, a)).toBe(true);
    expect(b).toEqual(a);
    expect(core.ed25519Verify(next.publicKey, message, c)).toBe(true);
    expect(asked.map((p) => p.split('/').pop())).toEqual(['current.key', 'next.key']);
    await vault.close();
  });
});
