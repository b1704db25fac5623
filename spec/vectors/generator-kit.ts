/**
 * What the vector generators of spec/vectors/identity and spec/vectors/governance share: the
 * node clock of every vector, named keys derived from fixed seeds, the JSON form of a raw CBOR
 * map, and writing a vector file (or, with --check, comparing it with the committed one).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Core } from '@commons-sync/bindings';

import type { CborMap, CborValue } from '../../packages/node/src/protocol/index.js';
import * as P from '../../packages/node/src/protocol/index.js';

export const hex = P.toHex;

export function fail(message: string): never {
  throw new Error(message);
}

export const NOW = 1_767_225_600; // 2026-01-01T00:00:00Z, the node's clock in every vector
export const SKEW = 300;
export const DAY = 86_400;
export const T0 = NOW - 30 * DAY;

export interface Key {
  readonly name: string;
  readonly seed: Uint8Array;
  readonly did: string;
}

/**
 * Keys by name, each from the seed SHA-256("commons-sync/vectors/seed/<family>/<name>"), and the
 * `keys` header of a vector file listing every key used so far.
 */
export function namedKeys(
  core: Core,
  family: string,
): {
  key(name: string): Key;
  keysUsed(): Record<string, { seed: string; did: string }>;
} {
  const enc = new TextEncoder();
  const keys = new Map<string, Key>();
  return {
    key(name) {
      let k = keys.get(name);
      if (k === undefined) {
        const seed = core.sha256(enc.encode(`commons-sync/vectors/seed/${family}/${name}`));
        k = { name, seed, did: P.didKeyFromPublicKey(core.ed25519PublicKey(seed)) };
        keys.set(name, k);
      }
      return k;
    },
    keysUsed() {
      const out: Record<string, { seed: string; did: string }> = {};
      for (const k of [...keys.values()].sort((a, b) => (a.name < b.name ? -1 : 1)))
        out[k.name] = { seed: hex(k.seed), did: k.did };
      return out;
    },
  };
}

/**
 * The JSON form of a raw map (byte strings as hex), or undefined when a byte string sits where
 * `hexAllowed(path)` says the JSON form has none.
 */
export function jsonFormOf(
  map: CborMap,
  hexAllowed: (path: readonly string[]) => boolean,
): unknown {
  let ok = true;
  const walk = (v: CborValue, path: string[]): unknown => {
    if (v instanceof Uint8Array) {
      if (!hexAllowed(path)) ok = false;
      return hex(v);
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...path, String(i)]));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v)) out[k] = walk((v as CborMap)[k] as CborValue, [...path, k]);
      return out;
    }
    return v;
  };
  const json = walk(map, []);
  return ok ? json : undefined;
}

/** Writes vector files into `dir`; with --check, only compares and fails when one differs. */
export function vectorWriter(dir: string): (file: string, doc: Record<string, unknown>) => void {
  return (file, doc) => {
    const text = `${JSON.stringify(doc, null, 2)}\n`;
    if (process.argv.includes('--check')) {
      if (readFileSync(join(dir, file), 'utf8') !== text)
        fail(`${file} differs from what generate.ts computes`);
      console.log(`${file}: reproduced`);
      return;
    }
    writeFileSync(join(dir, file), text);
    console.log(`wrote ${file}`);
  };
}
