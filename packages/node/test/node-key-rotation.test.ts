/**
 * Rotating the node's own key (spec/AUDIT.md §5.4): through the CLI as an operator does it
 * (twice, with events and checkpoints between), `audit verify` follows every rotation; a crash
 * between the log entry and the record is finished at the next open; and the verifier refuses
 * rotations that only one of the two keys signed, that name a root the log did not have, that
 * do not end at the recorded key, and checkpoints signed by a key out of turn.
 */
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import {
  NODE_KEY_ROTATED,
  type NodeKeyRotation,
  nodeKeyRotationDetail,
  nodeKeyRotationMessage,
} from '../src/audit/node-key.js';
import { fixedSecrets } from '../src/keys/keystore.js';
import {
  NODE_KEYSTORE_FILE,
  NODE_KEYSTORE_NEXT_FILE,
  readNodeIdentity,
} from '../src/keys/node-identity.js';
import { initDataDir, verifyAudit } from '../src/node.js';
import { rotateNodeKey } from '../src/node-key-rotation.js';
import { Store, verifyAuditData } from '../src/storage/index.js';
import {
  nativeCore as core,
  makeEvents,
  PASSPHRASE,
  runCli,
  startNodeProcess,
} from './node-fixtures.js';
import { makeSoftHsm, USER_PIN } from './softhsm-fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'cs-node-key-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(root, `d${n++}`);

async function submit(url: string, events: unknown[]): Promise<void> {
  const res = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(events),
  });
  const body = (await res.json()) as { results: { status: string }[] };
  expect(body.results.map((r) => r.status)).toEqual(events.map(() => 'accepted'));
}

function seedSigner(byte: number) {
  const seed = new Uint8Array(32).fill(byte);
  return {
    publicKey: core.ed25519PublicKey(seed),
    sign: (m: Uint8Array) => core.ed25519Sign(seed, m),
  };
}

describe('rotating the node key', () => {
  it('rotate-key twice through the CLI: the node runs under each new key and audit verify follows', async () => {
    const data = fresh();
    const init = await runCli(['init', '--data', data]);
    expect(init.code, init.stderr).toBe(0);
    const dids = [init.stdout.trim()];
    const events = makeEvents(6, 3, 'rotation');
    for (let round = 0; round < 3; round++) {
      const node = await startNodeProcess(data);
      try {
        expect(node.did).toBe(dids[round]);
        await submit(node.url, events.slice(2 * round, 2 * round + 2));
        // checkpoints are signed by the key in force (the first, at start, covers the rotation)
        const cp = (await (await fetch(`${node.url}/v1/audit/checkpoint`)).json()) as {
          node: string;
        };
        expect(cp.node).toBe(dids[round]);
      } finally {
        node.child.kill('SIGTERM');
        expect(await node.exited, node.ending()).toBe(0);
      }
      if (round === 2) break;
      const rotated = await runCli(['rotate-key', '--data', data]);
      expect(rotated.code, rotated.stderr).toBe(0);
      const did = rotated.stdout.trim();
      expect(did).toMatch(/^did:key:z/);
      expect(dids).not.toContain(did);
      expect(rotated.stderr).toContain(`${dids[round]} -> ${did}`);
      dids.push(did);
    }
    expect(existsSync(join(data, 'node-2.key'))).toBe(true);
    expect(existsSync(join(data, 'node-3.key'))).toBe(true);
    const verify = await runCli(['audit', 'verify', '--data', data]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/audit log intact: \d+ entries, \d+ checkpoints, 6 events/);
    // the rotations are in the log, each from the key before
    const store = Store.open(data, core);
    try {
      const details = store.entryDetailsWithReason(NODE_KEY_ROTATED).map((d) => JSON.parse(d));
      expect(details).toHaveLength(2);
      expect(details[0].to).toBe(details[1].from);
    } finally {
      store.close();
    }
    // the old key file cannot start the node any more: the directory names the new key
    expect((await readNodeIdentity(data))?.did).toBe(dids[2]);
  }, 120_000);

  it('rotates a vault-held node key into a SoftHSM2 token: the node then signs through the HSM', async () => {
    const hsm = makeSoftHsm();
    try {
      hsm.initToken('rotated');
      const data = fresh();
      const init = await runCli(['init', '--data', data]);
      expect(init.code, init.stderr).toBe(0);
      const pin = { COMMONS_SYNC_PKCS11_PIN: USER_PIN };
      const rotated = await runCli(
        ['rotate-key', '--data', data, '--keystore', hsm.spec('rotated', 'node')],
        pin,
      );
      expect(rotated.code, rotated.stderr).toBe(0);
      const listed = await runCli(['key', 'list', '--keystore', hsm.spec('rotated')], pin);
      expect(listed.stdout).toBe(`node ${rotated.stdout.trim()}\n`);
      const node = await startNodeProcess(data, [], pin);
      try {
        expect(node.did).toBe(rotated.stdout.trim());
        await submit(node.url, makeEvents(2, 2, 'hsm-rotation'));
      } finally {
        node.child.kill('SIGTERM');
        expect(await node.exited, node.ending()).toBe(0);
      }
      const verify = await runCli(['audit', 'verify', '--data', data]);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      // the key is in the token now: a wrong PIN opens nothing, so nothing is rotated
      const wrong = await runCli(['rotate-key', '--data', data], {
        COMMONS_SYNC_PKCS11_PIN: '0000',
      });
      expect(wrong.code).toBe(1);
    } finally {
      hsm.remove();
    }
  }, 120_000);

  it('refuses a rotation to the current key, and a directory without a node', async () => {
    const data = fresh();
    await initDataDir(data, PASSPHRASE, { core, scryptN: 32768 });
    await expect(
      rotateNodeKey({
        dataDir: data,
        secrets: PASSPHRASE,
        core,
        keystore: `vault:${join(data, 'node.key')};key=node`,
      }),
    ).rejects.toMatchObject({ code: 'ERR_NODE_KEY_UNCHANGED' });
    await expect(
      rotateNodeKey({ dataDir: fresh(), secrets: PASSPHRASE, core }),
    ).rejects.toMatchObject({
      code: 'ERR_NO_DATA_DIR',
    });
    expect((await verifyAudit(data, core)).ok).toBe(true);
  });

  it('finishes a rotation interrupted after its log entry, and drops one interrupted before', async () => {
    const data = fresh();
    const { did } = await initDataDir(data, PASSPHRASE, { core, scryptN: 32768 });
    const r = await rotateNodeKey({
      dataDir: data,
      secrets: fixedSecrets({ passphrase: PASSPHRASE }),
      core,
    });
    expect(r.from).toBe(did);
    // as if the process died before the record was replaced
    renameSync(join(data, NODE_KEYSTORE_FILE), join(data, NODE_KEYSTORE_NEXT_FILE));
    expect((await readNodeIdentity(data))?.did).toBe(did);
    const v = await verifyAudit(data, core); // finishes it, then verifies
    expect(v.ok, JSON.stringify(v)).toBe(true);
    expect((await readNodeIdentity(data))?.did).toBe(r.to);
    expect(existsSync(join(data, NODE_KEYSTORE_NEXT_FILE))).toBe(false);

    // a pending record whose rotation never reached the log is dropped
    // (a record of another directory's rotation: a valid record, but not this log's rotation)
    const data2 = fresh();
    await initDataDir(data2, PASSPHRASE, { core, scryptN: 32768 });
    await rotateNodeKey({ dataDir: data2, secrets: PASSPHRASE, core });
    const data3 = fresh();
    await initDataDir(data3, PASSPHRASE, { core, scryptN: 32768 });
    renameSync(join(data2, NODE_KEYSTORE_FILE), join(data3, NODE_KEYSTORE_NEXT_FILE));
    const before = (await readNodeIdentity(data3))?.did;
    expect((await verifyAudit(data3, core)).ok).toBe(true);
    expect((await readNodeIdentity(data3))?.did).toBe(before);
    expect(existsSync(join(data3, NODE_KEYSTORE_NEXT_FILE))).toBe(false);
  });
});

