// What the browser tests stand on: Debian's Chromium driven by playwright-core (which never
// downloads a browser when given an executable), the example's loopback static server, and
// esbuild bundling for the browser platform.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { type BuildResult, build } from 'esbuild';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const PKG = fileURLToPath(new URL('../../', import.meta.url));
export const ROOT = join(PKG, '../..');
export const SERVE = join(ROOT, 'examples/browser-batch/serve.mjs');
export const CHROMIUM = '/usr/bin/chromium';

/** Flags for a quiet, isolated, headless run as root in a container. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

export interface Browser {
  page: Page;
  /** What the page printed to its console and the errors it threw. */
  console: string[];
  close(): Promise<void>;
}

/** Chromium with a fresh profile (its --user-data-dir), removed on close. */
export async function launchChromium(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      chromiumSandbox: false,
      args: FLAGS,
    });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const console: string[] = [];
  page.on('console', (m) => console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => console.push(`pageerror: ${e.message}`));
  return {
    page,
    console,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface Server {
  url: string;
  close(): Promise<void>;
}

/** The example's static server on a free loopback port, serving `dir`. */
export async function serve(dir: string): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, [SERVE, '--port', '0', dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`serve.mjs exited with ${code}: ${out}`)));
  });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Bundles `entry` for browsers, as an application would: ESM, .wasm imports as asset files. */
export function bundleForBrowser(
  entry: string,
  outdir: string,
): Promise<BuildResult<{ metafile: true }>> {
  return build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir,
    loader: { '.wasm': 'file' },
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: PKG,
  });
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
