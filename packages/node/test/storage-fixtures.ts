/**
 * Shared by the storage and audit tests: throwaway data directories and events that look like
 * the pipeline's output. The event body format belongs to the protocol module; here `encoded`
 * is opaque bytes and the id is SHA-256 of them, which is all storage relies on.
 */
import { createHash, randomBytes } from 'node:crypto';
import { fdatasync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { brandVerified } from '../src/pipeline/verified.js';
import type { VerifiedEvent } from '../src/protocol/index.js';
import type { DataSync } from '../src/storage/index.js';

export function tempDir(prefix = 'cs-store-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface FakeEventOptions {
  readonly size?: number;
  readonly author?: string;
  readonly nonce?: Uint8Array;
  readonly createdAt?: number;
  readonly expiresAt?: number;
  readonly kind?: string;
}

/** A verified-looking event of about `size` encoded bytes (default 300). */
export function fakeEvent(opts: FakeEventOptions = {}): VerifiedEvent {
  const encoded = new Uint8Array(randomBytes(opts.size ?? 300));
  const id = new Uint8Array(createHash('sha256').update(encoded).digest());
  const createdAt = opts.createdAt ?? 1_750_000_000;
  return brandVerified(
    {
      id,
      author: opts.author ?? `did:key:z6Mk${randomBytes(22).toString('base64url')}`,
      kind: opts.kind ?? 'note',
      nonce: opts.nonce ?? new Uint8Array(randomBytes(16)),
      createdAt,
      expiresAt: opts.expiresAt ?? createdAt + 3600,
      encoded,
    },
    Buffer.from(id).toString('hex'),
  );
}

export function fakeEvents(n: number, opts: Omit<FakeEventOptions, 'nonce'> = {}): VerifiedEvent[] {
  return Array.from({ length: n }, () => fakeEvent(opts));
}

/** A fixed clock that tests move by hand (Unix ms). */
export function manualClock(start = 1_750_000_000_000): {
  now: () => number;
  advance: (ms: number) => void;
} {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

/** A WAL sync a test holds (the store's `dataSync`). */
export interface HeldSync {
  readonly fd: number;
  readonly done: (error: NodeJS.ErrnoException | null) => void;
}

/**
 * WAL syncs that wait until the test releases them: `held` are the ones waiting, oldest first,
 * `count` how many began in all; `release` runs the oldest for real, or fails it with `error`.
 */
export function heldSyncs(): {
  dataSync: DataSync;
  readonly held: HeldSync[];
  readonly count: number;
  release(error?: NodeJS.ErrnoException): void;
} {
  const held: HeldSync[] = [];
  let count = 0;
  return {
    dataSync: (fd, done) => {
      count++;
      held.push({ fd, done });
    },
    held,
    get count() {
      return count;
    },
    release(error) {
      const next = held.shift();
      if (next === undefined) throw new Error('no sync is running');
      if (error !== undefined) next.done(error);
      else fdatasync(next.fd, next.done);
    },
  };
}
