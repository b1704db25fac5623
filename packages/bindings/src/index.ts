/**
 * @commons-sync/bindings in Node: one API over three backends that give the same verdict on
 * every input: `native` (Rust through N-API), `wasm` (the same Rust as WebAssembly) and `js`
 * (@noble/curves in ZIP-215 mode, the reference). Browsers get `browser.ts` through the
 * package's `browser` export condition.
 *
 * ```ts
 * const core = await loadCore();            // native, else wasm, else js
 * const core = await loadCore({ backend: 'wasm' });
 * ```
 * `COMMONS_SYNC_BACKEND=native|wasm|js` forces a backend when none is passed.
 */
import { jsBackend } from './js.js';
import { loadNativeBackend } from './native.js';
import { type Loaders, selectCore } from './select.js';
import type { Backend, Core } from './types.js';
import { loadWasmBackend } from './wasm.js';

export * from './api.js';

const loaders: Loaders = {
  native: loadNativeBackend,
  wasm: loadWasmBackend,
  js: () => jsBackend,
};

/**
 * Loads a crypto core. With `backend` (or `COMMONS_SYNC_BACKEND`) that backend or a
 * {@link BackendUnavailableError}; without, the first of native, wasm, js that loads.
 */
export async function loadCore(opts: { backend?: Backend } = {}): Promise<Core> {
  return selectCore(loaders, opts.backend ?? process.env['COMMONS_SYNC_BACKEND']);
}
