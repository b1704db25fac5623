/**
 * @commons-sync/bindings: one API over three backends that give the same verdict on every
 * input: `native` (Rust through N-API), `wasm` (the same Rust as WebAssembly) and `js`
 * (@noble/curves in ZIP-215 mode, the reference).
 *
 * ```ts
 * const core = await loadCore();            // native, else wasm, else js
 * const core = await loadCore({ backend: 'wasm' });
 * ```
 * `COMMONS_SYNC_BACKEND=native|wasm|js` forces a backend when none is passed.
 */
import { makeCore } from './core.js';
import { BackendUnavailableError, InvalidBackendError } from './errors.js';
import { jsBackend } from './js.js';
import { loadNativeBackend } from './native.js';
import type { Backend, Core, RawBackend } from './types.js';
import { loadWasmBackend } from './wasm.js';

export * from './errors.js';
export { packMessages, packSignatureBatch } from './packing.js';
export type {
  Backend,
  Core,
  HashAlgorithm,
  PackedMessages,
  PackedSignatureBatch,
  SignedItem,
} from './types.js';

export const BACKENDS: readonly Backend[] = Object.freeze(['native', 'wasm', 'js']);

const loaders: Record<Backend, () => RawBackend> = {
  native: loadNativeBackend,
  wasm: loadWasmBackend,
  js: () => jsBackend,
};

function parseBackend(name: unknown): Backend {
  if (typeof name === 'string' && (BACKENDS as readonly string[]).includes(name)) {
    return name as Backend;
  }
  throw new InvalidBackendError(name);
}

/**
 * Loads a crypto core. With `backend` (or `COMMONS_SYNC_BACKEND`) that backend or a
 * {@link BackendUnavailableError}; without, the first of native, wasm, js that loads.
 */
export async function loadCore(opts: { backend?: Backend } = {}): Promise<Core> {
  const forced = opts.backend ?? process.env['COMMONS_SYNC_BACKEND'];
  if (forced !== undefined && forced !== '') {
    const backend = parseBackend(forced);
    return makeCore(backend, loaders[backend]());
  }
  const failures: string[] = [];
  for (const backend of BACKENDS) {
    try {
      return makeCore(backend, loaders[backend]());
    } catch (error) {
      if (!(error instanceof BackendUnavailableError)) throw error;
      failures.push(error.message);
    }
  }
  throw new BackendUnavailableError(`no backend could be loaded: ${failures.join('; ')}`);
}
