import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import { BackendUnavailableError } from './errors.js';
import { type BindingModule, type RawBackend, rawFromBinding } from './types.js';

function platformTriple(): string {
  const { platform, arch } = process;
  if (platform !== 'linux') return `${platform}-${arch}`;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } };
  return `${platform}-${arch}-${report?.header?.glibcVersionRuntime ? 'gnu' : 'musl'}`;
}

/** Loads the native addon, or throws {@link BackendUnavailableError} naming what is missing. */
export function loadNativeBackend(): RawBackend {
  const file = `commons-sync.${platformTriple()}.node`;
  const path = fileURLToPath(new URL(`../native/${file}`, import.meta.url));
  if (!existsSync(path)) {
    throw new BackendUnavailableError(
      `native backend: no prebuilt addon ${file} at ${path} ` +
        '(build it with `npm run build` from the repository root, which runs @napi-rs/cli)',
    );
  }
  let m: BindingModule;
  try {
    m = createRequire(import.meta.url)(path) as BindingModule;
  } catch (cause) {
    throw new BackendUnavailableError(`native backend: ${path} failed to load: ${String(cause)}`, {
      cause,
    });
  }
  return rawFromBinding(m);
}
