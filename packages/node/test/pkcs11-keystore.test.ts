/**
 * The PKCS#11 backend on a real SoftHSM2 token, beyond the compliance suite: the private key
 * is born sensitive and non-extractable (checked through the raw PKCS#11 API and with OpenSC's
 * pkcs11-tool, an independent client), and a wrong PIN, an unknown token, a missing module and
 * a PIN in the spec are typed errors.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

import { afterAll, describe, expect, it } from 'vitest';

import { fixedSecrets } from '../src/keys/keystore.js';
import { Pkcs11Keystore } from '../src/keys/pkcs11.js';
import { parseKeystoreSpec } from '../src/keys/spec.js';
import { makeSoftHsm, SOFTHSM_MODULE, USER_PIN } from './softhsm-fixtures.js';

const hsm = makeSoftHsm();
hsm.initToken('attrs');
hsm.initToken('pins');
afterAll(() => hsm.remove());

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return String((error as { code?: unknown }).code);
  }
  return 'no error';
}

describe('pkcs11 keystore on SoftHSM2', () => {
  it('generates the private key sensitive, never extractable, and never hands it out', async () => {
    const ks = await Pkcs11Keystore.open({
      module: SOFTHSM_MODULE,
      token: 'attrs',
      secrets: fixedSecrets({ pin: USER_PIN }),
    });
    try {
      const key = await ks.generate('node');
      // The raw PKCS#11 view of the same token, through a session of our own.
      const p = createRequire(import.meta.url)('pkcs11js') as typeof import('pkcs11js');
      const lib = new p.PKCS11();
      lib.load(SOFTHSM_MODULE);
      try {
        lib.C_Initialize();
      } catch (e) {
        expect((e as Error).message).toContain('CKR_CRYPTOKI_ALREADY_INITIALIZED');
      }
      const slot = lib
        .C_GetSlotList(true)
        .find((s) => lib.C_GetTokenInfo(s).label.trim() === 'attrs')!;
      const session = lib.C_OpenSession(slot, p.CKF_SERIAL_SESSION);
      lib.C_FindObjectsInit(session, [
        { type: p.CKA_CLASS, value: p.CKO_PRIVATE_KEY },
        { type: p.CKA_ID, value: Buffer.from(key.id, 'hex') },
      ]);
      const [privateKey] = lib.C_FindObjects(session, 10); // visible: the keystore's login is per process
      lib.C_FindObjectsFinal(session);
      expect(privateKey).toBeDefined();
      const attrs = lib.C_GetAttributeValue(session, privateKey!, [
        { type: p.CKA_SENSITIVE },
        { type: p.CKA_EXTRACTABLE },
        { type: p.CKA_ALWAYS_SENSITIVE },
        { type: p.CKA_NEVER_EXTRACTABLE },
        { type: p.CKA_KEY_TYPE },
      ]);
      expect(attrs.map((a) => (a.value as Buffer)[0])).toEqual([1, 0, 1, 1, 0x40]);
      expect(() => lib.C_GetAttributeValue(session, privateKey!, [{ type: p.CKA_VALUE }])).toThrow(
        /CKR_ATTRIBUTE_SENSITIVE/,
      );
      lib.C_CloseSession(session);

      const tool = (args: string[]): string =>
        execFileSync(
          'pkcs11-tool',
          ['--module', SOFTHSM_MODULE, '--token-label', 'attrs', ...args],
          { encoding: 'utf8', env: process.env },
        );
      const objects = tool(['--login', '--pin', USER_PIN, '--list-objects']);
      expect(objects).toMatch(
        /Private Key Object; EC_EDWARDS|Private Key Object; EC-EDWARDS|Private Key Object/,
      );
      expect(objects).toContain('label:      node');
      expect(objects).toMatch(/Access:\s+sensitive, always sensitive, never extractable/);
      expect(await codeOf(ks.exportSeed(key))).toBe('ERR_KEY_NOT_EXPORTABLE');
    } finally {
      await ks.close();
    }
  });

  it('a wrong PIN is ERR_PKCS11_PIN; the right one then works', async () => {
    const wrong = await Pkcs11Keystore.open({
      module: SOFTHSM_MODULE,
      token: 'pins',
      secrets: fixedSecrets({ pin: '000000' }),
    });
    expect(await wrong.list()).toEqual([]); // listing public objects needs no PIN
    expect(await codeOf(wrong.generate('k'))).toBe('ERR_PKCS11_PIN');
    await wrong.close();
    const right = await Pkcs11Keystore.open({
      module: SOFTHSM_MODULE,
      token: 'pins',
      secrets: fixedSecrets({ pin: USER_PIN }),
    });
    const key = await right.generate('k');
    expect((await right.sign(key, new Uint8Array([1]))).length).toBe(64);
    await right.close();
  });

  it('an unknown token, a missing module and a PIN inside the spec are typed errors', async () => {
    const secrets = fixedSecrets({ pin: USER_PIN });
    expect(
      await codeOf(Pkcs11Keystore.open({ module: SOFTHSM_MODULE, token: 'nope', secrets })),
    ).toBe('ERR_PKCS11_TOKEN');
    expect(
      await codeOf(
        Pkcs11Keystore.open({ module: '/nonexistent/libpkcs11.so', token: 'pins', secrets }),
      ),
    ).toBe('ERR_KEYSTORE_UNAVAILABLE');
    expect(() =>
      parseKeystoreSpec(`pkcs11:module=${SOFTHSM_MODULE};token=pins;pin-value=1234`),
    ).toThrow(/never goes in a keystore spec/);
  });
});

describe('keystore specs', () => {
  it('reads RFC 7512 names and our short names alike, and refuses what it cannot use', () => {
    expect(
      parseKeystoreSpec('pkcs11:token=My%20Token;object=node?module-path=/usr/lib/x.so'),
    ).toEqual({
      kind: 'pkcs11',
      module: '/usr/lib/x.so',
      token: 'My Token',
      key: 'node',
    });
    expect(parseKeystoreSpec('pkcs11:module=/usr/lib/x.so;token=t;key=k')).toEqual({
      kind: 'pkcs11',
      module: '/usr/lib/x.so',
      token: 't',
      key: 'k',
    });
    expect(parseKeystoreSpec('/data/node.key')).toEqual({ kind: 'vault', path: '/data/node.key' });
    expect(parseKeystoreSpec('vault:/keys/;key=current')).toEqual({
      kind: 'vault',
      path: '/keys/',
      key: 'current',
    });
    for (const bad of [
      '',
      'pkcs11:token=t',
      'pkcs11:module=/x.so',
      'pkcs11:module=/x;token=t;key=a/b',
      'kms:arn',
      'pkcs11:module=/x;token=t;token=u',
      'vault:;key=a',
      'pkcs11:module=/x;token=t;colour=red',
    ]) {
      expect(() => parseKeystoreSpec(bad), bad).toThrow(
        expect.objectContaining({ code: 'ERR_KEYSTORE_SPEC' }),
      );
    }
  });
});
