/**
 * The certificate binding (spec/SYNC.md §3): a certificate made for an identity proves it, also
 * when the identity key is in an HSM (SoftHSM2 through the PKCS#11 keystore); every way of
 * getting it wrong is refused with ERR_CERT_BINDING; the vector in spec/vectors/sync/ holds.
 */
import 'reflect-metadata';

import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import * as x509 from '@peculiar/x509';
import { afterAll, describe, expect, it } from 'vitest';

import { fixedSecrets, signerFor } from '../src/keys/keystore.js';
import { Pkcs11Keystore } from '../src/keys/pkcs11.js';
import { NetError } from '../src/net/errors.js';
import {
  BINDING_OID,
  bindingMessage,
  createNodeCertificate,
  decodeBindingExtension,
  encodeBindingExtension,
  verifyPeerCertificate,
} from '../src/net/transport/binding.js';
import { fromHex, toHex } from '../src/protocol/bytes.js';
import { didKeyFromPublicKey } from '../src/protocol/did.js';
import { core, keySeed } from './net-harness.js';
import { makeSoftHsm, SOFTHSM_MODULE, USER_PIN } from './softhsm-fixtures.js';

const seed = keySeed('binding');
const identity = {
  publicKey: core.ed25519PublicKey(seed),
  sign: async (m: Uint8Array) => core.ed25519Sign(seed, m),
};
const NOW = Date.now();

type Keys = webcrypto.CryptoKeyPair;
const newKeys = async (): Promise<Keys> =>
  (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as Keys;
const spkiOf = async (k: Keys) =>
  new Uint8Array(await webcrypto.subtle.exportKey('spki', k.publicKey));

interface Build {
  keys?: Keys;
  /** Signs the certificate (default: its own key). */
  issuerKeys?: Keys;
  /** The key whose SPKI the identity signs (default: the certificate's). */
  bindTo?: Keys;
  identityKey?: Uint8Array;
  signature?: Uint8Array;
  critical?: boolean;
  extensions?: x509.Extension[] | null;
  notBefore?: number;
  notAfter?: number;
}

async function build(b: Build = {}): Promise<Uint8Array> {
  const keys = b.keys ?? (await newKeys());
  const bindTo = b.bindTo ?? keys;
  const signature = b.signature ?? core.ed25519Sign(seed, bindingMessage(await spkiOf(bindTo)));
  const ext = new x509.Extension(
    BINDING_OID,
    b.critical ?? true,
    encodeBindingExtension(b.identityKey ?? identity.publicKey, signature),
  );
  const extensions = b.extensions === null ? [] : (b.extensions ?? [ext]);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '01',
    subject: 'CN=commons-sync',
    issuer: 'CN=commons-sync',
    notBefore: new Date(b.notBefore ?? NOW - 3_600_000),
    notAfter: new Date(b.notAfter ?? NOW + 3_600_000),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    publicKey: keys.publicKey,
    signingKey: (b.issuerKeys ?? keys).privateKey,
    extensions,
  });
  return new Uint8Array(cert.rawData);
}

function refusal(der: Uint8Array, now = NOW): string {
  try {
    verifyPeerCertificate(der, now, core.ed25519Verify);
  } catch (e) {
    expect(e).toBeInstanceOf(NetError);
    expect((e as NetError).code).toBe('ERR_CERT_BINDING');
    return (e as NetError).message;
  }
  return 'accepted';
}

