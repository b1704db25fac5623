/**
 * `commons-sync trust` against a real node over HTTP (in-process CLI, vault keys): thresholds that
 * are not a majority are refused with the reason, a key signs a record once, the status says how
 * many signatures are missing, and co-signing a draft no signature can help (a second successor
 * of a root: a fork) is refused. Bad DIDs and kinds are usage errors.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { afterAll, describe, expect, it } from 'vitest';

import { runCli } from '../src/cli/run.js';
import { type IdentityNode, startIdentityNode } from './identity-node-fixtures.js';

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

const dir = mkdtempSync(join(tmpdir(), 'cs-trust-cli-'));
const nodes: IdentityNode[] = [];
afterAll(async () => {
  for (const n of nodes) {
    await n.close().catch(() => undefined);
    n.remove();
  }
  rmSync(dir, { recursive: true, force: true });
});

async function cli(...args: string[]) {
  const stdout = collector();
  const stderr = collector();
  const code = await runCli(args, {
    stdout,
    stderr,
    env: { COMMONS_SYNC_PASSPHRASE: 'trust cli passphrase', COMMONS_SYNC_LOG_LEVEL: 'silent' },
  });
  return { code, out: stdout.text, err: stderr.text };
}

const key = (name: string) => `vault:${dir}/;key=${name}`;
const file = (name: string) => join(dir, name);

describe('commons-sync trust against a node', () => {
  it('drafts, co-signs with the missing count, and refuses what cannot be right', async () => {
    const members: string[] = [];
    for (const g of ['g1', 'g2', 'g3']) {
      const r = await cli('keygen', '--keystore', key(g));
      expect(r.code, r.err).toBe(0);
      members.push(r.out.trim());
    }
    const memberFlags = members.flatMap((m) => ['--member', m]);

    const half = await cli('trust', 'root', 'init', ...memberFlags, '--threshold', '1');
    expect(half.code).toBe(2);
    expect(half.err).toMatch(/more than half of the 3 members/);
    const badKind = await cli('trust', 'root', 'init', ...memberFlags, '--threshold', 'nope=2');
    expect(badKind.code).toBe(2);

    const init = await cli(
      'trust',
      'root',
      'init',
      ...memberFlags,
      '--threshold',
      '2',
      '--sign',
      key('g1'),
      '--out',
      file('root.json'),
    );
    expect(init.code, init.err).toBe(0);
    expect(init.out).toMatch(/^missing: 1 signature$/m);
    const twice = await cli('trust', 'root', 'sign', '--keystore', key('g1'), file('root.json'));
    expect(twice.code).toBe(1);
    expect(twice.err).toMatch(/ERR_ALREADY_SIGNED|already signed/);
    expect(
      (await cli('trust', 'root', 'sign', '--keystore', key('g2'), file('root.json'))).code,
    ).toBe(0);

    const n = await startIdentityNode(Math.floor(Date.now() / 1000), {
      trustRoot: readFileSync(file('root.json')),
    });
    nodes.push(n);
    // two drafts of a successor of the same root; the first is applied
    for (const name of ['next.json', 'other.json']) {
      const r = await cli(
        'trust',
        'root',
        'init',
        '--url',
        n.url,
        '--sign',
        key('g1'),
        '--out',
        file(name),
      );
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/^missing: 2 signatures$/m); // one per side still missing
    }
    const sign = await cli(
      'trust',
      'root',
      'sign',
      '--keystore',
      key('g2'),
      '--url',
      n.url,
      file('next.json'),
    );
    expect(sign.out).toMatch(/^ready: the quorum is complete$/m);
    expect((await cli('trust', 'root', 'apply', '--url', n.url, file('next.json'))).code).toBe(0);
    // the second draft would fork the chain: no signature helps, the tool refuses to sign it
    const before = readFileSync(file('other.json'), 'utf8');
    const fork = await cli(
      'trust',
      'root',
      'sign',
      '--keystore',
      key('g2'),
      '--url',
      n.url,
      file('other.json'),
    );
    expect(fork.code).toBe(1);
    expect(fork.out).toMatch(/^blocked: ERR_GOV_STALE_ROOT/m);
    expect(fork.err).toMatch(/not signing/);
    expect(readFileSync(file('other.json'), 'utf8')).toBe(before);

    const status = await cli('status', '--url', n.url);
    expect(status.out).toMatch(/^trust: +governed by root [0-9a-f]{64}$/m);
    const show = await cli('trust', 'root', 'show', '--url', n.url);
    expect(JSON.parse(show.out)).toMatchObject({ mode: 'governed', root: { version: 2 } });
    expect((await cli('trust', 'explain', 'did:web:nobody', '--url', n.url)).code).toBe(2);
    // a governed node takes its trust and its peers from the root: no --trusted, --open, --admit
    const root = file('root.json');
    const withAdmit = await cli(
      'start',
      '--data',
      file('nodedir'),
      '--root',
      root,
      '--admit',
      members[0] as string,
      '--peer',
      '127.0.0.1:9',
    );
    expect(withAdmit.code).toBe(2);
    expect(withAdmit.err).toMatch(/--admit excludes --root/);
    for (const flag of [['--trusted', members[0] as string], ['--open']]) {
      const r = await cli('start', '--data', file('nodedir'), '--root', root, ...flag);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/--root excludes --trusted and --open/);
    }
    const kind = await cli('trust', 'action', 'propose', '--url', n.url, '--kind', 'coup');
    expect(kind.code).toBe(2);
    expect(kind.err).toMatch(/--kind must be one of/);
  }, 120_000);
});
