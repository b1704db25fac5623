/**
 * The identity lifecycle as a user runs it: `commons-sync` processes against a node process.
 * In a vault directory: create (with guardians), author events as the identity, rotate, revoke
 * (the compromise response: events of the revoked keys become invalid, 410), a recovery signed
 * by too few guardians refused, co-signed and taken, vetoed by the replaced keys; `identity
 * show` from the file and from the node; `audit verify` passes. In SoftHSM2: the same keys made
 * inside a token, never exported, rotated, and their events accepted.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type RunningNode, runCli, startNodeProcess } from './node-fixtures.js';
import { makeSoftHsm, USER_PIN } from './softhsm-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'cs-id-cli-'));
const data = join(dir, 'data');
const keys = join(dir, 'keys/');
const idFile = join(dir, 'alice.id.json');
const hsm = makeSoftHsm();
hsm.initToken('ids');
let node: RunningNode;

const cli = async (args: string[], env: Record<string, string> = {}) => {
  const r = await runCli(args, { COMMONS_SYNC_PKCS11_PIN: USER_PIN, ...env });
  return r;
};
const ok = async (args: string[]): Promise<string> => {
  const r = await cli(args);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const write = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const status = async (id: string) => (await fetch(`${node.url}/v1/events/${id}`)).status;
const submitted = async (
  file: string,
): Promise<{ status: string; reason?: string | undefined }> => {
  const r = await cli(['submit', '--url', node.url, '--json', file]);
  const summary = JSON.parse(r.stdout) as { accepted: number; rejections: { reason: string }[] };
  return summary.accepted === 1
    ? { status: 'accepted' }
    : { status: 'rejected', reason: summary.rejections[0]?.reason };
};
const idOf = (text: string): string => (JSON.parse(text) as { id?: string }).id ?? '';
/** POSTs an event's JSON text as it is; the node's verdict (a second copy is a duplicate, with its id). */
const post = async (text: string): Promise<{ status: string; id: string; reason?: string }> => {
  const res = await fetch(`${node.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: text,
  });
  return ((await res.json()) as { result: { status: string; id: string; reason?: string } }).result;
};

beforeAll(async () => {
  expect((await cli(['init', '--data', data])).code).toBe(0);
  node = await startNodeProcess(data);
});
afterAll(async () => {
  node?.child.kill('SIGTERM');
  await node?.exited;
  rmSync(dir, { recursive: true, force: true });
  hsm.remove();
});

describe('identity lifecycle through the CLI, keys in a vault directory', () => {
  let did = '';
  const events: Record<string, string> = {};
  let recoveryId = '';

  it('creates an identity with guardians, and the node takes its inception', async () => {
    const g1 = (await ok(['keygen', '--keystore', `vault:${keys};key=g1`])).trim();
    const g2 = (await ok(['keygen', '--keystore', `vault:${keys};key=g2`])).trim();
    await ok(['keygen', '--keystore', `vault:${keys};key=g3`]);
    const out = await ok([
      'identity',
      'create',
      '--keystore',
      `vault:${keys};key=alice`,
      '--file',
      idFile,
      '--guardian',
      g1,
      '--guardian',
      g2,
      '--guardian-threshold',
      '2',
      '--recovery-delay',
      '1h',
      '--url',
      node.url,
    ]);
    const inception = JSON.parse(out) as { type: string; keys: string[] };
    expect(inception.type).toBe('inception');
    const file = JSON.parse(readFileSync(idFile, 'utf8')) as { did: string; label: string };
    did = file.did;
    expect(did).toMatch(/^did:cs:zQm/);
    expect(JSON.stringify(file)).not.toMatch(/seed|secret|private/i);
    const shown = JSON.parse(await ok(['identity', 'show', '--url', node.url, did])) as {
      state: { status: string; chain: unknown[] };
    };
    expect(shown.state).toMatchObject({ status: 'active', chain: [expect.anything()] });
    // creating again over the same file is refused
    const again = await cli([
      'identity',
      'create',
      '--keystore',
      `vault:${keys};key=alice`,
      '--file',
      idFile,
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('ERR_IDENTITY_FILE_EXISTS');
  });

  it('authors events as the identity, and rotation moves them to the next keys', async () => {
    const e1 = await ok([
      'event',
      'create',
      '--identity',
      idFile,
      '--kind',
      'note',
      '--payload',
      '{"n":1}',
    ]);
    expect(JSON.parse(e1)).toMatchObject({
      author: did,
      key_state: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(await submitted(write('e1.json', e1))).toMatchObject({ status: 'accepted' });
    events['e1'] = (await post(e1)).id; // a duplicate now, with its id
    await sleep(1100); // the rotation is dated after e1
    const rotation = JSON.parse(
      await ok(['identity', 'rotate', '--file', idFile, '--url', node.url]),
    ) as {
      type: string;
    };
    expect(rotation.type).toBe('rotation');
    expect(await status(events['e1'] as string)).toBe(200);
    const e2 = await ok([
      'event',
      'create',
      '--identity',
      idFile,
      '--kind',
      'note',
      '--payload',
      '{"n":2}',
    ]);
    const accepted = await post(e2);
    expect(accepted.status).toBe('accepted');
    events['e2'] = accepted.id;
  });

  it('revoke is the compromise response: the revoked keys invalidate what they signed since', async () => {
    const revocation = JSON.parse(
      await ok(['identity', 'revoke', '--file', idFile, '--since', '1h', '--url', node.url]),
    ) as { type: string; revoked_from: number };
    expect(revocation.type).toBe('revocation');
    expect(await status(events['e2'] as string)).toBe(410);
    expect(await status(events['e1'] as string)).toBe(200); // signed by the keys before them
    const e3 = await ok([
      'event',
      'create',
      '--identity',
      idFile,
      '--kind',
      'note',
      '--payload',
      '{"n":3}',
    ]);
    expect(await submitted(write('e3.json', e3))).toMatchObject({ status: 'accepted' });
    const local = JSON.parse(await ok(['identity', 'show', '--file', idFile])) as {
      chain: { end_cause: string | null }[];
    };
    expect(local.chain.map((k) => k.end_cause)).toEqual(['rotated', 'revoked', null]);
  });

  it('a recovery signed by one guardian is refused; co-signed by a second it is taken', async () => {
    const partial = await ok([
      'identity',
      'recover',
      '--file',
      idFile,
      '--guardian',
      `vault:${keys};key=g1`,
    ]);
    const partialFile = write('recovery-1.json', partial);
    const refused = await cli(['identity', 'submit', '--url', node.url, partialFile]);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({
      status: 'rejected',
      reason: 'ERR_KEL_THRESHOLD_NOT_MET',
    });
    const outsider = await cli([
      'identity',
      'recover',
      '--file',
      idFile,
      '--guardian',
      `vault:${keys};key=g3`,
    ]);
    expect(outsider.code).toBe(1);
    expect(outsider.stderr).toContain('ERR_NOT_A_GUARDIAN');
    const full = await ok([
      'identity',
      'cosign',
      '--keystore',
      `vault:${keys};key=g2`,
      partialFile,
    ]);
    const taken = await ok([
      'identity',
      'submit',
      '--url',
      node.url,
      write('recovery-2.json', full),
    ]);
    expect(JSON.parse(taken)).toMatchObject({ status: 'accepted' });
    recoveryId = idOf(taken);
    const shown = JSON.parse(await ok(['identity', 'show', '--url', node.url, did])) as {
      state: { chain: { type: string }[] };
    };
    expect(shown.state.chain.map((k) => k.type)).toEqual([
      'inception',
      'rotation',
      'revocation',
      'recovery',
    ]);
  });

  it('the replaced keys veto the recovery', async () => {
    const v = JSON.parse(
      await ok(['identity', 'veto', '--file', idFile, '--target', recoveryId, '--url', node.url]),
    ) as { type: string };
    expect(v.type).toBe('veto');
    const shown = JSON.parse(await ok(['identity', 'show', '--url', node.url, did])) as {
      state: { vetoed: string[]; chain: unknown[] };
    };
    expect(shown.state.vetoed).toEqual([recoveryId]);
    expect(shown.state.chain).toHaveLength(3);
  });

  it('every step is in the audit log, and audit verify passes', async () => {
    const r = await cli(['audit', 'verify', '--data', data]);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('identity keys inside SoftHSM2', () => {
  const spec = hsm.spec('ids', 'bob');
  const bobFile = join(dir, 'bob.id.json');

  it('creates, rotates and authors through the token; the node accepts what the HSM signed', async () => {
    const inception = JSON.parse(
      await ok(['identity', 'create', '--keystore', spec, '--file', bobFile, '--url', node.url]),
    ) as { keys: string[] };
    const listed = await ok(['key', 'list', '--keystore', hsm.spec('ids')]);
    expect(listed).toContain('bob.0.0');
    expect(listed).toContain('bob.1.0');
    expect(listed).toContain(inception.keys[0]);
    await sleep(1100);
    await ok(['identity', 'rotate', '--file', bobFile, '--url', node.url]);
    expect(await ok(['key', 'list', '--keystore', hsm.spec('ids')])).toContain('bob.2.0');
    const e = await ok([
      'event',
      'create',
      '--identity',
      bobFile,
      '--kind',
      'note',
      '--payload',
      '"hsm"',
    ]);
    expect(await submitted(write('bob-e.json', e))).toMatchObject({ status: 'accepted' });
    const shown = JSON.parse(await ok(['identity', 'show', '--file', bobFile])) as {
      chain: { keys: string[] }[];
    };
    expect(shown.chain[1]?.keys).toEqual([JSON.parse(e).signatures[0].signer]);
  });
});
