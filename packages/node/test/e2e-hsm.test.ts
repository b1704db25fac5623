/**
 * A node whose identity lives in a SoftHSM2 token, driven through the CLI as a user would:
 * init --keystore pkcs11:..., start (PIN from COMMONS_SYNC_PKCS11_PIN), an author key generated
 * in the token too, events signed through the HSM, submit, then audit verify passes with the
 * HSM's public key. A wrong PIN, no PIN without a terminal, and another key than the recorded
 * one are refused before the node serves.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { checkCheckpointJson } from '../src/audit/client-proof.js';
import { parseDidKey } from '../src/protocol/did.js';
import { nativeCore as core, runCli, startNodeProcess } from './node-fixtures.js';
import { makeSoftHsm, USER_PIN } from './softhsm-fixtures.js';

const hsm = makeSoftHsm();
hsm.initToken('node-token');
process.env['COMMONS_SYNC_PKCS11_PIN'] = USER_PIN; // inherited by the CLI processes
const dir = mkdtempSync(join(tmpdir(), 'cs-e2e-hsm-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  hsm.remove();
});

describe('a node with its identity in SoftHSM2, end to end through the CLI', () => {
  const data = join(dir, 'data');
  const nodeSpec = hsm.spec('node-token', 'node');

  it('init makes the key inside the token and records where it is, with no secret', async () => {
    const init = await runCli(['init', '--data', data, '--keystore', nodeSpec], {
      COMMONS_SYNC_PASSPHRASE: '',
    });
    expect(init.code, init.stderr).toBe(0);
    const did = init.stdout.trim();
    expect(parseDidKey(did).ok).toBe(true);
    const record = JSON.parse(readFileSync(join(data, 'node.keystore'), 'utf8')) as Record<
      string,
      string
    >;
    expect(record).toMatchObject({ type: 'commons-sync-node-keystore', version: 1, did });
    expect(record['keystore']).toContain('token=node-token;key=node');
    expect(JSON.stringify(record)).not.toContain(USER_PIN);
    const listed = await runCli(['key', 'list', '--keystore', hsm.spec('node-token')]);
    expect(listed.stdout).toBe(`node ${did}\n`);
    // Again: the directory keeps its identity.
    const again = await runCli(['init', '--data', data, '--keystore', nodeSpec]);
    expect(again.stdout.trim()).toBe(did);
  });

  it('starts, signs checkpoints through the HSM, and audit verify passes', async () => {
    const author = hsm.spec('node-token', 'author');
    const keygen = await runCli(['keygen', '--keystore', author]);
    expect(keygen.code, keygen.stderr).toBe(0);
    const authorDid = keygen.stdout.trim();
    const files: string[] = [];
    for (let i = 0; i < 3; i++) {
      const made = await runCli([
        'event',
        'create',
        '--keystore',
        author,
        '--kind',
        'note',
        '--payload',
        JSON.stringify({ i }),
      ]);
      expect(made.code, made.stderr).toBe(0);
      expect(JSON.parse(made.stdout)).toMatchObject({ author: authorDid });
      files.push(join(dir, `event-${i}.json`));
      writeFileSync(files[i]!, made.stdout);
    }
    const node = await startNodeProcess(data, [], { COMMONS_SYNC_PASSPHRASE: '' });
    const nodeDid = readFileSync(join(data, 'node.keystore'), 'utf8').match(/did:key:z\w+/)![0];
    try {
      expect(node.did).toBe(nodeDid);
      const submitted = await runCli(['submit', '--url', node.url, '--json', ...files]);
      expect(submitted.code, submitted.stdout + submitted.stderr).toBe(0);
      // The node signs checkpoints through the token (one at open, then on its schedule); the
      // API's checkpoint verifies under the DID recorded at init.
      const cp = (await (await fetch(`${node.url}/v1/audit/checkpoint`)).json()) as Record<
        string,
        string | number
      >;
      expect(cp).toMatchObject({ node: nodeDid, version: 2 });
      expect(checkCheckpointJson(core, cp, nodeDid).seq).toBeGreaterThanOrEqual(1);
    } finally {
      node.child.kill('SIGTERM');
      expect(await node.exited, node.ending()).toBe(0);
    }
    const verified = await runCli(['audit', 'verify', '--data', data]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(
      /audit log intact: \d+ entries, [1-9]\d* checkpoints, 3 events/,
    );
  });

  it('refuses to start with a wrong PIN, without a PIN, or with another key than its own', async () => {
    const wrong = await runCli(['start', '--data', data, '--port', '0'], {
      COMMONS_SYNC_PKCS11_PIN: '999999',
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/ERR_PKCS11_PIN/);
    const none = await runCli(['start', '--data', data, '--port', '0'], {
      COMMONS_SYNC_PKCS11_PIN: '',
    });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/ERR_PIN_UNAVAILABLE/);
    const other = await runCli([
      'start',
      '--data',
      data,
      '--port',
      '0',
      '--keystore',
      hsm.spec('node-token', 'author'),
    ]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/ERR_NODE_IDENTITY_MISMATCH/);
    const replace = await runCli([
      'init',
      '--data',
      data,
      '--keystore',
      hsm.spec('node-token', 'author'),
    ]);
    expect(replace.code).toBe(1);
    expect(replace.stderr).toMatch(/ERR_NODE_IDENTITY_EXISTS/);
    const noBackup = await runCli([
      'key',
      'backup',
      'split',
      '--keystore',
      nodeSpec,
      '--shares',
      '3',
      '--threshold',
      '2',
      '--out',
      join(dir, 'shares'),
    ]);
    expect(noBackup.code).toBe(1);
    expect(noBackup.stderr).toMatch(/ERR_KEY_NOT_EXPORTABLE/);
  });
});