describe('audit verify holds rotations to the rules', () => {
  const A = seedSigner(1);
  const B = seedSigner(2);
  const C = seedSigner(3);

  /** A log: checkpoint by `before`, the rotation, a checkpoint by `after`. */
  function logWith(
    rotate: (r: Pick<NodeKeyRotation, 'treeSize' | 'root' | 'from' | 'to'>) => NodeKeyRotation,
    after = B,
  ): string {
    const d = fresh();
    const store = Store.open(d, core);
    try {
      store.commit([], [{ type: 'critical', reason: 'TEST', detail: {} }]);
      store.audit.checkpoint(A);
      const base = {
        treeSize: store.audit.size,
        root: store.audit.root(),
        from: A.publicKey,
        to: B.publicKey,
      };
      store.commit(
        [],
        [
          {
            type: 'critical',
            reason: NODE_KEY_ROTATED,
            detail: nodeKeyRotationDetail(rotate(base)),
          },
        ],
      );
      store.audit.checkpoint(after);
    } finally {
      store.close();
    }
    return d;
  }
  const signedBy =
    (from: typeof A, to: typeof A) =>
    (b: Pick<NodeKeyRotation, 'treeSize' | 'root' | 'from' | 'to'>) => {
      const msg = nodeKeyRotationMessage(b);
      return { ...b, fromSignature: from.sign(msg), toSignature: to.sign(msg) };
    };

  it('accepts a rotation signed by both keys, with B as the node key', () => {
    const d = logWith(signedBy(A, B));
    expect(verifyAuditData(d, core, { publicKey: B.publicKey })).toMatchObject({
      ok: true,
      checkpoints: 2,
    });
    expect(verifyAuditData(d, core)).toMatchObject({ ok: true });
  });

  it('refuses a rotation that only the old key signed (another key in place of the new one)', () => {
    const d = logWith(signedBy(A, C));
    expect(verifyAuditData(d, core, { publicKey: B.publicKey })).toMatchObject({
      ok: false,
      firstBad: {
        table: 'audit_entries',
        row: 2,
        what: 'node key rotation signatures do not verify',
      },
    });
  });

  it('refuses a rotation that only the new key signed (a thief splicing in its key)', () => {
    const d = logWith(signedBy(C, B));
    expect(verifyAuditData(d, core)).toMatchObject({
      ok: false,
      firstBad: { row: 2, what: 'node key rotation signatures do not verify' },
    });
  });

  it('refuses a rotation naming a root the log did not have', () => {
    const d = logWith((b) => signedBy(A, B)({ ...b, root: new Uint8Array(32).fill(7) }));
    expect(verifyAuditData(d, core)).toMatchObject({
      ok: false,
      firstBad: { row: 2, what: 'node key rotation names a root the log did not have' },
    });
  });

  it('refuses rotations that do not end at the recorded node key', () => {
    const d = logWith(signedBy(A, B));
    expect(verifyAuditData(d, core, { publicKey: A.publicKey })).toMatchObject({
      ok: false,
      firstBad: { row: 2, what: 'the node key rotations do not end at the node key' },
    });
  });

  it('refuses a checkpoint after the rotation signed by the old key', () => {
    const d = logWith(signedBy(A, B), A);
    expect(verifyAuditData(d, core, { publicKey: B.publicKey })).toMatchObject({
      ok: false,
      firstBad: { table: 'checkpoints', row: 2, what: 'signed by a key other than the node key' },
    });
  });
});
