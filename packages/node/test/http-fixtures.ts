/**
 * Helpers for tests that talk to a real node over HTTP on 127.0.0.1: an in-process node (the
 * real pipeline, worker pool, SQLite store and API server) whose clock the test sets, and a
 * POST of raw bytes that turns the answer into one verdict per event.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Core } from '@commons-sync/bindings';
import { afterAll, afterEach } from 'vitest';

import { startApiServer } from '../src/api/server.js';
import { createKeyFile } from '../src/keys/keyfile.js';
import { KEY_FILE, openNode } from '../src/node.js';
import { didKeyFromPublicKey, eventToJson, signEvent } from '../src/protocol/index.js';
import type { CheckpointerOptions, DataSync } from '../src/storage/index.js';

const PASSPHRASE = 'http fixtures passphrase';

export interface HttpNode {
  readonly url: string;
  /** Sets the node's clock (Unix seconds) for the requests that follow. */
  setNow(seconds: number): void;
  close(): Promise<void>;
}

let keyTemplate: Promise<string> | undefined;
let keyDir: string | undefined;
// after the test file's own hooks (they close their nodes first)
afterAll(() => {
  if (keyDir !== undefined) rmSync(keyDir, { recursive: true, force: true });
});

/** One node key for all test nodes (scrypt at its lowest cost), copied into each data dir. */
function nodeKey(core: Core): Promise<string> {
  keyTemplate ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-http-key-'));
    keyDir = dir;
    await createKeyFile(join(dir, KEY_FILE), PASSPHRASE, core, undefined, { scryptN: 2 ** 15 });
    return join(dir, KEY_FILE);
  })();
  return keyTemplate;
}

/** A fresh node (empty store) behind the real API server on 127.0.0.1. */
export async function startHttpNode(
  core: Core,
  opts: {
    trusted?: readonly string[] | 'open';
    workers?: number;
    now?: number;
    /** How the store syncs its WAL (default fs.fdatasync). */
    storeSync?: DataSync;
    /** The store's checkpoint thread (default: the node's). */
    walCheckpoint?: CheckpointerOptions | false;
  } = {},
): Promise<HttpNode> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-http-node-'));
  copyFileSync(await nodeKey(core), join(dir, KEY_FILE));
  let now = opts.now ?? Math.floor(Date.now() / 1000);
  const node = await openNode({
    dataDir: dir,
    passphrase: PASSPHRASE,
    core,
    workers: opts.workers ?? 1,
    trusted: opts.trusted ?? 'open',
    now: () => now * 1000,
    checkpointIntervalMs: 3_600_000,
    ...(opts.storeSync === undefined ? {} : { storeSync: opts.storeSync }),
    ...(opts.walCheckpoint === undefined ? {} : { walCheckpoint: opts.walCheckpoint }),
  });
  const server = await startApiServer(node, { port: 0, host: '127.0.0.1' });
  return {
    url: server.url,
    setNow: (seconds) => {
      now = seconds;
    },
    close: async () => {
      await server.close();
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A list for the test file's nodes: each one pushed is closed after its test. */
export function nodesClosedAfterEach(): HttpNode[] {
  const nodes: HttpNode[] = [];
  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.close();
  });
  return nodes;
}

export type Verdict = string; // 'accepted', 'duplicate' or a reason code

/**
 * POSTs `body` as it is to /v1/events. The answer as verdicts: one per event for a 200, or the
 * error code of a refused body (`{ refused: code }`).
 */
export async function postBody(
  url: string,
  body: Uint8Array,
): Promise<{ verdicts: Verdict[]; single: boolean } | { refused: string; status: number }> {
  const res = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const json = (await res.json()) as {
    result?: { status: string; reason?: string };
    results?: Array<{ status: string; reason?: string }>;
    error?: { code: string };
  };
  const verdictOf = (r: { status: string; reason?: string }): Verdict =>
    r.status === 'rejected' ? (r.reason as string) : r.status;
  if (res.status === 200 && json.result !== undefined)
    return { verdicts: [verdictOf(json.result)], single: true };
  if (res.status === 200 && json.results !== undefined)
    return { verdicts: json.results.map(verdictOf), single: false };
  return { refused: json.error?.code ?? `HTTP ${res.status}`, status: res.status };
}

/** Valid events (JSON text) by a fixed filler author, unique per call, valid at `now`. */
export function fillerFactory(
  core: Core,
  label: string,
): { did: string; event(now: number): Uint8Array } {
  const seed = core.sha256(new TextEncoder().encode(`filler/${label}`));
  const did = didKeyFromPublicKey(core.ed25519PublicKey(seed));
  let n = 0;
  return {
    did,
    event(now: number): Uint8Array {
      const r = signEvent(
        core,
        {
          v: 1,
          kind: 'filler',
          author: did,
          createdAt: now - 10,
          expiresAt: now + 600,
          nonce: core
            .sha256(new TextEncoder().encode(`filler/${label}/${n++}/${Math.random()}`))
            .slice(0, 16),
          payload: { n },
        },
        [seed],
      );
      if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
      return new TextEncoder().encode(JSON.stringify(eventToJson(r.value.event)));
    },
  };
}

/** `[` a `,` b `,` ... `]`, each part byte for byte. */
export function arrayBody(parts: readonly Uint8Array[]): Uint8Array {
  const comma = Uint8Array.of(0x2c);
  const pieces: Uint8Array[] = [Uint8Array.of(0x5b)];
  parts.forEach((p, i) => {
    if (i > 0) pieces.push(comma);
    pieces.push(p);
  });
  pieces.push(Uint8Array.of(0x5d));
  return Buffer.concat(pieces);
}

/**
 * Whether a JSON text keeps a batch body framed when it is put between two commas (§3.5): its
 * strings close, and its brackets never close below its own level and end level. A forward scan,
 * written from the spec (not the splitter's code).
 */
export function keepsFraming(text: Uint8Array): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const b = text[i] as number;
    if (inString) {
      if (b === 0x5c) i++;
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x5b || b === 0x7b) depth++;
    else if (b === 0x5d || b === 0x7d) {
      if (--depth < 0) return false;
    } else if (b === 0x2c && depth === 0) return false;
  }
  return !inString && depth === 0;
}
