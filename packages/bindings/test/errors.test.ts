// Bad input gets a typed error or `false`, never a crash, on every backend.
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

import {
  BACKENDS,
  BackendUnavailableError,
  BatchLayoutError,
  InvalidBackendError,
  InvalidSeedError,
  loadCore,
  packMessages,
  UnknownAlgorithmError,
} from '../src/index.js';

const seed = new Uint8Array(32).fill(1);
const msg = new TextEncoder().encode('commons');

describe.each(BACKENDS)('%s backend', (backend) => {
  it('returns false for every wrong length or type, never throws', async () => {
    const core = await loadCore({ backend });
    const pk = core.ed25519PublicKey(seed);
    const sig = core.ed25519Sign(seed, msg);
    const odd: unknown[] = [undefined, null, 'ab', 7, {}, [1, 2], new Uint16Array(16)];
    for (const len of [0, 31, 33, 64])
      expect(core.ed25519Verify(new Uint8Array(len), msg, sig)).toBe(false);
    for (const len of [0, 63, 65, 128])
      expect(core.ed25519Verify(pk, msg, new Uint8Array(len))).toBe(false);
    for (const x of odd) {
      expect(core.ed25519Verify(x as Uint8Array, msg, sig)).toBe(false);
      expect(core.ed25519Verify(pk, x as Uint8Array, sig)).toBe(false);
      expect(core.ed25519Verify(pk, msg, x as Uint8Array)).toBe(false);
    }
    const items = [
      { publicKey: pk, message: msg, signature: sig },
      { publicKey: pk.subarray(1), message: msg, signature: sig },
      { publicKey: pk, message: msg, signature: sig.subarray(0, 63) },
      null,
      { publicKey: pk, message: 'text', signature: sig },
      { publicKey: pk, message: msg, signature: sig },
    ];
    expect(core.ed25519VerifyBatch(items as never)).toEqual([
      true,
      false,
      false,
      false,
      false,
      true,
    ]);
    expect(core.ed25519VerifyBatch([])).toEqual([]);
  });

  it('throws InvalidSeedError for seeds that are not 32 bytes', async () => {
    const core = await loadCore({ backend });
    for (const bad of [new Uint8Array(31), new Uint8Array(33), 'seed', undefined]) {
      expect(() => core.ed25519Sign(bad as Uint8Array, msg)).toThrow(InvalidSeedError);
      expect(() => core.ed25519PublicKey(bad as Uint8Array)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_SEED_LENGTH' }),
      );
    }
  });

  it('throws BatchLayoutError for packed buffers that do not fit', async () => {
    const core = await loadCore({ backend });
    const messages = packMessages([msg, msg]);
    const good = { publicKeys: new Uint8Array(64), signatures: new Uint8Array(128), messages };
    expect(core.ed25519VerifyBatchPacked(good)).toHaveLength(2);
    const broken = [
      { ...good, publicKeys: new Uint8Array(63) },
      { ...good, signatures: new Uint8Array(64) },
      { ...good, messages: { data: messages.data, offsets: Uint32Array.of(1, 2, 3) } },
      { ...good, messages: { data: messages.data, offsets: Uint32Array.of(0, 9, 3) } },
      { ...good, messages: { data: messages.data, offsets: Uint32Array.of(0, 7, 99) } },
      { ...good, messages: { data: messages.data, offsets: [0, 7, 14] } },
      { ...good, messages: { data: messages.data, offsets: new Uint32Array(0) } },
      null,
    ];
    for (const b of broken) {
      expect(() => core.ed25519VerifyBatchPacked(b as never)).toThrow(BatchLayoutError);
    }
    expect(() => core.hashBatch('sha256', { data: msg, offsets: Uint32Array.of(0, 99) })).toThrow(
      expect.objectContaining({ code: 'ERR_BATCH_LAYOUT' }),
    );
    expect(() => core.hashBatch('md5' as never, messages)).toThrow(UnknownAlgorithmError);
    expect(core.hashBatch('sha512', packMessages([]))).toHaveLength(0);
    const zero = new Uint8Array(32);
    for (const [head, leaves] of [
      [new Uint8Array(31), zero],
      [new Uint8Array(33), zero],
      [zero, new Uint8Array(33)],
      [zero, new Uint8Array(1)],
      ['head', zero],
      [zero, [1, 2]],
      [undefined, undefined],
    ]) {
      expect(() => core.sha256Chain(head as Uint8Array, leaves as Uint8Array)).toThrow(
        BatchLayoutError,
      );
    }
    expect(core.sha256Chain(zero, new Uint8Array(0))).toHaveLength(0);
    expect(core.sha256Chain(zero, new Uint8Array(96))).toHaveLength(96);
  });
});

