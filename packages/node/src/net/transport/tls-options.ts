/**
 * TLS settings of peer connections (spec/SYNC.md §3): TLS 1.3 only, both sides present a
 * certificate, ALPN names the protocol. Certificates are self-signed and checked by
 * `verifyPeerCertificate` (not by a CA), so node:tls's own verification is off and ours runs
 * before a single byte from the peer is read.
 *
 * The HTTP API should share these constants for its TLS 1.3 setting rather than copy them.
 */
export const TLS13_ONLY = Object.freeze({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' } as const);

/** ALPN protocol id of sync protocol version 1. */
export const SYNC_ALPN = 'commons-sync/1';

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
