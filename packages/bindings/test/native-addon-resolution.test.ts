// Where the native addon comes from: the napi-rs override, a checkout's own build, or the
// platform package that npm installs as an optional dependency. Each path is exercised on a
// copy of the built package laid out as npm would install it.
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

import { BackendUnavailableError, loadCore } from '../src/index.js';
import { NATIVE_OVERRIDE_ENV } from '../src/native.js';
import { currentPlatform, PLATFORMS, type Platform } from '../src/platforms.js';
import { hex } from './vectors.js';

const PKG = fileURLToPath(new URL('..', import.meta.url));
const ROOT_MODULES = join(PKG, '../../node_modules');
const readJson = (path: string) =>
  JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

// RFC 8032 §7.1 TEST 1
const pk = hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
const sig = hex(
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
);

function here(): Platform {
  const p = currentPlatform();
  if (typeof p === 'string') throw new Error(`no addon is built for ${p}`);
  return p;
}

const dirs: string[] = [];
afterEach(() => {
  delete process.env[NATIVE_OVERRIDE_ENV];
  delete process.env['COMMONS_SYNC_BACKEND'];
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** node_modules with a copy of the built bindings (no native/ folder) and, if asked, a platform package. */
function install(platformVersion: string | null): { index: string } {
  const root = mkdtempSync(join(tmpdir(), 'bindings-install-'));
  dirs.push(root);
  const modules = join(root, 'node_modules');
  const bindings = join(modules, '@commons-sync/bindings');
  mkdirSync(bindings, { recursive: true });
  cpSync(join(PKG, 'dist'), join(bindings, 'dist'), { recursive: true });
  cpSync(join(PKG, 'wasm'), join(bindings, 'wasm'), { recursive: true });
  copyFileSync(join(PKG, 'package.json'), join(bindings, 'package.json'));
  symlinkSync(join(ROOT_MODULES, '@noble'), join(modules, '@noble'));
  if (platformVersion !== null) {
    const { abi } = here();
    const dir = join(modules, `@commons-sync/bindings-${abi}`);
    mkdirSync(dir, { recursive: true });
    const manifest = readJson(join(PKG, 'npm', abi, 'package.json'));
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ ...manifest, version: platformVersion }),
    );
    copyFileSync(
      join(PKG, 'native', `commons-sync.${abi}.node`),
      join(dir, `commons-sync.${abi}.node`),
    );
  }
  return { index: join(bindings, 'dist/index.js') };
}

type Bindings = typeof import('../src/index.js');

describe('the platform table', () => {
  it('lists the same platforms as napi.targets and the npm/ package folders', () => {
    const napi = readJson(join(PKG, 'package.json'))['napi'] as {
      targets: string[];
      binaryName: string;
    };
    expect(napi.targets).toEqual(PLATFORMS.map((p) => p.rustTarget));
    expect(readdirSync(join(PKG, 'npm')).sort()).toEqual(PLATFORMS.map((p) => p.abi).sort());
    const version = readJson(join(PKG, 'package.json'))['version'];
    for (const p of PLATFORMS) {
      const m = readJson(join(PKG, 'npm', p.abi, 'package.json'));
      expect(m['name']).toBe(`@commons-sync/bindings-${p.abi}`);
      expect(m['version']).toBe(version);
      expect(m['main']).toBe(`${napi.binaryName}.${p.abi}.node`);
      expect(m['os']).toEqual([p.platform]);
      expect(m['cpu']).toEqual([p.arch]);
      expect(m['libc']).toEqual(p.libc === undefined ? undefined : [p.libc]);
    }
  });
});

describe('loading the native addon', () => {
  it('uses the platform package when the package has no build of its own', async () => {
    const copy = (await import(install('0.1.0').index)) as Bindings;
    const core = await copy.loadCore({ backend: 'native' });
    expect(core.backend).toBe('native');
    expect(core.ed25519Verify(pk, new Uint8Array(0), sig)).toBe(true);
    expect(core.ed25519Verify(pk, Uint8Array.of(1), sig)).toBe(false);
  });

  it('refuses a platform package of another version, and falls back to wasm', async () => {
    const copy = (await import(install('0.0.9').index)) as Bindings;
    const refused = copy.loadCore({ backend: 'native' });
    await expect(refused).rejects.toBeInstanceOf(copy.BackendUnavailableError);
    await expect(refused).rejects.toThrow(
      /version 0\.0\.9, @commons-sync\/bindings needs exactly 0\.1\.0/,
    );
    expect((await copy.loadCore()).backend).toBe('wasm');
  });

  it('says which optional dependency is missing when there is none', async () => {
    const copy = (await import(install(null).index)) as Bindings;
    await expect(copy.loadCore({ backend: 'native' })).rejects.toThrow(
      new RegExp(`@commons-sync/bindings-${here().abi} \\(an optional dependency`),
    );
  });

  it(`loads exactly the ${NATIVE_OVERRIDE_ENV} file, and never another build instead`, async () => {
    process.env[NATIVE_OVERRIDE_ENV] = join(PKG, 'native', `commons-sync.${here().abi}.node`);
    expect((await loadCore({ backend: 'native' })).ed25519Verify(pk, new Uint8Array(0), sig)).toBe(
      true,
    );
    process.env[NATIVE_OVERRIDE_ENV] = join(tmpdir(), 'no-such-addon.node');
    const missing = loadCore({ backend: 'native' });
    await expect(missing).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(missing).rejects.toThrow(
      /NAPI_RS_NATIVE_LIBRARY_PATH=.*no-such-addon\.node failed to load/,
    );
    expect((await loadCore()).backend).toBe('wasm'); // the default order goes on to the next backend
  });
});
