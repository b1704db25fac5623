/**
 * Identity-bound TLS certificates (spec/SYNC.md §3), as libp2p's TLS handshake does it: each
 * node makes an ephemeral TLS key and a self-signed X.509 certificate for it; a critical
 * extension carries the node's Ed25519 identity key and that key's signature over a
 * domain-separated digest of the certificate's public key. The identity key only ever signs a
 * 60-byte message, so it can live in an HSM or a KMS (it signs through the keystore).
 *
 *     extension OID   1.2.840.113556.1.8000.2554.9756.63904.26553.17001.37002.719211.6145694,
 *                     critical (an OID made from the UUID 261cf9a0-67b9-4269-908a-0af96b5dc69e
 *                     under the arc kept for GUID-derived OIDs, so no registration is needed;
 *                     the X.667 form 2.25.<uuid> has a 128-bit arc that common ASN.1 code
 *                     cannot encode)
 *     extension value DER  SEQUENCE { version INTEGER (1), identityKey OCTET STRING (32),
 *                                     signature OCTET STRING (64) }
 *     signed message  "commons-sync/tls-binding/v1" || 0x00 || SHA-256(SubjectPublicKeyInfo DER)
 *
 * Verification is synchronous and never throws anything but {@link NetError} ERR_CERT_BINDING.
 */
import 'reflect-metadata';

import { createHash, X509Certificate as NodeX509, randomBytes, webcrypto } from 'node:crypto';

import * as x509 from '@peculiar/x509';

import { concatBytes, equalBytes } from '../../protocol/bytes.js';
import { didKeyFromPublicKey, parseDidKey } from '../../protocol/did.js';
import { NetCode, NetError } from '../errors.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export const BINDING_OID = '1.2.840.113556.1.8000.2554.9756.63904.26553.17001.37002.719211.6145694';
export const BINDING_DOMAIN = 'commons-sync/tls-binding/v1';
const DOMAIN_BYTES = new TextEncoder().encode(`${BINDING_DOMAIN}\0`);
const BINDING_VERSION = 1;

/** Extensions a peer certificate may mark critical: ours, basic constraints, key usage. */
const UNDERSTOOD_CRITICAL: ReadonlySet<string> = new Set([BINDING_OID, '2.5.29.19', '2.5.29.15']);