describe('a bound certificate', () => {
  it('proves its identity', async () => {
    const cert = await createNodeCertificate(identity);
    const peer = verifyPeerCertificate(cert.der, NOW, core.ed25519Verify);
    expect(peer.did).toBe(didKeyFromPublicKey(identity.publicKey));
    expect(toHex(peer.identityKey)).toBe(toHex(identity.publicKey));
    expect(cert.key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('proves an identity whose key never leaves a SoftHSM2 token', async () => {
    const hsm = makeSoftHsm();
    hsm.initToken('tls');
    const ks = await Pkcs11Keystore.open({
      module: SOFTHSM_MODULE,
      token: 'tls',
      secrets: fixedSecrets({ pin: USER_PIN }),
    });
    try {
      const key = await ks.generate('node');
      const cert = await createNodeCertificate(signerFor(ks, key));
      expect(verifyPeerCertificate(cert.der, NOW, core.ed25519Verify).did).toBe(key.did);
    } finally {
      await ks.close();
      hsm.remove();
    }
  });

  it('built by hand the same way also passes (the refusals below differ in one thing each)', async () => {
    expect(refusal(await build())).toBe('accepted');
  });
});

describe('refused certificates', () => {
  it('a binding signed over another TLS key', async () => {
    expect(refusal(await build({ bindTo: await newKeys() }))).toMatch(/does not verify/);
  });

  it('another identity key than the one that signed', async () => {
    expect(
      refusal(await build({ identityKey: core.ed25519PublicKey(keySeed('someone')) })),
    ).toMatch(/does not verify/);
  });

  it('a small-order identity key, whose "signatures" anyone can make', async () => {
    const identityPoint = fromHex(
      '0100000000000000000000000000000000000000000000000000000000000000',
    ) as Uint8Array;
    const forged = new Uint8Array(64);
    forged.set(identityPoint, 0); // R = identity, S = 0: valid under ZIP-215 for any message
    expect(core.ed25519Verify(identityPoint, bindingMessage(new Uint8Array(91)), forged)).toBe(
      true,
    );
    expect(refusal(await build({ identityKey: identityPoint, signature: forged }))).toMatch(
      /not acceptable/,
    );
  });

  it('expired, or not yet valid', async () => {
    expect(refusal(await build({ notBefore: NOW - 7_200_000, notAfter: NOW - 3_600_000 }))).toMatch(
      /valid from/,
    );
    expect(refusal(await build({ notBefore: NOW + 3_600_000, notAfter: NOW + 7_200_000 }))).toMatch(
      /valid from/,
    );
  });

  it('not signed by its own key', async () => {
    expect(refusal(await build({ issuerKeys: await newKeys() }))).toMatch(
      /not signed by its own key/,
    );
  });

  it('no identity extension, two of them, or one not marked critical', async () => {
    expect(refusal(await build({ extensions: null }))).toMatch(/0 identity extensions/);
    const ext = new x509.Extension(
      BINDING_OID,
      true,
      encodeBindingExtension(identity.publicKey, new Uint8Array(64)),
    );
    expect(refusal(await build({ extensions: [ext, ext] }))).toMatch(/2 identity extensions/);
    expect(refusal(await build({ critical: false }))).toMatch(/must be critical/);
  });

  it('a critical extension it does not understand', async () => {
    const keys = await newKeys();
    const signature = core.ed25519Sign(seed, bindingMessage(await spkiOf(keys)));
    const ours = new x509.Extension(
      BINDING_OID,
      true,
      encodeBindingExtension(identity.publicKey, signature),
    );
    const unknown = new x509.Extension('1.2.3.4.5', true, Uint8Array.of(5, 0));
    expect(refusal(await build({ keys, extensions: [ours, unknown] }))).toMatch(
      /does not understand/,
    );
  });

  it('a malformed extension value, and bytes that are no certificate', async () => {
    const bad = new x509.Extension(BINDING_OID, true, Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x02));
    expect(refusal(await build({ extensions: [bad] }))).toMatch(/SEQUENCE/);
    expect(refusal(Uint8Array.of(0x30, 0x82, 0x01))).toMatch(/does not parse/);
    expect(() => decodeBindingExtension(new Uint8Array(105))).toThrow(NetError);
  });
});

describe('the binding vector', () => {
  it('spec/vectors/sync/tls-binding.json: the message, the extension and a certificate', () => {
    const path = fileURLToPath(
      new URL('../../../spec/vectors/sync/tls-binding.json', import.meta.url),
    );
    const v = JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
    const bytes = (k: string) => fromHex(v[k] as string) as Uint8Array;
    expect(toHex(bindingMessage(bytes('spki')))).toBe(v['message']);
    const publicKey = core.ed25519PublicKey(bytes('identity_seed'));
    expect(toHex(publicKey)).toBe(v['identity_key']);
    expect(toHex(core.ed25519Sign(bytes('identity_seed'), bytes('message')))).toBe(v['signature']);
    expect(toHex(encodeBindingExtension(publicKey, bytes('signature')))).toBe(v['extension']);
    expect(
      verifyPeerCertificate(
        bytes('certificate'),
        Date.parse(v['valid_at'] as string),
        core.ed25519Verify,
      ).did,
    ).toBe(v['did']);
  });
});

afterAll(() => {});
