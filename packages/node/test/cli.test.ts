/**
 * The `commons-sync` CLI, run as a child process (through tsx): help and usage errors on every
 * command, keygen + event create producing events that the protocol parser accepts and whose
 * signatures verify, duration parsing, and submit/status against a small fake HTTP server.
 * The end-to-end run against a real node (init, start, audit verify) is in the node's tests.
 */
import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { type Core, loadCore } from '@commons-sync/bindings';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseDuration } from '../src/cli/common.js';
import type { NodeOps, OpenNodeOptions } from '../src/cli/node-ops.js';
import { runCli } from '../src/cli/run.js';
import type { SecretSource } from '../src/keys/keystore.js';
import {
  batchSize,
  type DecodedEvent,
  eventId,
  readEventJson,
  signingInput,
  validateEvent,
} from '../src/protocol/index.js';
import type { NodeService } from '../src/service.js';

/** The protocol's reader on the JSON text a command printed (or on a JS value, serialized). */
const readEvent = (json: string | object) =>
  readEventJson(Buffer.from(typeof json === 'string' ? json : JSON.stringify(json)));

// In-process runs of init, start and audit verify use a fake node (node.ts is the node's own).
const fakeOps = vi.hoisted(() => ({ current: undefined as unknown }));
vi.mock('../src/cli/node-ops.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../src/cli/node-ops.js')>()),
  loadNodeOps: () => Promise.resolve(fakeOps.current),
}));

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const MAIN = join(PACKAGE_DIR, 'src/cli/main.ts');
const PASSPHRASE = 'correct horse battery staple';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', MAIN, ...args],
      {
        cwd: PACKAGE_DIR,
        env: { PATH: process.env['PATH'] ?? '', COMMONS_SYNC_PASSPHRASE: PASSPHRASE, ...env },
        timeout: 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs at most two at a time (the machine has two cores). */
async function cliAll(runs: ReadonlyArray<readonly string[]>): Promise<Run[]> {
  const out: Run[] = new Array<Run>(runs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < runs.length) {
      const i = next++;
      out[i] = await cli(runs[i] as readonly string[]);
    }
  };
  await Promise.all([worker(), worker()]);
  return out;
}

