/**
 * Shamir backup of a vault key through the CLI: `key backup split` writes N share files, any M
 * of which `key backup combine` restores to the same identity (same DID, same signatures); M-1
 * shares, a corrupted share, a share of another key and an altered share whose checksum was
 * recomputed are each refused with their own code, and no key file is written.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { fixedSecrets } from '../src/keys/keystore.js';
import { VaultKeystore } from '../src/keys/vault.js';
import { nativeCore as core, PASSPHRASE, runCli } from './node-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'cs-backup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectFailure(run: { code: number | null; stderr: string }, code: string): void {
  expect(run.code, run.stderr).toBe(1);
  expect(run.stderr).toContain(code);
}

describe('key backup split | combine', () => {
  const key = join(dir, 'guarded.key');
  const sharesDir = join(dir, 'shares');
  let did = '';
  let shares: string[] = [];

  it('splits a vault key into N share files, mode 0600', async () => {
    did = (await runCli(['keygen', '--out', key])).stdout.trim();
    const split = await runCli([
      'key',
      'backup',
      'split',
      '--key',
      key,
      '--shares',
      '5',
      '--threshold',
      '3',
      '--out',
      sharesDir,
    ]);
    expect(split.code, split.stderr).toBe(0);
    shares = split.stdout.trim().split('\n');
    expect(shares).toEqual(
      [1, 2, 3, 4, 5].map((i) => join(sharesDir, `guarded-share-${i}-of-5.json`)),
    );
    for (const [i, file] of shares.entries()) {
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
        type: 'commons-sync-key-share',
        version: 1,
        did,
        threshold: 3,
        shares: 5,
        index: i + 1,
      });
    }
    const again = await runCli([
      'key',
      'backup',
      'split',
      '--key',
      key,
      '--shares',
      '5',
      '--threshold',
      '3',
      '--out',
      sharesDir,
    ]);
    expectFailure(again, 'ERR_SHARE_FILE_EXISTS');
  });

  it('any 3 of the 5 restore the same key: same DID, same signatures', async () => {
    for (const [n, pick] of [
      [1, [0, 1, 2]],
      [2, [4, 2, 0]],
      [3, [1, 3, 4]],
    ] as const) {
      const out = join(dir, `restored-${n}.key`);
      const combined = await runCli([
        'key',
        'backup',
        'combine',
        ...pick.map((i) => shares[i]!),
        '--out',
        out,
      ]);
      expect(combined.code, combined.stderr).toBe(0);
      expect(combined.stdout.trim()).toBe(did);
      // Ed25519 is deterministic: the restored key signs exactly as the original.
      const message = new TextEncoder().encode('same key?');
      const signatures = [];
      for (const path of [key, out]) {
        const vault = await VaultKeystore.open(path, {
          core,
          secrets: fixedSecrets({ passphrase: PASSPHRASE }),
        });
        signatures.push(
          Buffer.from(await vault.sign((await vault.list())[0]!, message)).toString('hex'),
        );
        await vault.close();
      }
      expect(signatures[1]).toBe(signatures[0]);
    }
  });

  it('2 of 3 needed shares are refused and say how many are needed', async () => {
    const out = join(dir, 'too-few.key');
    const run = await runCli(['key', 'backup', 'combine', shares[0]!, shares[3]!, '--out', out]);
    expectFailure(run, 'ERR_SHAMIR_TOO_FEW');
    expect(run.stderr).toContain('3 shares are needed to combine, got 2');
    expect(existsSync(out)).toBe(false);
  });

  it('a corrupted share is detected by its checksum', async () => {
    const file = JSON.parse(readFileSync(shares[1]!, 'utf8')) as { share: string };
    const at = 40; // inside the share values
    file.share =
      file.share.slice(0, at) + (file.share[at] === '0' ? '1' : '0') + file.share.slice(at + 1);
    const corrupt = join(dir, 'corrupt.json');
    writeFileSync(
      corrupt,
      JSON.stringify({ ...JSON.parse(readFileSync(shares[1]!, 'utf8')), share: file.share }),
    );
    const out = join(dir, 'corrupt.key');
    expectFailure(
      await runCli(['key', 'backup', 'combine', shares[0]!, corrupt, shares[2]!, '--out', out]),
      'ERR_SHAMIR_CHECKSUM',
    );
    expect(existsSync(out)).toBe(false);
  });

  it('an altered share with a recomputed checksum restores another key: ERR_SHAMIR_WRONG_KEY', async () => {
    const file = JSON.parse(readFileSync(shares[2]!, 'utf8')) as { share: string };
    const bytes = Buffer.from(file.share, 'hex');
    bytes[20]! ^= 0x55;
    const body = bytes.subarray(0, bytes.length - 4);
    const sum = createHash('sha256')
      .update('commons-sync/shamir/v1')
      .update(body)
      .digest()
      .subarray(0, 4);
    const forged = join(dir, 'forged.json');
    writeFileSync(
      forged,
      JSON.stringify({ ...file, share: Buffer.concat([body, sum]).toString('hex') }),
    );
    const out = join(dir, 'forged.key');
    expectFailure(
      await runCli(['key', 'backup', 'combine', shares[0]!, shares[1]!, forged, '--out', out]),
      'ERR_SHAMIR_WRONG_KEY',
    );
    expect(existsSync(out)).toBe(false);
  });

  it('shares of two different keys, a non-share file and an existing --out are refused', async () => {
    const other = join(dir, 'other.key');
    await runCli(['keygen', '--out', other]);
    const otherShares = (
      await runCli([
        'key',
        'backup',
        'split',
        '--key',
        other,
        '--shares',
        '3',
        '--threshold',
        '2',
        '--out',
        join(dir, 'other-shares'),
      ])
    ).stdout
      .trim()
      .split('\n');
    expectFailure(
      await runCli([
        'key',
        'backup',
        'combine',
        shares[0]!,
        shares[1]!,
        otherShares[0]!,
        '--out',
        join(dir, 'mixed.key'),
      ]),
      'ERR_SHAMIR_MISMATCH',
    );
    expectFailure(
      await runCli(['key', 'backup', 'combine', key, '--out', join(dir, 'x.key')]),
      'ERR_SHARE_FILE',
    );
    expectFailure(
      await runCli(['key', 'backup', 'combine', shares[0]!, shares[1]!, shares[2]!, '--out', key]),
      'ERR_KEYFILE_EXISTS',
    );
    const usage = await runCli([
      'key',
      'backup',
      'split',
      '--key',
      key,
      '--shares',
      '2',
      '--threshold',
      '3',
      '--out',
      join(dir, 'u'),
    ]);
    expect(usage.code).toBe(2);
  });
});
