/**
 * Only the validation pipeline may brand an event as verified, so unverified data cannot reach
 * storage by accident: the type system refuses plain objects (checked by `tsc` over this file)
 * and no other module calls `brandVerified`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import type { VerifiedEvent } from '../src/protocol/index.js';
import type { Store } from '../src/storage/index.js';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('VerifiedEvent', () => {
  it('is branded by the pipeline alone', () => {
    const callers = files(SRC)
      .filter((f) => readFileSync(f, 'utf8').includes('brandVerified('))
      .map((f) => relative(SRC, f))
      .sort();
    // identity-stage.ts brands a held event once a key event made it valid, trust-stage.ts one
    // a governance record made trusted (every rule passed, in the pipeline's commit block);
    // bulk-load.ts the events of a generator that signed them, into a new store only
    expect(callers).toEqual([
      'bulk-load.ts',
      'pipeline/identity-stage.ts',
      'pipeline/pipeline.ts',
      'pipeline/trust-stage.ts',
      'pipeline/verified.ts',
    ]);
  });

  it('cannot be forged from a plain object (a compile-time check)', () => {
    const plain = {
      id: new Uint8Array(32),
      idHex: '00'.repeat(32),
      author: 'did:key:z6Mk',
      kind: 'note',
      nonce: new Uint8Array(16),
      createdAt: 0,
      expiresAt: 1,
      encoded: new Uint8Array(1),
    };
    const commit = (store: Store, events: VerifiedEvent[]) => store.commit(events);
    // @ts-expect-error a plain object is not a VerifiedEvent
    const forged: VerifiedEvent = plain;
    expect(typeof commit).toBe('function');
    expect(forged).toBe(plain);
  });
});
