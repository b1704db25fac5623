/** Helpers for tests that run whole nodes: signed events in JSON form, child-process nodes. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { loadCore } from '@commons-sync/bindings';

import { didKeyFromPublicKey, eventToJson, signEvent } from '../src/protocol/index.js';

export const nativeCore = await loadCore();
export const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
export const PASSPHRASE = 'correct horse battery staple';

/** `count` valid events from `authors` distinct keys, in the JSON form the API takes. */
export function makeEvents(
  count: number,
  authors = 8,
  label = 'events',
  nowSeconds = Math.floor(Date.now() / 1000),
): Record<string, unknown>[] {
  const seeds = Array.from({ length: authors }, (_, i) =>
    nativeCore.sha256(new TextEncoder().encode(`${label}/author/${i}`)),
  );
  const dids = seeds.map((s) => didKeyFromPublicKey(nativeCore.ed25519PublicKey(s)));
  return Array.from({ length: count }, (_, i) => {
    const a = i % authors;
    const r = signEvent(
      nativeCore,
      {
        v: 1,
        kind: 'note',
        author: dids[a] as string,
        createdAt: nowSeconds - 5,
        expiresAt: nowSeconds + 3600,
        nonce: nativeCore.sha256(new TextEncoder().encode(`${label}/nonce/${i}`)).slice(0, 16),
        payload: { seq: i, text: 'commons sync test event', tags: ['a', 'b'] },
      },
      [seeds[a] as Uint8Array],
    );
    if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
    return eventToJson(r.value.event) as unknown as Record<string, unknown>;
  });
}

export interface RunningNode {
  readonly url: string;
  readonly did: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  /** What the node wrote to stderr so far (its log lines, level warn and up). */
  readonly stderr: () => string;
  /** How the process ended, for assertion messages: `exit 0`, `signal SIGSEGV`, or `running`. */
  readonly ending: () => string;
}

/** Starts `commons-sync start` in a child process and waits until it listens. */
export function startNodeProcess(
  dataDir: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<RunningNode> {
  const trust = extra.includes('--trusted') ? [] : ['--open'];
  const child = spawn(
    process.execPath,
    [CLI, 'start', '--data', dataDir, '--port', '0', ...trust, ...extra],
    {
      env: {
        ...process.env,
        COMMONS_SYNC_PASSPHRASE: PASSPHRASE,
        COMMONS_SYNC_LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  let ending = 'running';
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code, signal) => {
      ending = signal === null ? `exit ${code}` : `signal ${signal}`;
      resolve(code);
    }),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not start: ${out}${err}`)), 30_000);
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /node (\S+) listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          did: m[1] as string,
          url: m[2] as string,
          child,
          exited,
          stderr: () => err,
          ending: () => `${ending}; stderr: ${err}`,
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`node exited with ${code} before listening: ${out}${err}`));
    });
  });
}

/** Runs the CLI to completion. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, COMMONS_SYNC_PASSPHRASE: PASSPHRASE, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

export async function postEvents(
  url: string,
  events: unknown[],
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(events),
  });
  return { status: res.status, body: await res.json() };
}
