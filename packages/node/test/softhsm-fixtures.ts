/**
 * Real SoftHSM2 tokens for tests: a private token directory and config per test file, tokens
 * initialised with `softhsm2-util --init-token`. SOFTHSM2_CONF is set in this process (the
 * module reads it at C_Initialize) and passed to child processes by the CLI tests.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
export const USER_PIN = '246810';
export const SO_PIN = '13579111';

export interface SoftHsm {
  readonly dir: string;
  readonly conf: string;
  /** Initialises a token labelled `label` with USER_PIN. */
  initToken(label: string): void;
  /** `pkcs11:module=...;token=LABEL;key=KEY` */
  spec(token: string, key?: string): string;
  remove(): void;
}

export function makeSoftHsm(): SoftHsm {
  const dir = mkdtempSync(join(tmpdir(), 'cs-softhsm-'));
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens);
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(
    conf,
    `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`,
  );
  process.env['SOFTHSM2_CONF'] = conf;
  return {
    dir,
    conf,
    initToken(label) {
      execFileSync(
        'softhsm2-util',
        ['--init-token', '--free', '--label', label, '--pin', USER_PIN, '--so-pin', SO_PIN],
        {
          env: { ...process.env, SOFTHSM2_CONF: conf },
          stdio: 'pipe',
        },
      );
    },
    spec: (token, key) =>
      `pkcs11:module=${SOFTHSM_MODULE};token=${token}${key === undefined ? '' : `;key=${key}`}`,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
