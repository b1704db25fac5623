import * as nodeCrypto from 'node:crypto';

import type { Core, PackedMessages } from '@commons-sync/bindings';

import type { Sha256 } from './merkle.js';

/**
 * The three shapes of SHA-256 the audit log needs, each from the source that measured fastest
 * on Node 20 (2-core x64, 100-byte inputs, median of three runs of 200k calls):
 *
 * | call                                   | ns per input |
 * |----------------------------------------|-------------:|
 * | `core.hashBatch('sha256', …)` (native) |     ~150     |
 * | `crypto.hash('sha256', d, 'buffer')`   |    ~1,300    |
 * | `core.sha256(d)` (native, one call)    |    ~1,800    |
 * | `createHash('sha256').update(d)`       |    ~2,000    |
 *
 * and for the chain (1,000 links of 64 bytes per call, CPU time, median of five runs):
 *
 * | call                                          | ns per link |
 * |-----------------------------------------------|------------:|
 * | `core.sha256Chain(head, leaves)` (native)     |     ~85     |
 * | `core.sha256Chain(head, leaves)` (wasm)       |    ~400     |
 * | loop of `crypto.hash('sha256', prev ‖ leaf)`  |    ~970     |
 * | `core.sha256Chain(head, leaves)` (js, noble)  |   ~1,900    |
 *
 * One boundary crossing costs far more than hashing 100 bytes, so everything that can be
 * hashed together is (`many`: encoded events, event rows, audit leaves; `chain`: a commit's chain
 * links, in one call although each link needs the one before); what must be hashed one at a time
 * (tree nodes, single values) uses node:crypto's one-shot `hash`, falling back to `createHash` on
 * Node versions before 20.12. The pure-JS core chains slower than node:crypto, so with it the
 * chain stays a node:crypto loop.
 */
export interface Hasher {
  readonly one: Sha256;
  /** Digests of the packed messages, 32 bytes each, back to back. */
  many(messages: PackedMessages): Uint8Array;
  /**
   * The chain links of `leaves` (32-byte hashes back to back) after `head`, back to back:
   * `c[0] = SHA-256(head ‖ leaf[0])`, `c[i] = SHA-256(c[i−1] ‖ leaf[i])` (spec/AUDIT.md §3).
   */
  chain(head: Uint8Array, leaves: Uint8Array): Uint8Array;
}

type OneShot = (algorithm: string, data: Uint8Array, encoding: 'buffer') => Uint8Array;

const oneShot = (nodeCrypto as { hash?: OneShot }).hash;

export const sha256One: Sha256 =
  typeof oneShot === 'function'
    ? (data) => oneShot('sha256', data, 'buffer')
    : (data) => nodeCrypto.createHash('sha256').update(data).digest();

/** The chain one link at a time through `one`: the definition, and the pure-JS core's path. */
export function chainOneByOne(one: Sha256, head: Uint8Array, leaves: Uint8Array): Uint8Array {
  const out = new Uint8Array(leaves.length);
  const input = new Uint8Array(64);
  input.set(head, 0);
  for (let at = 0; at < leaves.length; at += 32) {
    input.set(leaves.subarray(at, at + 32), 32);
    const link = one(input);
    out.set(link, at);
    input.set(link, 0);
  }
  return out;
}

export function makeHasher(core: Core): Hasher {
  return {
    one: sha256One,
    many: (messages) =>
      messages.offsets.length <= 1 ? new Uint8Array(0) : core.hashBatch('sha256', messages),
    chain:
      core.backend === 'js'
        ? (head, leaves) => chainOneByOne(sha256One, head, leaves)
        : (head, leaves) => core.sha256Chain(head, leaves),
  };
}
