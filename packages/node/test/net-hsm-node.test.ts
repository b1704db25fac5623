/**
 * A node whose identity lives in a SoftHSM2 token joins a network: its TLS certificate binding
 * is signed inside the token (through the keystore, via PKCS#11), its peer admits the identity
 * the token holds, and events cross both ways. Real processes, real TLS, real PKCS#11.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { dataDir, health, peersOf, runCleanup, startNode, until } from './net-process-fixtures.js';
import { makeEvents, postEvents, runCli } from './node-fixtures.js';
import { makeSoftHsm, USER_PIN } from './softhsm-fixtures.js';

const hsm = makeSoftHsm();
hsm.initToken('peer-token');
process.env['COMMONS_SYNC_PKCS11_PIN'] = USER_PIN; // inherited by the node processes
const dir = mkdtempSync(join(tmpdir(), 'cs-net-hsm-'));
afterEach(runCleanup);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  hsm.remove();
});

describe('a node with its identity in an HSM, on the network', () => {
  it('binds its TLS certificate through the token and exchanges events with its peer', async () => {
    const hsmData = join(dir, 'hsm-node');
    const init = await runCli(
      ['init', '--data', hsmData, '--keystore', hsm.spec('peer-token', 'node')],
      {
        COMMONS_SYNC_PASSPHRASE: '',
      },
    );
    expect(init.code, init.stderr).toBe(0);
    const hsmDid = init.stdout.trim();
    const vault = await dataDir('hsm-peer');
    const admit = ['--open', '--admit', [hsmDid, vault.did].join(',')];
    const plain = await startNode(vault.dir, admit);
    const inHsm = await startNode(hsmData, [
      ...admit,
      '--peer',
      `${plain.sync.host}:${plain.sync.port}`,
    ]);
    expect(inHsm.did).toBe(hsmDid);
    await until('connected', async () =>
      (await peersOf(plain.url)).peers.some((p) => p.did === hsmDid && p.state === 'ready'),
    );
    expect((await postEvents(plain.url, makeEvents(30, 3, 'hsm-net-a'))).status).toBe(200);
    expect((await postEvents(inHsm.url, makeEvents(20, 3, 'hsm-net-b'))).status).toBe(200);
    for (const n of [plain, inHsm])
      await until('both sides', async () => (await health(n.url)).events === 50);
  });
});
