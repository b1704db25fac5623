/**
 * A client checks a node's audit log with nothing but the API's answers, the node's DID and its
 * own event: `commons-sync audit check-proof` accepts the node's real proof and rejects every
 * tampered one (served through a proxy that changes one field of the answer), and
 * `commons-sync audit check-consistency` accepts a log that grew and rejects a forged proof.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  makeEvents,
  postEvents,
  type RunningNode,
  runCli,
  startNodeProcess,
} from './node-fixtures.js';
import { call } from './socket-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'cs-proof-'));
let node: RunningNode;
let proxy: Server;
let proxyUrl: string;
/** Rewrites the JSON answers the proxy passes on; identity by default. */
let rewrite: (path: string, json: Record<string, unknown>) => unknown = (_p, j) => j;

beforeAll(async () => {
  const data = join(dir, 'data');
  expect((await runCli(['init', '--data', data])).code).toBe(0);
  node = await startNodeProcess(data);
  proxy = createServer((req, res) => {
    const upstream = request(
      new URL(req.url ?? '/', node.url),
      { method: req.method, headers: { ...req.headers, host: '127.0.0.1' } },
      (up) => {
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => {
          let body = Buffer.concat(chunks).toString('utf8');
          if (up.statusCode === 200)
            body = JSON.stringify(
              rewrite(req.url ?? '', JSON.parse(body) as Record<string, unknown>),
            );
          res.writeHead(up.statusCode ?? 502, {
            'content-type': 'application/json',
            ...(up.headers['retry-after'] === undefined
              ? {}
              : { 'retry-after': up.headers['retry-after'] }),
          });
          res.end(body);
        });
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
});

afterAll(async () => {
  await new Promise((r) => proxy?.close(r));
  node?.child.kill('SIGTERM');
  await node?.exited;
  rmSync(dir, { recursive: true, force: true });
});

const flip = (hexText: string, at = 0): string => {
  const i = at % hexText.length;
  return hexText.slice(0, i) + (hexText[i] === '0' ? '1' : '0') + hexText.slice(i + 1);
};

describe('audit check-proof', () => {
  it('accepts the proof of a submitted event and rejects every tampered answer', async () => {
    const events = makeEvents(5, 2, 'proof-check');
    expect((await postEvents(node.url, events)).status).toBe(200);
    const file = join(dir, 'event.json');
    writeFileSync(file, JSON.stringify(events[3]));

    const ok = await runCli([
      'audit',
      'check-proof',
      '--url',
      proxyUrl,
      '--node',
      node.did,
      '--json',
      file,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      ok: true,
      leaf_index: expect.any(Number) as number,
    });

    type Proof = Record<string, unknown> & { path: string[]; checkpoint: Record<string, unknown> };
    const tampers: [string, (p: Proof) => unknown][] = [
      ['a flipped leaf byte', (p) => ({ ...p, leaf: flip(p['leaf'] as string, 40) })],
      ['another leaf hash', (p) => ({ ...p, leaf_hash: flip(p['leaf_hash'] as string) })],
      [
        'a flipped path hash',
        (p) => ({ ...p, path: [flip(p.path[0] as string), ...p.path.slice(1)] }),
      ],
      ['a shorter path', (p) => ({ ...p, path: p.path.slice(1) })],
      ['another leaf index', (p) => ({ ...p, leaf_index: (p['leaf_index'] as number) + 1 })],
      [
        'another root',
        (p) => ({
          ...p,
          checkpoint: { ...p.checkpoint, root: flip(p.checkpoint['root'] as string) },
        }),
      ],
      [
        'a forged signature',
        (p) => ({
          ...p,
          checkpoint: { ...p.checkpoint, signature: flip(p.checkpoint['signature'] as string, 70) },
        }),
      ],
      [
        'another tree size',
        (p) => ({
          ...p,
          tree_size: (p['tree_size'] as number) + 1,
          checkpoint: { ...p.checkpoint, tree_size: (p['tree_size'] as number) + 1 },
        }),
      ],
      [
        'another node',
        (p) => ({
          ...p,
          checkpoint: {
            ...p.checkpoint,
            node: 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK',
          },
        }),
      ],
    ];
    for (const [label, tamper] of tampers) {
      rewrite = (path, json) =>
        path.startsWith('/v1/audit/proof/') ? tamper(json as Proof) : json;
      const bad = await runCli([
        'audit',
        'check-proof',
        '--url',
        proxyUrl,
        '--node',
        node.did,
        file,
      ]);
      expect(bad.code, `${label}: ${bad.stdout}`).toBe(1);
      expect(bad.stderr, label).toContain('ERR_PROOF_INVALID');
    }
    rewrite = (_p, j) => j;

    // The leaf of another event of the same log does not prove this one.
    const other = JSON.parse(
      (await call(node.url, `/v1/audit/proof/${await idOf(events[1])}`)).text,
    ) as Proof;
    expect(other['leaf']).toMatch(/^[0-9a-f]+$/);
    rewrite = (path, json) =>
      path.startsWith('/v1/audit/proof/')
        ? {
            ...json,
            leaf: other['leaf'],
            leaf_hash: other['leaf_hash'],
            leaf_index: other['leaf_index'],
            path: other.path,
          }
        : json;
    expect(
      (await runCli(['audit', 'check-proof', '--url', proxyUrl, '--node', node.did, file])).code,
    ).toBe(1);
    rewrite = (_p, j) => j;

    // An event the node never accepted (another body) is not in the log.
    const unknown = join(dir, 'unknown.json');
    writeFileSync(unknown, JSON.stringify(makeEvents(1, 1, 'never-submitted')[0]));
    const missing = await runCli([
      'audit',
      'check-proof',
      '--url',
      node.url,
      '--node',
      node.did,
      unknown,
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('has no accepted event');
    // Another DID (a node impersonating this one) does not verify.
    const impostor = await runCli([
      'audit',
      'check-proof',
      '--url',
      node.url,
      '--node',
      'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK',
      file,
    ]);
    expect(impostor.code).toBe(1);
  });
});

describe('audit check-consistency', () => {
  it('accepts a log that grew since a saved checkpoint and rejects a forged proof', async () => {
    const saved = join(dir, 'checkpoint.json');
    writeFileSync(saved, (await call(node.url, '/v1/audit/checkpoint')).text);
    const more = makeEvents(7, 3, 'consistency');
    expect((await postEvents(node.url, more)).status).toBe(200);
    const file = join(dir, 'more.json');
    writeFileSync(file, JSON.stringify(more[6]));
    // A proof request makes the node sign a checkpoint covering the new events (at most one a second).
    expect(
      (await runCli(['audit', 'check-proof', '--url', node.url, '--node', node.did, file])).code,
    ).toBe(0);

    const ok = await runCli([
      'audit',
      'check-consistency',
      '--url',
      proxyUrl,
      '--node',
      node.did,
      '--from',
      saved,
      '--json',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const verdict = JSON.parse(ok.stdout) as {
      from: { tree_size: number };
      to: { tree_size: number };
    };
    expect(verdict.to.tree_size).toBeGreaterThan(verdict.from.tree_size);

    rewrite = (path, json) =>
      path.startsWith('/v1/audit/consistency')
        ? { ...json, proof: (json['proof'] as string[]).map((h, i) => (i === 0 ? flip(h) : h)) }
        : json;
    const forged = await runCli([
      'audit',
      'check-consistency',
      '--url',
      proxyUrl,
      '--node',
      node.did,
      '--from',
      saved,
    ]);
    rewrite = (_p, j) => j;
    expect(forged.code).toBe(1);
    expect(forged.stderr).toContain('ERR_PROOF_INVALID');

    // A saved checkpoint the node never signed is refused before any proof is asked for.
    const fake = JSON.parse((await call(node.url, '/v1/audit/checkpoint')).text) as Record<
      string,
      unknown
    >;
    writeFileSync(saved, JSON.stringify({ ...fake, root: flip(fake['root'] as string) }));
    expect(
      (
        await runCli([
          'audit',
          'check-consistency',
          '--url',
          node.url,
          '--node',
          node.did,
          '--from',
          saved,
        ])
      ).code,
    ).toBe(1);

    // The API refuses sizes beyond the log with a typed 400.
    const beyond = await call(node.url, '/v1/audit/consistency?from=1&to=99999999');
    expect(beyond.status).toBe(400);
    expect(beyond.json).toMatchObject({ error: { code: 'ERR_BAD_QUERY' } });
  });
});

async function idOf(event: unknown): Promise<string> {
  const answer = await postEvents(node.url, [event]);
  return (answer.body as { results: { id: string }[] }).results[0]?.id as string;
}
