import * as nodeCrypto from 'node:crypto';

import type { Core, PackedMessages } from '@commons-sync/bindings';

import type { Sha256 } from './merkle.js';

/**
 * The two shapes of SHA-256 the audit log needs, each from the source that measured fastest
 * on Node 20 (2-core x64, 100-byte inputs, median of three runs of 200k calls):
 *
 * | call                                   | ns per input |
 * |----------------------------------------|-------------:|
 * | `core.hashBatch('sha256', …)` (native) |     ~150     |
 * | `crypto.hash('sha256', d, 'buffer')`   |    ~1,300    |
 * | `core.sha256(d)` (native, one call)    |    ~1,800    |
 * | `createHash('sha256').update(d)`       |    ~2,000    |
 *
 * One boundary crossing costs far more than hashing 100 bytes, so everything that can be
 * hashed together is (`many`: encoded events, event rows, audit leaves); what must be hashed
 * one after the other (the chain, tree nodes) uses node:crypto's one-shot `hash`, falling back
 * to `createHash` on Node versions before 20.12.
 */
export interface Hasher {
  readonly one: Sha256;
  /** Digests of the packed messages, 32 bytes each, back to back. */
  many(messages: PackedMessages): Uint8Array;
}

type OneShot = (algorithm: string, data: Uint8Array, encoding: 'buffer') => Uint8Array;

const oneShot = (nodeCrypto as { hash?: OneShot }).hash;

export const sha256One: Sha256 =
  typeof oneShot === 'function'
    ? (data) => oneShot('sha256', data, 'buffer')
    : (data) => nodeCrypto.createHash('sha256').update(data).digest();

export function makeHasher(core: Core): Hasher {
  return {
    one: sha256One,
    many: (messages) =>
      messages.offsets.length <= 1 ? new Uint8Array(0) : core.hashBatch('sha256', messages),
  };
}