/** The JSON log lines on stderr. */
function logLines(stderr: string): Array<Record<string, unknown>> {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function expectCleanError(run: Run, exit: number, code: string): void {
  expect(run.code, run.stderr).toBe(exit);
  const lines = logLines(run.stderr);
  expect(lines.length).toBe(1);
  expect(lines[0]).toMatchObject({ level: 'error', code });
  expect(typeof lines[0]?.['time']).toBe('string');
  const human = run.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
  expect(human.length).toBeGreaterThan(0);
  expect(run.stderr).not.toMatch(/^\s+at /m); // no stack trace
}

let dir: string;
let core: Core;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cs-cli-'));
  core = await loadCore();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('help and usage errors', () => {
  it('--help on every command and subcommand exits 0 and prints its usage', async () => {
    const cases: Array<[string[], string]> = [
      [['--help'], 'Usage: commons-sync <command>'],
      [['-h'], 'Usage: commons-sync <command>'],
      [['help', 'submit'], 'Usage: commons-sync submit'],
      [['init', '--help'], 'Usage: commons-sync init'],
      [['start', '--help'], 'Usage: commons-sync start'],
      [['keygen', '--help'], 'Usage: commons-sync keygen'],
      [['event', '--help'], 'Usage: commons-sync event <subcommand>'],
      [['event', 'create', '--help'], 'Usage: commons-sync event create'],
      [['event', 'cosign', '-h'], 'Usage: commons-sync event cosign'],
      [['submit', '--help'], 'Usage: commons-sync submit'],
      [['audit', '--help'], 'Usage: commons-sync audit <subcommand>'],
      [['audit', 'verify', '--help'], 'Usage: commons-sync audit verify'],
      [['status', '--help'], 'Usage: commons-sync status'],
      [['key', '--help'], 'Usage: commons-sync key <subcommand>'],
      [['key', 'list', '--help'], 'Usage: commons-sync key list'],
      [['key', 'backup', 'split', '--help'], 'Usage: commons-sync key backup split'],
      // Help wins over other flags, even unknown or incomplete ones.
      [['start', '--bogus', '--help'], 'Usage: commons-sync start'],
    ];
    const runs = await cliAll(cases.map(([args]) => args));
    cases.forEach(([args, usage], i) => {
      const run = runs[i] as Run;
      expect(run.code, args.join(' ')).toBe(0);
      expect(run.stdout.startsWith(usage), `${args.join(' ')}: ${run.stdout.slice(0, 60)}`).toBe(
        true,
      );
      expect(run.stderr).toBe('');
    });
    expect((await cli(['--version'])).stdout).toMatch(/^commons-sync \d+\.\d+\.\d+/);
  });

  it('no command prints the usage on stderr and exits 2', async () => {
    const run = await cli([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Usage: commons-sync <command>');
  });

  it('unknown commands, subcommands and flags, missing and bad values exit 2 with a clear message', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['frobnicate'], /unknown command "frobnicate"/],
      [['--frob'], /unknown option --frob/],
      [['keygen', '--out', 'x', '--frob'], /Unknown option '--frob'/],
      [['init', '--data'], /argument missing/],
      [['start', '--data', 'd', '--port', 'eighty'], /--port must be a whole number/],
      [['start', '--data', 'd', '--port', '70000'], /--port must be between 0 and 65535/],
      [['start', '--data', 'd', '--open', '--trusted', 'did:key:z6Mk'], /exclude each other/],
      [['start', '--data', 'd', '--trusted', 'did:key:nope'], /--trusted did:key:nope/],
      [['start', '--data', 'd', '--tls-key', 'k.pem'], /--tls-key and --tls-cert go together/],
      [['start'], /--data is required/],
      [['event'], /a subcommand is required/],
      [['event', 'sign'], /unknown subcommand "sign"/],
      [
        ['event', 'create', '--key', 'k', '--kind', 'x', '--payload', '{'],
        /--payload must be JSON/,
      ],
      [
        ['event', 'create', '--key', 'k', '--kind', 'x', '--payload', '1', '--expires-in', '5x'],
        /--expires-in must be a duration/,
      ],
      [
        ['event', 'create', '--key', 'k', '--kind', 'x', '--payload', '1', '--nonce', 'abc'],
        /--nonce must be/,
      ],
      [['event', 'create', '--kind', 'x', '--payload', '1'], /--key is required/],
      [['audit', 'check'], /unknown subcommand "check"/],
      [['submit', '--url', 'ftp://x', 'f'], /--url must be an http\(s\) URL/],
      [['submit', '--url', 'http://127.0.0.1:1'], /at least one FILE/],
      [
        ['submit', '--url', 'http://127.0.0.1:1', '--batch', '0', 'f'],
        /--batch must be between 1 and 10000/,
      ],
      [['status'], /--url is required/],
      [['status', '--url', 'http://x', 'extra'], /Unexpected argument 'extra'/],
    ];
    const runs = await cliAll(cases.map(([args]) => args));
    cases.forEach(([args, message], i) => {
      const run = runs[i] as Run;
      expectCleanError(run, 2, 'ERR_USAGE');
      expect(run.stderr, args.join(' ')).toMatch(message);
      expect(run.stderr).toMatch(/Run 'commons-sync.*--help' for usage\./);
    });
  });
});

describe('durations', () => {
  it('parses units, sums and bare seconds; refuses anything else', () => {
    expect(parseDuration('90s')).toBe(90);
    expect(parseDuration('10m')).toBe(600);
    expect(parseDuration('1h')).toBe(3600);
    expect(parseDuration('7d')).toBe(604_800);
    expect(parseDuration('2w')).toBe(1_209_600);
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('1d1h1m1s')).toBe(90_061);
    expect(parseDuration('3600')).toBe(3600);
    for (const bad of [
      '',
      '0',
      '0s',
      '1.5h',
      '-1h',
      '1H',
      '1 h',
      'h',
      '1y',
      '1h 30m',
      'ten',
      '1e3',
      `${'9'.repeat(13)}s`,
    ]) {
      expect(parseDuration(bad), bad).toBeUndefined();
    }
  });
});

