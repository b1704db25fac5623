// examples/browser-batch as a user runs it: the page's files and an npm-style node_modules,
// served by its own serve.mjs, opened in Chromium with no bundler (an import map resolves the
// bare names). The page must reject exactly the item it corrupted and report a speed; beside it,
// Node times the same batch size, so the two can be compared.
import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type Core, loadCore, packSignatureBatch } from '../../src/index.js';
import { type Browser, launchChromium, PKG, ROOT, type Server, serve, tempDir } from './harness.js';

const site = tempDir('example-site-');
let server: Server;
let browser: Browser;

beforeAll(async () => {
  for (const f of ['index.html', 'main.js', 'serve.mjs'])
    cpSync(join(ROOT, 'examples/browser-batch', f), join(site.path, f));
  mkdirSync(join(site.path, 'node_modules/@commons-sync'), { recursive: true });
  symlinkSync(PKG, join(site.path, 'node_modules/@commons-sync/bindings'));
  symlinkSync(join(ROOT, 'node_modules/@noble'), join(site.path, 'node_modules/@noble'));
  server = await serve(site.path);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  site.remove();
});

function status(path: string): Promise<number> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    request({ hostname, port, path, method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

/** Microseconds per signature of a packed batch verify of `n` fresh signatures, for ~300 ms. */
function nodeBatchUs(core: Core, signer: Core, n: number): number {
  const items = Array.from({ length: n }, (_, i) => {
    const seed = signer.sha256(Uint8Array.of(i & 0xff, i >> 8));
    const message = signer.sha512(seed).subarray(0, 100);
    return {
      publicKey: signer.ed25519PublicKey(seed),
      message,
      signature: signer.ed25519Sign(seed, message),
    };
  });
  const { batch } = packSignatureBatch(items);
  core.ed25519VerifyBatchPacked(batch);
  let runs = 0;
  const start = performance.now();
  while (performance.now() - start < 300) {
    core.ed25519VerifyBatchPacked(batch);
    runs++;
  }
  return ((performance.now() - start) * 1000) / (runs * n);
}

describe('examples/browser-batch', () => {
  it('verifies a batch in Chromium, rejects exactly the corrupted item, and shows the speed', async () => {
    const n = 1024;
    await browser.page.goto(`${server.url}?n=${n}`);
    const out = browser.page.locator('#out');
    await browser.page.waitForSelector('#out[data-state="done"], #out[data-state="error"]', {
      timeout: 90_000,
    });
    const text = await out.textContent();
    expect(await out.getAttribute('data-state'), text ?? '').toBe('done');
    expect(await out.getAttribute('data-backend')).toBe('wasm');
    expect(await out.getAttribute('data-valid')).toBe(String(n - 1));
    expect(await out.getAttribute('data-rejected')).toBe('7');
    expect(text).toMatch(/wasm batch verify: +[\d,]+ signatures\/s/);
    const browserUs = Number(await out.getAttribute('data-batch-us'));
    expect(browserUs).toBeGreaterThan(0);

    const [native, wasm] = await Promise.all([
      loadCore({ backend: 'native' }),
      loadCore({ backend: 'wasm' }),
    ]);
    const nodeWasmUs = nodeBatchUs(wasm, native, n);
    const nodeNativeUs = nodeBatchUs(native, native, n);
    console.log(
      `batch verify of ${n}, µs per signature: Chromium wasm ${browserUs.toFixed(1)}, ` +
        `Node wasm ${nodeWasmUs.toFixed(1)}, Node native ${nodeNativeUs.toFixed(1)}`,
    );
    expect(browser.console.filter((l) => l.startsWith('pageerror'))).toEqual([]);
  });

  it('its server stays inside its folder and answers only GET', async () => {
    expect(await status('/index.html')).toBe(200);
    expect(await status('/%2e%2e/%2e%2e/etc/passwd')).toBe(404);
    expect(await status('/..%2f..%2fetc%2fpasswd')).toBe(404);
    expect(await status('/no-such-file.js')).toBe(404);
  });
});
