// The browser entry in a real headless Chromium gives exactly Node's verdicts: every conformance
// vector (RFC 8032, Wycheproof, ZIP-215, speccheck, wrong lengths; NIST SHA-2, BLAKE3), random
// and adversarial batches, and identical signatures. The page is the package bundled by esbuild
// for the browser platform, so this is also the bundler check.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  BACKENDS,
  type Core,
  loadCore,
  packMessages,
  packSignatureBatch,
  type SignedItem,
} from '../../src/index.js';
import { anyItem } from '../arbitraries.js';
import { chainCases, ed25519Files, hashCases, toHex } from '../vectors.js';
import type { ConformanceApi, HexItem } from './conformance-page.js';
import {
  type Browser,
  bundleForBrowser,
  launchChromium,
  PKG,
  type Server,
  serve,
  tempDir,
} from './harness.js';

const out = tempDir('browser-bundle-');
let bundle: Awaited<ReturnType<typeof bundleForBrowser>>;
let server: Server;
let browser: Browser;
let node: Core[] = [];

const hexItem = (i: SignedItem): HexItem => ({
  publicKey: toHex(i.publicKey),
  message: toHex(i.message),
  signature: toHex(i.signature),
});

/** Calls a function of the page's `conformance` object with JSON-able arguments. */
function inPage<K extends keyof ConformanceApi>(name: K, ...args: Parameters<ConformanceApi[K]>) {
  return browser.page.evaluate(
    ([n, a]) =>
      (globalThis as unknown as { conformance: Record<string, (...x: unknown[]) => unknown> })
        .conformance[n]!(...a),
    [name, args] as const,
  ) as Promise<Awaited<ReturnType<ConformanceApi[K]>>>;
}

/** Node's answers, in the page's shape, for every Node backend. */
function nodeVerify(items: SignedItem[]) {
  const exact = items.filter((i) => i.publicKey.length === 32 && i.signature.length === 64);
  return node.map((core) => ({
    backend: core.backend,
    single: items.map((i) => core.ed25519Verify(i.publicKey, i.message, i.signature)),
    batch: core.ed25519VerifyBatch(items),
    packed: Array.from(core.ed25519VerifyBatchPacked(packSignatureBatch(exact).batch)),
  }));
}

beforeAll(async () => {
  bundle = await bundleForBrowser(join(PKG, 'test/browser/conformance-page.ts'), out.path);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    join(out.path, 'index.html'),
    '<!doctype html><meta charset="utf-8"><script type="module" src="./conformance-page.js"></script>\n',
  );
  server = await serve(out.path);
  browser = await launchChromium();
  await browser.page.goto(server.url);
  await browser.page.waitForFunction(() => 'conformance' in globalThis, null, { timeout: 30_000 });
  node = await Promise.all(BACKENDS.map((backend) => loadCore({ backend })));
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  out.remove();
});

