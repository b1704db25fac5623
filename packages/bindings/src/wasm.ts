import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { rawFromBinding } from './binding.js';
import { BackendUnavailableError } from './errors.js';
import type { RawBackend } from './types.js';

/**
 * Loads the WebAssembly module in Node. There is one wasm build, for the web (wasm-pack
 * `--target web`): browsers fetch it, Node hands the file's bytes to `initSync`. Node therefore
 * runs exactly the module that browsers run. Throws {@link BackendUnavailableError} naming what
 * is missing.
 */
export async function loadWasmBackend(): Promise<RawBackend> {
  if (!('WebAssembly' in globalThis)) {
    throw new BackendUnavailableError('wasm backend: this runtime has no WebAssembly');
  }
  const file = fileURLToPath(new URL('../wasm/commons_sync_wasm_bg.wasm', import.meta.url));
  if (!existsSync(file)) {
    throw new BackendUnavailableError(
      `wasm backend: ${file} is missing (build it with \`npm run build\` from the repository ` +
        'root, which runs wasm-pack)',
    );
  }
  try {
    const glue = await import('../wasm/commons_sync_wasm.js');
    glue.initSync({ module: readFileSync(file) }); // a no-op once this thread has an instance
    return rawFromBinding(glue);
  } catch (cause) {
    throw new BackendUnavailableError(`wasm backend: ${file} failed to load: ${String(cause)}`, {
      cause,
    });
  }
}
