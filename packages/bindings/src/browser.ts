/**
 * @commons-sync/bindings in browsers (and any runtime without Node built-ins): the same `Core`
 * over the WebAssembly build, with the pure-JS backend as the fallback. Randomness for batch
 * verification comes from `crypto.getRandomValues`. Bundlers pick this file through the package's
 * `browser` export condition.
 *
 * ```ts
 * const core = await loadCore();                        // wasm next to this file, else js
 * const core = await loadCore({ wasm: wasmUrl });       // where a bundler put the .wasm asset
 * ```
 */

import * as glue from '../wasm/commons_sync_wasm.js';
import initWasm, { type InitInput } from '../wasm/commons_sync_wasm.js';
import { rawFromBinding } from './binding.js';
import { BackendUnavailableError } from './errors.js';
import { jsBackend } from './js.js';
import { selectCore } from './select.js';
import type { Backend, Core, RawBackend } from './types.js';

export * from './api.js';

/** Where the WebAssembly module comes from: a URL, a fetch `Response`, bytes or a compiled module. */
export type WasmSource = InitInput;

export interface BrowserLoadOptions {
  /** `wasm` or `js`; `native` is never available here. Without it: wasm, else js. */
  backend?: Backend;
  /**
   * The module, when it is not beside this file: with a bundler, the URL its asset handling gives
   * `@commons-sync/bindings/commons-sync.wasm`. Default: `../wasm/commons_sync_wasm_bg.wasm`
   * relative to this module.
   */
  wasm?: WasmSource;
}

async function loadWasm(source: WasmSource | undefined): Promise<RawBackend> {
  if (!('WebAssembly' in globalThis)) {
    throw new BackendUnavailableError('wasm backend: this runtime has no WebAssembly');
  }
  try {
    await initWasm(source === undefined ? undefined : { module_or_path: source });
  } catch (cause) {
    throw new BackendUnavailableError(`wasm backend: the module did not load: ${String(cause)}`, {
      cause,
    });
  }
  return rawFromBinding(glue);
}

/**
 * Loads a crypto core. With `backend` that backend or a {@link BackendUnavailableError}; without,
 * wasm, else js.
 */
export async function loadCore(opts: BrowserLoadOptions = {}): Promise<Core> {
  return selectCore(
    {
      native: () => {
        throw new BackendUnavailableError('native backend: not available in a browser');
      },
      wasm: () => loadWasm(opts.wasm),
      js: () => jsBackend,
    },
    opts.backend,
  );
}