describe('keygen and event create', () => {
  let authorDid: string;
  let cosignerDid: string;
  const authorKey = (): string => join(dir, 'author.key');
  const cosignerKey = (): string => join(dir, 'cosigner.key');

  beforeAll(async () => {
    const [a, b] = await cliAll([
      ['keygen', '--out', authorKey()],
      ['keygen', '--out', cosignerKey()],
    ]);
    expect(a?.code, a?.stderr).toBe(0);
    expect(b?.code, b?.stderr).toBe(0);
    authorDid = (a as Run).stdout.trim();
    cosignerDid = (b as Run).stdout.trim();
  });

  function acceptedByReference(decoded: DecodedEvent): void {
    const verdict = validateEvent(core, decoded, {
      now: Math.floor(Date.now() / 1000),
      lookupReplay: () => undefined,
    });
    expect(verdict).toMatchObject({ ok: true, outcome: 'accepted' });
  }

  function verifySignatures(decoded: DecodedEvent): void {
    const message = signingInput(eventId(core, decoded));
    decoded.event.signatures.forEach((s, i) => {
      expect(core.ed25519Verify(decoded.signerKeys[i] as Uint8Array, message, s.sig)).toBe(true);
    });
  }

  it('keygen prints a did:key and refuses to overwrite a key file', async () => {
    expect(authorDid).toMatch(/^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]{44}$/);
    expect(cosignerDid).not.toBe(authorDid);
    expectCleanError(await cli(['keygen', '--out', authorKey()]), 1, 'ERR_KEYFILE_EXISTS');
  });

  it('event create prints one JSON event that parses and whose signature verifies', async () => {
    const nonce = '0123456789abcdef0123456789abcdef';
    const run = await cli([
      'event',
      'create',
      '--key',
      authorKey(),
      '--kind',
      'note.v1',
      '--payload',
      '{"text":"hello","tags":["a","b"],"n":-3}',
      '--expires-in',
      '90s',
      '--nonce',
      nonce,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    const json = JSON.parse(run.stdout) as Record<string, unknown>; // to inspect fields only
    expect(json).toMatchObject({
      v: 1,
      kind: 'note.v1',
      author: authorDid,
      nonce,
      payload: { text: 'hello', tags: ['a', 'b'], n: -3 },
    });
    expect((json['expires_at'] as number) - (json['created_at'] as number)).toBe(90);
    expect(Math.abs((json['created_at'] as number) - Date.now() / 1000)).toBeLessThan(60);
    const parsed = readEvent(run.stdout);
    expect(parsed.ok, JSON.stringify(parsed)).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.event.signatures.map((s) => s.signer)).toEqual([authorDid]);
    verifySignatures(parsed.value);
    acceptedByReference(parsed.value);
    // A changed payload no longer verifies.
    const tampered = readEvent({ ...json, payload: { text: 'hellO' } });
    expect(tampered.ok).toBe(true);
    if (tampered.ok) {
      const message = signingInput(eventId(core, tampered.value));
      expect(
        core.ed25519Verify(
          tampered.value.signerKeys[0] as Uint8Array,
          message,
          tampered.value.event.signatures[0]!.sig,
        ),
      ).toBe(false);
    }
  });

  it('multi-sig: --cosign and --threshold give an M-of-N policy; event cosign completes one', async () => {
    const both = await cli([
      'event',
      'create',
      '--key',
      authorKey(),
      '--cosign',
      cosignerKey(),
      '--kind',
      'vote',
      '--payload',
      'true',
    ]);
    expect(both.code, both.stderr).toBe(0);
    const parsed = readEvent(both.stdout);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.event.policy).toEqual({
      threshold: 2,
      signers: [authorDid, cosignerDid].sort(),
    });
    expect(parsed.value.event.signatures).toHaveLength(2);
    verifySignatures(parsed.value);
    acceptedByReference(parsed.value);

    // 2-of-2 signed by the author alone now, co-signed later.
    const partial = await cli([
      'event',
      'create',
      '--key',
      authorKey(),
      '--signer',
      cosignerDid,
      '--threshold',
      '2',
      '--kind',
      'vote',
      '--payload',
      'null',
    ]);
    expect(partial.code, partial.stderr).toBe(0);
    const half = readEvent(partial.stdout);
    expect(half.ok).toBe(true);
    if (!half.ok) return;
    const early = validateEvent(core, half.value, {
      now: Math.floor(Date.now() / 1000),
      lookupReplay: () => undefined,
    });
    expect(early).toMatchObject({ ok: false, reason: 'ERR_THRESHOLD_NOT_MET' });
    const file = join(dir, 'half.json');
    writeFileSync(file, partial.stdout);
    const done = await cli(['event', 'cosign', '--key', cosignerKey(), file]);
    expect(done.code, done.stderr).toBe(0);
    const full = readEvent(done.stdout);
    expect(full.ok).toBe(true);
    if (!full.ok) return;
    verifySignatures(full.value);
    acceptedByReference(full.value);
    expectCleanError(
      await cli(['event', 'cosign', '--key', cosignerKey(), join(dir, 'missing.json')]),
      1,
      'ERR_FILE_READ',
    );
    writeFileSync(join(dir, 'full.json'), done.stdout);
    expectCleanError(
      await cli(['event', 'cosign', '--key', cosignerKey(), join(dir, 'full.json')]),
      1,
      'ERR_ALREADY_SIGNED',
    );
    expectCleanError(
      await cli([
        'event',
        'create',
        '--key',
        authorKey(),
        '--signer',
        cosignerDid,
        '--threshold',
        '3',
        '--kind',
        'v',
        '--payload',
        '1',
      ]),
      2,
      'ERR_USAGE',
    );
  });

  it('expected failures are one log line and a message: wrong passphrase, float payload, bad kind', async () => {
    const wrong = await cli(
      ['event', 'create', '--key', authorKey(), '--kind', 'x', '--payload', '1'],
      { COMMONS_SYNC_PASSPHRASE: 'nope' },
    );
    expectCleanError(wrong, 1, 'ERR_KEYFILE_PASSPHRASE');
    expect(wrong.stdout).toBe('');
    const noPassphrase = await cli(
      ['event', 'create', '--key', authorKey(), '--kind', 'x', '--payload', '1'],
      { COMMONS_SYNC_PASSPHRASE: '' },
    );
    expectCleanError(noPassphrase, 1, 'ERR_PASSPHRASE_UNAVAILABLE');
    expect(noPassphrase.stderr).toContain('COMMONS_SYNC_PASSPHRASE');
    // The payload is read by the protocol's reader: values JSON.parse would round are refused.
    for (const payload of ['{"a":1.5}', '1e400', '1.0000000000000001', '1e-400', '{"a":1,"a":2}']) {
      const refused = await cli([
        'event',
        'create',
        '--key',
        authorKey(),
        '--kind',
        'x',
        '--payload',
        payload,
      ]);
      expectCleanError(refused, 2, 'ERR_USAGE');
      expect(refused.stderr).toMatch(
        /--payload must be JSON within the payload data model.*ERR_MALFORMED/,
      );
    }
    const exact = await cli([
      'event',
      'create',
      '--key',
      authorKey(),
      '--kind',
      'x',
      '--payload',
      '[1.0,10e-1,-0]',
    ]);
    expect(exact.code, exact.stderr).toBe(0);
    expect((JSON.parse(exact.stdout) as { payload: unknown }).payload).toEqual([1, 1, 0]);
    expectCleanError(
      await cli(['event', 'create', '--key', authorKey(), '--kind', 'has space', '--payload', '1']),
      1,
      'ERR_BAD_FIELD',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// submit and status against a fake node

interface FakeNode {
  url: string;
  batches: unknown[][];
  /** The request bodies of POST /v1/events, as received. */
  bodies: Buffer[];
  /** Status codes to answer before answering normally (one per request). */
  failures: Array<{ status: number; code: string; retryAfter?: string }>;
  close(): Promise<void>;
}

async function fakeNode(): Promise<FakeNode> {
  const state: Omit<FakeNode, 'url' | 'close'> = { batches: [], bodies: [], failures: [] };
  const seen = new Set<string>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'GET' && req.url === '/healthz') {
        return send(200, {
          status: 'ok',
          did: 'did:key:zFAKE',
          events: seen.size,
          audit_size: seen.size,
          uptime_s: 3725,
          backend: 'fake',
        });
      }
      if (req.method === 'GET' && req.url === '/v1/audit/checkpoint') {
        return send(200, {
          tree_size: seen.size,
          root: 'ab'.repeat(32),
          time: 1_700_000_000,
          node: 'did:key:zFAKE',
          signature: 'cd'.repeat(64),
        });
      }
      if (req.method !== 'POST' || req.url !== '/v1/events')
        return send(404, { error: { code: 'ERR_NOT_FOUND', message: 'no' } });
      const failure = state.failures.shift();
      if (failure !== undefined) {
        return send(
          failure.status,
          { error: { code: failure.code, message: 'fake failure' } },
          failure.retryAfter === undefined ? {} : { 'retry-after': failure.retryAfter },
        );
      }
      state.bodies.push(Buffer.concat(chunks));
      const batch = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Array<{
        id?: string;
        bad?: string;
      }>;
      state.batches.push(batch);
      send(200, {
        results: batch.map((e) => {
          if (typeof e.bad === 'string')
            return { status: 'rejected', reason: e.bad, detail: `fake ${e.bad}` };
          const id = String(e.id);
          if (seen.has(id)) return { status: 'duplicate', id };
          seen.add(id);
          return { status: 'accepted', id };
        }),
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    batches: state.batches,
    bodies: state.bodies,
    failures: state.failures,
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('submit and status', () => {
  let node: FakeNode;
  let files: { single: string; array: string; lines: string };

  beforeAll(async () => {
    node = await fakeNode();
    files = {
      single: join(dir, 'single.json'),
      array: join(dir, 'array.json'),
      lines: join(dir, 'lines.jsonl'),
    };
    writeFileSync(files.single, JSON.stringify({ id: 'e1' }, null, 2));
    writeFileSync(files.array, JSON.stringify([{ id: 'e2' }, { id: 'e3' }, { id: 'e1' }]));
    writeFileSync(
      files.lines,
      `${JSON.stringify({ id: 'e4' })}\n\n${JSON.stringify([{ id: 'e5' }, { id: 'e6' }])}\n${JSON.stringify({ id: 'e7' })}\n`,
    );
  });
  afterAll(() => node.close());

  it('reads single-event, array and JSON-lines files, posts in batches and sums up', async () => {
    const run = await cli([
      'submit',
      '--url',
      node.url,
      '--batch',
      '3',
      files.single,
      files.array,
      files.lines,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(node.batches.map((b) => b.length)).toEqual([3, 3, 2]);
    expect(node.batches.flat()).toEqual(
      ['e1', 'e2', 'e3', 'e1', 'e4', 'e5', 'e6', 'e7'].map((id) => ({ id })),
    );
    expect(run.stdout).toMatch(/^events: +8$/m);
    expect(run.stdout).toMatch(/^accepted: +7$/m);
    expect(run.stdout).toMatch(/^duplicate: +1$/m);
    expect(run.stdout).toMatch(/^rejected: +0$/m);
    // Not a terminal: plain progress lines, one per batch.
    expect(run.stderr.split('\n').filter((l) => l.startsWith('submitted '))).toEqual([
      'submitted 3/8 events (accepted 3  duplicate 0  rejected 0)',
      'submitted 6/8 events (accepted 5  duplicate 1  rejected 0)',
      'submitted 8/8 events (accepted 7  duplicate 1  rejected 0)',
    ]);
  });

  it('sends the JSON text of each event byte for byte as the file holds it (no parse and re-serialize)', async () => {
    // JSON.stringify(JSON.parse(...)) would turn 1.0 into 1, 1e400 into null and drop a repeated name
    const texts = [
      '{"id":"t1","n":1.0,"x":1e400}',
      ' {"id":"t2","id":"t3"} ',
      '\n{"id":"t4","s":"\\u00e9\u00e9"}',
    ];
    const file = join(dir, 'exact.json');
    writeFileSync(file, `[${texts.join(',')}]`);
    const before = node.bodies.length;
    const run = await cli(['submit', '--url', node.url, '--quiet', file]);
    expect(run.code, run.stderr).toBe(0);
    expect(node.bodies.slice(before).map((b) => b.toString('utf8'))).toEqual([
      `[${texts.join(',')}]`,
    ]);
    const lines = join(dir, 'exact.jsonl');
    writeFileSync(lines, `${texts[0]}\n[${texts[1]},${texts[0]}]\n`);
    const again = await cli(['submit', '--url', node.url, '--quiet', lines]);
    expect(again.code, again.stderr).toBe(0);
    expect(node.bodies.at(-1)?.toString('utf8')).toBe(`[${texts[0]},${texts[1]},${texts[0]}]`);
    // a byte-order mark is not whitespace (spec/PROTOCOL.md §3.4): the file is refused, not stripped
    const bom = join(dir, 'bom.json');
    writeFileSync(bom, `\ufeff${texts[0]}`);
    const refused = await cli(['submit', '--url', node.url, bom]);
    expectCleanError(refused, 1, 'ERR_EVENTS_FILE');
    expect(refused.stderr).toContain('byte-order mark');
  });

  it('exits 1 when an event is rejected, with the reasons in the summary (and --json)', async () => {
    const file = join(dir, 'mixed.json');
    writeFileSync(
      file,
      JSON.stringify([
        { id: 'm1' },
        { bad: 'ERR_EXPIRED' },
        { bad: 'ERR_EXPIRED' },
        { bad: 'ERR_BAD_SIGNATURE' },
      ]),
    );
    const run = await cli(['submit', '--url', node.url, '--json', '--quiet', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
    const summary = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({
      events: 4,
      accepted: 1,
      duplicate: 0,
      rejected: 3,
      failed: 0,
      reasons: { ERR_EXPIRED: 2, ERR_BAD_SIGNATURE: 1 },
    });
    expect(summary['rejections']).toEqual([
      { index: 1, reason: 'ERR_EXPIRED', detail: 'fake ERR_EXPIRED' },
      { index: 2, reason: 'ERR_EXPIRED', detail: 'fake ERR_EXPIRED' },
      { index: 3, reason: 'ERR_BAD_SIGNATURE', detail: 'fake ERR_BAD_SIGNATURE' },
    ]);
    const human = await cli(['submit', '--url', node.url, '--quiet', file]);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^ {2}ERR_EXPIRED: 2$/m);
  });

  it('retries 429 and 503 (bounded), then succeeds', async () => {
    const file = join(dir, 'retry.json');
    writeFileSync(file, JSON.stringify([{ id: 'r1' }]));
    node.failures.push(
      { status: 429, code: 'ERR_OVERLOADED', retryAfter: '0' },
      { status: 503, code: 'ERR_SHUTTING_DOWN', retryAfter: '0' },
    );
    const before = node.batches.length;
    const run = await cli(['submit', '--url', node.url, '--json', '--quiet', file]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      accepted: 1,
      requests: 3,
      retries: 2,
      failed: 0,
    });
    expect(node.batches.length).toBe(before + 1);

    node.failures.push(
      ...Array.from({ length: 3 }, () => ({
        status: 429,
        code: 'ERR_OVERLOADED',
        retryAfter: '0',
      })),
    );
    const gaveUp = await cli([
      'submit',
      '--url',
      node.url,
      '--json',
      '--quiet',
      '--retries',
      '2',
      file,
    ]);
    expect(gaveUp.code).toBe(1);
    expect(JSON.parse(gaveUp.stdout)).toMatchObject({
      failed: 1,
      requests: 3,
      retries: 2,
      errors: [{ code: 'ERR_OVERLOADED', events: 1 }],
    });
    expect(node.failures).toEqual([]);
  });

  it('a request the node refuses (400) fails its batch; the others still go', async () => {
    const file = join(dir, 'refused.json');
    writeFileSync(file, JSON.stringify([{ id: 'x1' }, { id: 'x2' }, { id: 'x3' }]));
    node.failures.push({ status: 400, code: 'ERR_TOO_MANY_EVENTS' });
    const run = await cli(['submit', '--url', node.url, '--json', '--quiet', '--batch', '2', file]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({
      accepted: 1,
      failed: 2,
      errors: [{ code: 'ERR_TOO_MANY_EVENTS', events: 2 }],
    });
  });

  it('an unreachable node and bad files are clean errors', async () => {
    const unreachable = await cli([
      'submit',
      '--url',
      'http://127.0.0.1:9',
      '--retries',
      '0',
      '--json',
      '--quiet',
      files.single,
    ]);
    expect(unreachable.code).toBe(1);
    expect(JSON.parse(unreachable.stdout)).toMatchObject({
      failed: 1,
      errors: [{ code: 'ERR_HTTP_TRANSPORT' }],
    });
    expect(unreachable.stderr).not.toMatch(/^\s+at /m);

    const broken = join(dir, 'broken.jsonl');
    writeFileSync(broken, '{"id":"ok"}\n{"id":\n');
    const bad = await cli(['submit', '--url', node.url, broken]);
    expectCleanError(bad, 1, 'ERR_EVENTS_FILE');
    expect(bad.stderr).toContain('broken.jsonl:2');
    expectCleanError(
      await cli(['submit', '--url', node.url, join(dir, 'nope.json')]),
      1,
      'ERR_FILE_READ',
    );
  });

  it('status prints health and the latest checkpoint', async () => {
    const run = await cli(['status', '--url', node.url]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^node: +did:key:zFAKE$/m);
    expect(run.stdout).toMatch(/^status: +ok$/m);
    expect(run.stdout).toMatch(/^uptime: +1h2m5s$/m);
    expect(run.stdout).toContain(`root ${'ab'.repeat(32)}`);
    expect(run.stdout).toContain('2023-11-14T22:13:20.000Z');
    const json = await cli(['status', '--url', node.url, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      health: { status: 'ok' },
      checkpoint: { node: 'did:key:zFAKE' },
    });
    expectCleanError(await cli(['status', '--url', 'http://127.0.0.1:9']), 1, 'ERR_HTTP_TRANSPORT');
  });
});

// ---------------------------------------------------------------------------------------------
// init, start and audit verify, in process, over a fake node

function collector(): Writable & { text: string } {
  const w = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      w.text += chunk.toString();
      cb();
    },
  }) as Writable & { text: string };
  w.text = '';
  return w;
}

describe('init, start and audit verify (fake node)', () => {
  const did = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK';
  const calls: unknown[][] = [];
  let closed = 0;
  const service: NodeService = {
    did,
    ingest: (batch) =>
      Promise.resolve(
        Array.from(
          { length: batchSize(batch) },
          () => ({ status: 'accepted', id: '0'.repeat(64) }) as const,
        ),
      ),
    getEvent: () => undefined,
    checkpoint: () => ({ tree_size: 0, root: '', time: 0, node: did, signature: '' }),
    auditProof: () => undefined,
    health: () => ({ status: 'ok', did, events: 0, audit_size: 0, uptime_s: 0, backend: 'fake' }),
    metrics: () => '',
    close: () => {
      closed++;
      return Promise.resolve();
    },
  };
  let verdict: Awaited<ReturnType<NodeOps['verifyAudit']>> = {
    ok: true,
    entries: 3,
    checkpoints: 1,
    events: 2,
  };
  const ops: NodeOps = {
    initDataDir: async (dir: string, secrets: SecretSource, keystore?: string) => {
      calls.push(['initDataDir', dir, await secrets.newPassphrase(dir), keystore]);
      return { did, created: !dir.endsWith('old') };
    },
    openNode: async ({ secrets, ...opts }: OpenNodeOptions) => {
      calls.push(['openNode', { ...opts, passphrase: await secrets.passphrase(opts.dataDir) }]);
      return service;
    },
    verifyAudit: (dir: string) => {
      calls.push(['verifyAudit', dir]);
      return Promise.resolve(verdict);
    },
  };
  fakeOps.current = ops;

  async function run(args: string[], signals = new EventEmitter()): Promise<Run> {
    const stdout = collector();
    const stderr = collector();
    const code = await runCli(args, {
      stdout,
      stderr,
      env: { COMMONS_SYNC_PASSPHRASE: 'pw' },
      signals,
    });
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  it('init prints the DID; a directory already initialised says so', async () => {
    const fresh = await run(['init', '--data', '/tmp/n1']);
    expect(fresh).toMatchObject({ code: 0, stdout: `${did}\n`, stderr: '' });
    expect(calls.at(-1)).toEqual(['initDataDir', '/tmp/n1', 'pw', undefined]);
    const again = await run(['init', '--data', '/tmp/old']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('already initialised');
  });

  it('start serves the API, prints "node DID listening on URL", and closes on SIGTERM', async () => {
    const signals = new EventEmitter();
    const stdout = collector();
    const stderr = collector();
    const running = runCli(
      ['start', '--data', '/tmp/n1', '--port', '0', '--open', '--workers', '2'],
      {
        stdout,
        stderr,
        env: { COMMONS_SYNC_PASSPHRASE: 'pw' },
        signals,
      },
    );
    for (let i = 0; i < 500 && !stdout.text.includes('\n'); i++)
      await new Promise((r) => setTimeout(r, 10));
    const m = /^node (did:key:\S+) listening on (http:\/\/127\.0\.0\.1:\d+)\n$/.exec(stdout.text);
    expect(m, stdout.text + stderr.text).not.toBeNull();
    expect(m?.[1]).toBe(did);
    expect(calls.at(-1)).toEqual([
      'openNode',
      { dataDir: '/tmp/n1', passphrase: 'pw', trusted: 'open', workers: 2 },
    ]);
    const health = await fetch(`${m?.[2]}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ did });
    const started = logLines(stderr.text).find((l) => l['msg'] === 'node started');
    expect(started).toMatchObject({ level: 'info', did, url: m?.[2] });

    const closedBefore = closed;
    signals.emit('SIGTERM');
    expect(await running).toBe(0);
    expect(closed).toBe(closedBefore + 1);
    expect(signals.listenerCount('SIGINT') + signals.listenerCount('SIGTERM')).toBe(0);
    expect(logLines(stderr.text).map((l) => l['msg'])).toEqual(
      expect.arrayContaining(['shutting down', 'stopped']),
    );
    await expect(fetch(`${m?.[2]}/healthz`)).rejects.toThrow();
  });

  it('start passes --trusted, and closes the node when the API cannot listen', async () => {
    const blocker = await fakeNode();
    const port = new URL(blocker.url).port;
    const closedBefore = closed;
    const failed = await run([
      'start',
      '--data',
      '/tmp/n1',
      '--port',
      port,
      '--trusted',
      `${did},${did}`,
    ]);
    await blocker.close();
    expectCleanError(failed, 1, 'ERR_LISTEN');
    expect(calls.at(-1)).toEqual([
      'openNode',
      { dataDir: '/tmp/n1', passphrase: 'pw', trusted: [did] },
    ]);
    expect(closed).toBe(closedBefore + 1);
  });

  it('audit verify: exit 0 with a summary when intact, 1 naming the first bad entry', async () => {
    verdict = { ok: true, entries: 3, checkpoints: 1, events: 2 };
    const ok = await run(['audit', 'verify', '--data', '/tmp/n1']);
    expect(ok).toMatchObject({
      code: 0,
      stdout: 'audit log intact: 3 entries, 1 checkpoints, 2 events\n',
      stderr: '',
    });
    const firstBad = { table: 'audit_entries', row: 17, what: 'hash chain broken' };
    verdict = { ok: false, firstBad };
    const bad = await run(['audit', 'verify', '--data', '/tmp/n1']);
    expectCleanError(bad, 1, 'ERR_AUDIT_BROKEN');
    expect(bad.stderr).toContain('first bad entry: audit_entries row 17: hash chain broken');
    expect(logLines(bad.stderr)[0]).toMatchObject({ first_bad: firstBad });
    const json = await run(['audit', 'verify', '--data', '/tmp/n1', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ ok: false, firstBad });
    verdict = { ok: false, firstBad: 'checkpoint 3' };
    expect((await run(['audit', 'verify', '--data', '/tmp/n1'])).stderr).toContain(
      'first bad entry: checkpoint 3',
    );
  });
});
