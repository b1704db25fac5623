/**
 * Helpers of the tests that run identities through a whole node: ordinary events authored by
 * an identity, an in-process node behind the real API server with a clock the test sets, and
 * the two POSTs.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll } from 'vitest';
import { type ApiServer, startApiServer } from '../src/api/server.js';
import { keyEventToJson, type VerifiedKeyEvent } from '../src/identity/index.js';
import { createKeyFile } from '../src/keys/keyfile.js';
import { type CommonsNode, KEY_FILE, type NodeOptions, openNode } from '../src/node.js';
import { eventToJson, signEvent } from '../src/protocol/index.js';
import { core, type TestKey } from './identity-fixtures.js';

export const NODE_PASSPHRASE = 'identity node passphrase';

let keyTemplate: Promise<string> | undefined;

/** The directories these helpers made: removed after the test file's own hooks ran. */
const made: string[] = [];
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** One node key for all test nodes (scrypt at its lowest cost), copied into each data dir. */
function nodeKey(): Promise<string> {
  keyTemplate ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-id-key-'));
    made.push(dir);
    await createKeyFile(join(dir, KEY_FILE), NODE_PASSPHRASE, core, undefined, {
      scryptN: 2 ** 15,
    });
    return join(dir, KEY_FILE);
  })();
  return keyTemplate;
}

export interface IdentityNode {
  readonly node: CommonsNode;
  readonly url: string;
  readonly dir: string;
  /** Sets the node's clock (Unix seconds). */
  setNow(seconds: number): void;
  /** Stops the node and the server; the data directory stays (see `remove`). */
  close(): Promise<void>;
  /** Opens the same data directory again (after `close`). */
  reopen(): Promise<IdentityNode>;
  remove(): void;
}

/** A node on a fresh data directory (or `dir`), behind the API server on 127.0.0.1. */
export async function startIdentityNode(
  now: number,
  opts: Partial<NodeOptions> & { dir?: string; http?: boolean } = {},
): Promise<IdentityNode> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'cs-id-node-'));
  if (opts.dir === undefined) {
    made.push(dir);
    copyFileSync(await nodeKey(), join(dir, KEY_FILE));
  }
  let clock = now;
  const node = await openNode({
    dataDir: dir,
    passphrase: NODE_PASSPHRASE,
    core,
    workers: 1,
    checkpointIntervalMs: 3_600_000,
    ...opts,
    now: () => clock * 1000,
  });
  let server: ApiServer | undefined;
  if (opts.http !== false) server = await startApiServer(node, { port: 0, host: '127.0.0.1' });
  const self: IdentityNode = {
    node,
    url: server?.url ?? '',
    dir,
    setNow: (seconds) => {
      clock = seconds;
    },
    close: async () => {
      await server?.close();
      await node.close();
    },
    reopen: () => startIdentityNode(clock, { ...opts, dir }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  return self;
}

let nonces = 0;

/** An ordinary event authored by the identity of `keyState`, naming it, signed by `signers`. */
export function identityEvent(
  keyState: VerifiedKeyEvent,
  createdAt: number,
  signers: readonly TestKey[],
  opts: { expiresAt?: number; label?: string; payload?: unknown } = {},
): Record<string, unknown> {
  const r = signEvent(
    core,
    {
      v: 1,
      kind: 'note',
      author: keyState.identity,
      keyState: keyState.id,
      createdAt,
      expiresAt: opts.expiresAt ?? createdAt + 6 * 86_400,
      nonce: core
        .sha256(new TextEncoder().encode(`identity-event/${opts.label ?? ''}/${nonces++}`))
        .slice(0, 16),
      payload: (opts.payload ?? { text: opts.label ?? 'by an identity' }) as never,
    },
    signers.map((k) => k.seed),
  );
  if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
  return eventToJson(r.value.event) as unknown as Record<string, unknown>;
}

interface Answer {
  status: string;
  id?: string;
  reason?: string;
  [key: string]: unknown;
}

async function post(url: string, path: string, body: unknown[]): Promise<Answer[]> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { results?: Answer[]; error?: { code: string } };
  if (res.status !== 200 || json.results === undefined)
    throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json.results;
}

export const postKeyEvents = (url: string, events: readonly VerifiedKeyEvent[]) =>
  post(
    url,
    '/v1/key-events',
    events.map((e) => keyEventToJson(e.event)),
  );

export const postEventsJson = (url: string, events: readonly unknown[]) =>
  post(url, '/v1/events', [...events]);

/** The verdict a result stands for: `accepted`, `duplicate`, `escrowed` or the reason code. */
export const verdictOf = (a: Answer): string =>
  a.status === 'rejected' ? String(a.reason) : a.status;

/** GET a path; the status and the JSON body. */
export async function getJson(
  url: string,
  path: string,
  // biome-ignore lint/suspicious/noExplicitAny: the tests read answers of several shapes; each asserts its fields
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`);
  return { status: res.status, body: await res.json() };
}
