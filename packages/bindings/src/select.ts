import { makeCore } from './core.js';
import { BackendUnavailableError, InvalidBackendError } from './errors.js';
import type { Backend, Core, RawBackend } from './types.js';

export const BACKENDS: readonly Backend[] = Object.freeze(['native', 'wasm', 'js']);

/** How a runtime loads each backend; a backend it cannot have throws BackendUnavailableError. */
export type Loaders = Record<Backend, () => RawBackend | Promise<RawBackend>>;

function parseBackend(name: unknown): Backend {
  if (typeof name === 'string' && (BACKENDS as readonly string[]).includes(name)) {
    return name as Backend;
  }
  throw new InvalidBackendError(name);
}

/**
 * The rule both entry points share: a forced backend loads or throws; otherwise the first of
 * native, wasm, js that loads, and a {@link BackendUnavailableError} listing every failure when
 * none does. Any other error (a bug, not an absence) propagates.
 */
export async function selectCore(loaders: Loaders, forced: unknown): Promise<Core> {
  if (forced !== undefined && forced !== '') {
    const backend = parseBackend(forced);
    return makeCore(backend, await loaders[backend]());
  }
  const failures: string[] = [];
  for (const backend of BACKENDS) {
    try {
      return makeCore(backend, await loaders[backend]());
    } catch (error) {
      if (!(error instanceof BackendUnavailableError)) throw error;
      failures.push(error.message);
    }
  }
  throw new BackendUnavailableError(`no backend could be loaded: ${failures.join('; ')}`);
}