describe('loadCore', () => {
  const saved = process.env['COMMONS_SYNC_BACKEND'];
  afterEach(() => {
    if (saved === undefined) delete process.env['COMMONS_SYNC_BACKEND'];
    else process.env['COMMONS_SYNC_BACKEND'] = saved;
  });

  it('prefers native, and COMMONS_SYNC_BACKEND forces another', async () => {
    delete process.env['COMMONS_SYNC_BACKEND'];
    expect((await loadCore()).backend).toBe('native');
    for (const b of BACKENDS) {
      process.env['COMMONS_SYNC_BACKEND'] = b;
      expect((await loadCore()).backend).toBe(b);
    }
    process.env['COMMONS_SYNC_BACKEND'] = 'wasm';
    expect((await loadCore({ backend: 'js' })).backend).toBe('js');
  });

  it('rejects unknown backend names with a typed error', async () => {
    await expect(loadCore({ backend: 'gpu' as never })).rejects.toThrow(InvalidBackendError);
    process.env['COMMONS_SYNC_BACKEND'] = 'NATIVE';
    await expect(loadCore()).rejects.toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_BACKEND' }),
    );
  });

  it('names what is missing when a backend cannot load, and falls back', async () => {
    // A copy of the built package without its native and wasm folders.
    const pkg = fileURLToPath(new URL('..', import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), 'bindings-'));
    try {
      cpSync(join(pkg, 'dist'), join(dir, 'dist'), { recursive: true });
      cpSync(join(pkg, 'src'), join(dir, 'src'), { recursive: true });
      cpSync(join(pkg, 'package.json'), join(dir, 'package.json'));
      symlinkSync(join(pkg, '../../node_modules'), join(dir, 'node_modules'));
      const copy = (await import(join(dir, 'dist/index.js'))) as typeof import('../src/index.js');
      await expect(copy.loadCore({ backend: 'native' })).rejects.toThrow(
        /commons-sync\.linux-x64-gnu\.node/,
      );
      await expect(copy.loadCore({ backend: 'wasm' })).rejects.toThrow(
        /commons_sync_wasm_bg\.wasm/,
      );
      await expect(copy.loadCore({ backend: 'native' })).rejects.toBeInstanceOf(
        copy.BackendUnavailableError,
      );
      delete process.env['COMMONS_SYNC_BACKEND'];
      expect((await copy.loadCore()).backend).toBe('js');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(BackendUnavailableError.name).toBe('BackendUnavailableError');
  });
});

describe.each(BACKENDS)('%s backend outputs', (backend) => {
  it('are plain Uint8Arrays that own their bytes (slice copies, as callers expect)', async () => {
    const core = await loadCore({ backend });
    const sig = core.ed25519Sign(seed, msg);
    const outputs = [
      core.ed25519PublicKey(seed),
      sig,
      core.sha256(msg),
      core.sha512(msg),
      core.blake3(msg),
      core.hashBatch('sha256', packMessages([msg, msg])),
      core.sha256Chain(new Uint8Array(32), new Uint8Array(64)),
      core.ed25519VerifyBatchPacked({
        publicKeys: core.ed25519PublicKey(seed),
        signatures: sig,
        messages: packMessages([msg]),
      }),
    ];
    for (const out of outputs) {
      expect(Object.getPrototypeOf(out)).toBe(Uint8Array.prototype);
      const copy = out.slice();
      copy[0] = (copy[0] as number) ^ 0xff;
      expect(copy[0]).not.toBe(out[0]);
    }
    expect(core.ed25519Verify(core.ed25519PublicKey(seed), msg, sig)).toBe(true);
  });
});
