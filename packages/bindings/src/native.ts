import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import { type BindingModule, rawFromBinding } from './binding.js';
import { BackendUnavailableError } from './errors.js';
import { currentPlatform } from './platforms.js';
import type { RawBackend } from './types.js';

const require = createRequire(import.meta.url);

/**
 * napi-rs's override: load exactly this addon file (a debug or instrumented build, say). When it
 * is set and the file does not load, the native backend is unavailable; it never falls back to
 * another build, so a run that asked for a particular addon cannot silently time a different one.
 */
export const NATIVE_OVERRIDE_ENV = 'NAPI_RS_NATIVE_LIBRARY_PATH';

function ownVersion(): string {
  const url = new URL('../package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

function requireAddon(what: string, id: string): BindingModule {
  try {
    return require(id) as BindingModule;
  } catch (cause) {
    throw new BackendUnavailableError(`native backend: ${what} failed to load: ${String(cause)}`, {
      cause,
    });
  }
}

/**
 * The prebuilt addon from its platform package (`@commons-sync/bindings-<abi>`, an optional
 * dependency that npm installs only on a matching os/cpu/libc), or null when it is not installed.
 * A platform package of another version is refused: its addon may not match this JavaScript.
 */
function fromPlatformPackage(abi: string): BindingModule | null {
  const name = `@commons-sync/bindings-${abi}`;
  let manifest: string;
  try {
    manifest = require.resolve(`${name}/package.json`);
  } catch {
    return null;
  }
  const { version, main } = JSON.parse(readFileSync(manifest, 'utf8')) as {
    version: string;
    main: string;
  };
  const want = ownVersion();
  if (version !== want) {
    throw new BackendUnavailableError(
      `native backend: ${name} is version ${version}, @commons-sync/bindings needs exactly ${want}`,
    );
  }
  return requireAddon(`${name} (${main})`, name);
}

/**
 * Loads the native addon: the {@link NATIVE_OVERRIDE_ENV} file when set; else a checkout's own
 * build (`native/`, written by `npm run build`; absent from the published package); else the
 * platform package. Throws {@link BackendUnavailableError} naming what it looked for.
 */
export function loadNativeBackend(): RawBackend {
  const override = process.env[NATIVE_OVERRIDE_ENV];
  if (override !== undefined && override !== '') {
    return rawFromBinding(requireAddon(`${NATIVE_OVERRIDE_ENV}=${override}`, override));
  }
  const platform = currentPlatform();
  if (typeof platform === 'string') {
    throw new BackendUnavailableError(`native backend: no prebuilt addon for ${platform}`);
  }
  const local = fileURLToPath(
    new URL(`../native/commons-sync.${platform.abi}.node`, import.meta.url),
  );
  if (existsSync(local)) return rawFromBinding(requireAddon(local, local));
  const installed = fromPlatformPackage(platform.abi);
  if (installed !== null) return rawFromBinding(installed);
  throw new BackendUnavailableError(
    `native backend: neither @commons-sync/bindings-${platform.abi} (an optional dependency; ` +
      `was it installed with --omit=optional?) nor a local build at ${local} ` +
      '(`npm run build` in a checkout builds it with @napi-rs/cli)',
  );
}