describe('the bundle', () => {
  it('resolves @commons-sync/bindings to the browser entry and holds no Node built-in', () => {
    const inputs = Object.keys(bundle.metafile.inputs);
    expect(inputs).toContain('dist/browser.js');
    expect(inputs.filter((f) => /dist\/(index|native|wasm)\.js$/.test(f))).toEqual([]);
    const outputs = Object.keys(bundle.metafile.outputs);
    expect(outputs.some((f) => f.endsWith('.wasm'))).toBe(true);
    const js = readFileSync(join(out.path, 'conformance-page.js'), 'utf8');
    expect(js).not.toMatch(/from\s*["']node:|require\(["']node:|process\.env/);
  });

  it('bundling the Node entry for browsers fails: that is what the browser entry is for', async () => {
    const other = tempDir('browser-bundle-node-');
    try {
      await expect(bundleForBrowser(join(PKG, 'dist/index.js'), other.path)).rejects.toThrow(
        /node:fs/,
      );
    } finally {
      other.remove();
    }
  });
});

describe('in Chromium', () => {
  it('loads the wasm and js backends; native is a typed BackendUnavailableError', async () => {
    expect(await inPage('load')).toEqual(['wasm', 'js']);
    expect(await inPage('defaults')).toEqual({
      backend: 'wasm',
      nativeError: 'BackendUnavailableError ERR_BACKEND_UNAVAILABLE',
    });
    expect(await inPage('errors')).toEqual([
      'wasm InvalidSeedError ERR_INVALID_SEED_LENGTH',
      'js InvalidSeedError ERR_INVALID_SEED_LENGTH',
    ]);
    expect(browser.console.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  });

  it.each(ed25519Files().map((f) => [f.file, f.cases] as const))(
    '%s: verdicts equal the vectors and Node',
    async (_file, cases) => {
      const page = await inPage('verify', cases.map(hexItem));
      const want = cases.map((c) => c.valid);
      const exact = cases.filter((c) => c.publicKey.length === 32 && c.signature.length === 64);
      for (const r of page) {
        expect(r.single, r.backend).toEqual(want);
        expect(r.batch, r.backend).toEqual(want);
        expect(r.packed, r.backend).toEqual(exact.map((c) => (c.valid ? 1 : 0)));
      }
      for (const n of nodeVerify(cases))
        expect(page[0], `browser wasm vs node ${n.backend}`).toEqual({ ...n, backend: 'wasm' });
    },
  );

  it.each(['sha256', 'sha512', 'blake3'] as const)(
    '%s vectors: digests equal the vectors and Node',
    async (alg) => {
      const cases = hashCases(alg);
      const page = await inPage(
        'hash',
        alg,
        cases.map((c) => toHex(c.input)),
      );
      const nodeBatch = toHex(node[0]!.hashBatch(alg, packMessages(cases.map((c) => c.input))));
      for (const r of page) {
        expect(r.single, r.backend).toEqual(cases.map((c) => c.digest));
        expect(r.batch, r.backend).toBe(nodeBatch);
      }
    },
  );

  it('SHA-256 chain vectors: the links equal the vectors and Node, bad heads the same error', async () => {
    const cases = chainCases();
    const page = await inPage(
      'chain',
      cases.map((c) => ({ head: toHex(c.head), leaves: toHex(c.leaves) })),
    );
    const nodeLinks = cases.map((c) => toHex(node[0]!.sha256Chain(c.head, c.leaves)));
    expect(nodeLinks).toEqual(cases.map((c) => c.chain));
    for (const r of page) {
      expect(r.links, r.backend).toEqual(nodeLinks);
      expect(r.badHead, r.backend).toBe('BatchLayoutError ERR_BATCH_LAYOUT');
    }
  });

  it('RFC 8032 seeds give the published keys and signatures, as in Node', async () => {
    const seeded = ed25519Files()
      .flatMap((f) => f.cases)
      .filter((c) => c.seed !== undefined);
    const page = await inPage(
      'sign',
      seeded.map((c) => toHex(c.seed!)),
      seeded.map((c) => toHex(c.message)),
    );
    for (const r of page) {
      expect(r.publicKeys, r.backend).toEqual(seeded.map((c) => toHex(c.publicKey)));
      expect(r.signatures, r.backend).toEqual(seeded.map((c) => toHex(c.signature)));
    }
  });

  it('random and adversarial batches: the page and Node give the same verdicts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(anyItem, { minLength: 1, maxLength: 48 }), async (items) => {
        const page = await inPage('verify', items.map(hexItem));
        const want = nodeVerify(items)[0]!; // native
        for (const r of page) expect({ ...r, backend: 'native' }, r.backend).toEqual(want);
      }),
      { numRuns: 40 },
    );
  });

  it('takes batch randomness from crypto.getRandomValues', async () => {
    const seeds = Array.from({ length: 8 }, (_, i) => new Uint8Array(32).fill(i + 1));
    const items = seeds.map((seed, i) => {
      const message = Uint8Array.of(i);
      return {
        publicKey: node[0]!.ed25519PublicKey(seed),
        message,
        signature: node[0]!.ed25519Sign(seed, message),
      };
    });
    const before = await inPage('randomCalls');
    const [wasm] = await inPage('verify', items.map(hexItem));
    expect(wasm?.packed).toEqual(items.map(() => 1));
    expect(await inPage('randomCalls')).toBeGreaterThan(before);
  });
});
