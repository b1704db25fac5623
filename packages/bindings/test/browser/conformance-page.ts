// Runs in Chromium, bundled by esbuild from the package as an application would import it: the
// bare '@commons-sync/bindings' resolves through the `browser` export condition. The test calls
// these functions through page.evaluate; bytes cross as hex.
import * as bindings from '@commons-sync/bindings';
import wasmAsset from '@commons-sync/bindings/commons-sync.wasm';

// tsc resolves the bare name with Node's conditions and sees the Node entry's types; the bundle
// holds the browser entry, whose loadCore also takes the module's location.
const { loadCore, packMessages, packSignatureBatch } =
  bindings as unknown as typeof import('../../src/browser.js');
type Core = bindings.Core;
type HashAlgorithm = bindings.HashAlgorithm;

export interface HexItem {
  publicKey: string;
  message: string;
  signature: string;
}

const fromHex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const item = (h: HexItem) => ({
  publicKey: fromHex(h.publicKey),
  message: fromHex(h.message),
  signature: fromHex(h.signature),
});

// Count the host randomness the wasm core asks for (batch coefficients).
let randomCalls = 0;
const getRandomValues = crypto.getRandomValues.bind(crypto);
crypto.getRandomValues = <T extends ArrayBufferView | null>(array: T): T => {
  randomCalls++;
  return getRandomValues(array as never) as T;
};

let cores: Core[] = [];

const api = {
  async load(): Promise<string[]> {
    const wasm = await loadCore({ wasm: new URL(wasmAsset, import.meta.url) });
    cores = [wasm, await loadCore({ backend: 'js' })];
    return cores.map((c) => c.backend);
  },

  /** What loadCore gives without options, and the typed error for the native backend. */
  async defaults(): Promise<{ backend: string; nativeError: string }> {
    const core = await loadCore({ wasm: new URL(wasmAsset, import.meta.url) });
    const nativeError = await loadCore({ backend: 'native' }).then(
      () => 'loaded',
      (e: { code?: string; name?: string }) => `${e.name} ${e.code}`,
    );
    return { backend: core.backend, nativeError };
  },

  /** Single, batch and packed verdicts of every backend on the same items. */
  verify(items: HexItem[]) {
    const parsed = items.map(item);
    const exact = parsed.filter((i) => i.publicKey.length === 32 && i.signature.length === 64);
    return cores.map((core) => ({
      backend: core.backend,
      single: parsed.map((i) => core.ed25519Verify(i.publicKey, i.message, i.signature)),
      batch: core.ed25519VerifyBatch(parsed),
      packed: Array.from(core.ed25519VerifyBatchPacked(packSignatureBatch(exact).batch)),
    }));
  },

  hash(algorithm: HashAlgorithm, inputs: string[]) {
    const data = inputs.map(fromHex);
    return cores.map((core) => ({
      backend: core.backend,
      single: data.map((d) => toHex(core[algorithm](d))),
      batch: toHex(core.hashBatch(algorithm, packMessages(data))),
    }));
  },

  /** Every backend's SHA-256 chain links, and the error a 31-byte head gets. */
  chain(cases: { head: string; leaves: string }[]) {
    return cores.map((core) => {
      let badHead = 'no error';
      try {
        core.sha256Chain(new Uint8Array(31), new Uint8Array(32));
      } catch (e) {
        badHead = `${(e as Error).name} ${(e as { code?: string }).code}`;
      }
      return {
        backend: core.backend,
        links: cases.map((c) => toHex(core.sha256Chain(fromHex(c.head), fromHex(c.leaves)))),
        badHead,
      };
    });
  },

  sign(seeds: string[], messages: string[]) {
    return cores.map((core) => ({
      backend: core.backend,
      publicKeys: seeds.map((s) => toHex(core.ed25519PublicKey(fromHex(s)))),
      signatures: seeds.map((s, i) =>
        toHex(core.ed25519Sign(fromHex(s), fromHex(messages[i] as string))),
      ),
    }));
  },

  /** The typed errors a browser user meets. */
  errors(): string[] {
    const out: string[] = [];
    for (const core of cores) {
      try {
        core.ed25519Sign(new Uint8Array(31), new Uint8Array(0));
      } catch (e) {
        out.push(`${core.backend} ${(e as Error).name} ${(e as { code?: string }).code}`);
      }
    }
    return out;
  },

  randomCalls: () => randomCalls,

  /** Microseconds per signature of a packed batch verify, repeated for about `ms` milliseconds. */
  timeBatch(items: HexItem[], ms: number) {
    const { batch } = packSignatureBatch(items.map(item));
    return cores.map((core) => {
      core.ed25519VerifyBatchPacked(batch);
      let runs = 0;
      const start = performance.now();
      while (performance.now() - start < ms) {
        core.ed25519VerifyBatchPacked(batch);
        runs++;
      }
      return {
        backend: core.backend,
        usPerSignature: ((performance.now() - start) * 1000) / (runs * items.length),
      };
    });
  },
};

export type ConformanceApi = typeof api;
(globalThis as unknown as { conformance: ConformanceApi }).conformance = api;