/** What signs the binding: the node identity, through its keystore. */
export interface BindingSigner {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export type Ed25519Verify = (
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
) => boolean;

export interface NodeCertificate {
  /** PEM, for node:tls `cert`. */
  readonly cert: string;
  /** PEM (PKCS#8), for node:tls `key`. The ephemeral TLS key; never the identity key. */
  readonly key: string;
  readonly der: Uint8Array;
  readonly notAfterMs: number;
}

export interface VerifiedPeer {
  /** The identity the certificate proves: a did:key. */
  readonly did: string;
  readonly identityKey: Uint8Array;
}

const sha256 = (data: Uint8Array): Uint8Array =>
  new Uint8Array(createHash('sha256').update(data).digest());

/** The message the identity key signs for a certificate public key (its SPKI DER). */
export function bindingMessage(spkiDer: Uint8Array): Uint8Array {
  return concatBytes(DOMAIN_BYTES, sha256(spkiDer));
}

/** DER of the extension value. */
export function encodeBindingExtension(identityKey: Uint8Array, signature: Uint8Array): Uint8Array {
  if (identityKey.length !== 32 || signature.length !== 64)
    throw new RangeError('a 32-byte key and a 64-byte signature');
  return concatBytes(
    Uint8Array.of(0x30, 0x67, 0x02, 0x01, BINDING_VERSION, 0x04, 0x20),
    identityKey,
    Uint8Array.of(0x04, 0x40),
    signature,
  );
}

function refuse(detail: string): never {
  throw new NetError(NetCode.CERT_BINDING, detail);
}

/** Parses the extension value; exactly the DER above (DER has one encoding for it). */
export function decodeBindingExtension(der: Uint8Array): {
  identityKey: Uint8Array;
  signature: Uint8Array;
} {
  const head = Uint8Array.of(0x30, 0x67, 0x02, 0x01, BINDING_VERSION, 0x04, 0x20);
  if (
    der.length !== 105 ||
    !equalBytes(der.subarray(0, 7), head) ||
    der[39] !== 0x04 ||
    der[40] !== 0x40
  ) {
    refuse('the identity extension is not SEQUENCE { 1, OCTET STRING (32), OCTET STRING (64) }');
  }
  return { identityKey: der.slice(7, 39), signature: der.slice(41, 105) };
}

export interface CertificateOptions {
  /** Unix ms; the certificate is valid from an hour before (clock skew) until `now + validityMs`. */
  readonly nowMs?: number;
  readonly validityMs?: number;
}

/** Makes an ephemeral ECDSA P-256 TLS key and a certificate bound to the identity of `signer`. */
export async function createNodeCertificate(
  signer: BindingSigner,
  opts: CertificateOptions = {},
): Promise<NodeCertificate> {
  const now = opts.nowMs ?? Date.now();
  const validity = opts.validityMs ?? 24 * 60 * 60 * 1000;
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const spki = new Uint8Array(await webcrypto.subtle.exportKey('spki', keys.publicKey));
  const signature = await signer.sign(bindingMessage(spki));
  const serial = randomBytes(16);
  serial[0] = (serial[0] as number) & 0x7f; // a positive INTEGER
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(serial).toString('hex'),
    name: 'CN=commons-sync',
    notBefore: new Date(now - 60 * 60 * 1000),
    notAfter: new Date(now + validity),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    keys,
    extensions: [
      new x509.Extension(BINDING_OID, true, encodeBindingExtension(signer.publicKey, signature)),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString(
    'base64',
  );
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`;
  return {
    cert: cert.toString('pem'),
    key,
    der: new Uint8Array(cert.rawData),
    notAfterMs: now + validity,
  };
}

/**
 * Checks a peer's certificate (DER): it parses, is within its validity period, is signed by its
 * own key, carries exactly one identity extension and no other critical extension we do not
 * understand, and the identity key's signature over its public key verifies (ZIP-215, the rule
 * of every other signature). Returns the identity; whether it is admitted is the caller's call.
 */
export function verifyPeerCertificate(
  der: Uint8Array,
  nowMs: number,
  verify: Ed25519Verify,
): VerifiedPeer {
  let cert: x509.X509Certificate;
  let native: NodeX509;
  try {
    cert = new x509.X509Certificate(der);
    native = new NodeX509(der);
  } catch {
    return refuse('the certificate does not parse');
  }
  if (nowMs < cert.notBefore.getTime() || nowMs > cert.notAfter.getTime()) {
    refuse(
      `the certificate is valid from ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()}`,
    );
  }
  let selfSigned = false;
  try {
    selfSigned = native.verify(native.publicKey);
  } catch {
    selfSigned = false;
  }
  if (!selfSigned) refuse('the certificate is not signed by its own key');
  const bindings = cert.extensions.filter((e) => e.type === BINDING_OID);
  if (bindings.length !== 1)
    refuse(`${bindings.length} identity extensions (exactly one is required)`);
  for (const e of cert.extensions) {
    if (e.critical && !UNDERSTOOD_CRITICAL.has(e.type))
      refuse(`a critical extension ${e.type} this node does not understand`);
  }
  const binding = bindings[0] as x509.Extension;
  if (!binding.critical) refuse('the identity extension must be critical');
  const { identityKey, signature } = decodeBindingExtension(new Uint8Array(binding.value));
  const did = didKeyFromPublicKey(identityKey);
  const parsed = parseDidKey(did);
  if (!parsed.ok) refuse(`the identity key is not acceptable: ${parsed.detail}`);
  const spki = new Uint8Array(native.publicKey.export({ type: 'spki', format: 'der' }));
  if (!verify(identityKey, bindingMessage(spki), signature))
    refuse('the identity signature over the TLS key does not verify');
  return { did, identityKey };
}
