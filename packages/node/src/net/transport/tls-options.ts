/**
 * The node's TLS settings, in one place for both of its servers: the HTTP API (`api/server.ts`)
 * and the peer transport (spec/SYNC.md §3).
 *
 * - Peers: TLS 1.3 only, both sides present a certificate, ALPN names the protocol.
 *   Certificates are self-signed and checked by `verifyPeerCertificate` (not by a CA), so
 *   node:tls's own verification is off and ours runs before a single byte from the peer is read.
 * - The API: TLS 1.3 only by default. TLS 1.2 only when the operator asks for it
 *   (`allowTls12`), and then only with forward-secret key exchange (ECDHE) and AEAD ciphers
 *   (AES-GCM, ChaCha20-Poly1305): no static RSA key exchange, no CBC, no SHA-1 MACs.
 */
import type { SecureContextOptions, TlsOptions } from 'node:tls';

/** TLS 1.3 suites (all AEAD, all forward secret), in the server's order of preference. */
export const TLS13_SUITES: readonly string[] = Object.freeze([
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
]);

/** The TLS 1.2 suites the API offers when TLS 1.2 is enabled: ECDHE key exchange, AEAD only. */
export const TLS12_SUITES: readonly string[] = Object.freeze([
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
]);

/** The protocol and cipher options, given whether TLS 1.2 is enabled. */
export function tlsProtocolOptions(
  allowTls12: boolean,
): Pick<TlsOptions, 'minVersion' | 'maxVersion' | 'honorCipherOrder'> &
  Pick<SecureContextOptions, 'ciphers'> {
  return {
    minVersion: allowTls12 ? 'TLSv1.2' : 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    // Node splits this list: TLS_* names configure TLS 1.3, the others TLS 1.2.
    ciphers: [...TLS13_SUITES, ...(allowTls12 ? TLS12_SUITES : [])].join(':'),
    honorCipherOrder: true,
  };
}

/** What peer connections use: TLS 1.3 only, the same suites as the API. */
export const TLS13_ONLY = Object.freeze(tlsProtocolOptions(false));

/** ALPN protocol id of sync protocol version 1. */
export const SYNC_ALPN = 'commons-sync/1';

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
