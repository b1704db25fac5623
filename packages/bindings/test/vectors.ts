// Reads the shared vector files under spec/vectors (the same files the Rust tests read).
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const VECTORS = fileURLToPath(new URL('../../../spec/vectors/', import.meta.url));

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export interface Ed25519Case {
  id: string;
  comment: string;
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
  valid: boolean;
  seed?: Uint8Array;
}

export function ed25519Files(): { file: string; cases: Ed25519Case[] }[] {
  const dir = `${VECTORS}ed25519/`;
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const doc = JSON.parse(readFileSync(dir + file, 'utf8')) as {
        cases: Record<string, unknown>[];
      };
      const cases = doc.cases.map((c) => ({
        id: String(c['id']),
        comment: String(c['comment'] ?? ''),
        publicKey: hex(c['publicKey'] as string),
        message: hex(c['message'] as string),
        signature: hex(c['signature'] as string),
        valid: c['valid'] as boolean,
        ...(typeof c['seed'] === 'string' ? { seed: hex(c['seed']) } : {}),
      }));
      return { file, cases };
    });
}

export function hashCases(algorithm: string): { id: string; input: Uint8Array; digest: string }[] {
  const doc = JSON.parse(readFileSync(`${VECTORS}hash/${algorithm}.json`, 'utf8')) as {
    cases: { id: unknown; input: string; digest: string }[];
  };
  return doc.cases.map((c) => ({ id: String(c.id), input: hex(c.input), digest: c.digest }));
}

export interface ChainCase {
  id: string;
  head: Uint8Array;
  leaves: Uint8Array;
  chain: string;
}

/** hash/sha256-chain.json (Python hashlib) and the audit log's 23-entry chain (audit/tree.json). */
export function chainCases(): ChainCase[] {
  const doc = JSON.parse(readFileSync(`${VECTORS}hash/sha256-chain.json`, 'utf8')) as {
    cases: { id: string; head: string; leaves: string; chain: string }[];
  };
  const tree = JSON.parse(readFileSync(`${VECTORS}audit/tree.json`, 'utf8')) as {
    leaf_hashes: string[];
    chain_hashes: string[];
  };
  return [
    ...doc.cases.map((c) => ({
      id: c.id,
      head: hex(c.head),
      leaves: hex(c.leaves),
      chain: c.chain,
    })),
    {
      id: 'audit/tree.json',
      head: new Uint8Array(32),
      leaves: hex(tree.leaf_hashes.join('')),
      chain: tree.chain_hashes.join(''),
    },
  ];
}
