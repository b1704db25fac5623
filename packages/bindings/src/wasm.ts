import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import { BackendUnavailableError } from './errors.js';
import { type BindingModule, type RawBackend, rawFromBinding } from './types.js';

/** Loads the WebAssembly module, or throws {@link BackendUnavailableError} naming what is missing. */
export function loadWasmBackend(): RawBackend {
  const path = fileURLToPath(new URL('../wasm/commons_sync_wasm.js', import.meta.url));
  if (!existsSync(path)) {
    throw new BackendUnavailableError(
      `wasm backend: ${path} is missing (build it with \`npm run build\` from the repository ` +
        'root, which runs wasm-pack)',
    );
  }
  if (!('WebAssembly' in globalThis)) {
    throw new BackendUnavailableError('wasm backend: this runtime has no WebAssembly');
  }
  let m: BindingModule;
  try {
    m = createRequire(import.meta.url)(path) as BindingModule;
  } catch (cause) {
    throw new BackendUnavailableError(`wasm backend: ${path} failed to load: ${String(cause)}`, {
      cause,
    });
  }
  return rawFromBinding(m);
}
