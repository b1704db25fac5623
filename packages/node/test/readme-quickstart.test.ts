/**
 * The README's CLI quick start, run as written: the shell block of "A node from the command
 * line" is taken from README.md and run by bash, with `npx commons-sync ...` resolved by npm
 * from the checkout as `npm start` / `npm test` / `npm run build` leave it. A broken bin link
 * (npm links a workspace's bin only if its file exists at install time) or a stale command in
 * the README fails here.
 *
 * One change to the text: the fixed port 7700 becomes a free port, so that parallel runs on one
 * machine do not collide. The block runs in a fresh folder inside the repository (npx finds the
 * project's bin from there), with npm offline so that a missing bin can never be fetched instead.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The first ```sh block after the heading. */
function shellBlock(heading: string): string {
  const at = README.indexOf(`## ${heading}`);
  if (at < 0) throw new Error(`README.md has no section "${heading}"`);
  const m = /```sh\n([\s\S]*?)```/.exec(README.slice(at));
  if (m === null) throw new Error(`no sh block under "${heading}"`);
  return m[1] as string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Runs a README block in a fresh folder of the repository; its exit code and output. */
async function runBlock(
  block: string,
  ports: readonly string[],
): Promise<{ code: number | null; out: string; stopped: boolean; cwd: string }> {
  let script = `set -e\n${block}`;
  for (const p of ports) script = script.replaceAll(p, String(await freePort()));
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  const cwd = mkdtempSync(join(ROOT, '.cache', 'readme-quickstart-'));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('COMMONS_SYNC_')) env[k] = v;
  env['npm_config_offline'] = 'true'; // a bin that is not linked must fail, not be downloaded
  env['npm_config_update_notifier'] = 'false';

  // its own process group, so that the node it starts in the background can be stopped
  const bash = spawn('bash', ['-c', script], {
    cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  bash.stdout.on('data', (d: Buffer) => (out += d.toString()));
  bash.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const allClosed = new Promise<void>((resolve) => bash.stdout.on('close', () => resolve()));
  const code = await new Promise<number | null>((resolve) => bash.on('exit', (c) => resolve(c)));
  try {
    process.kill(-(bash.pid as number), 'SIGTERM'); // the background `commons-sync start`
  } catch {
    // nothing left running
  }
  const stopped = await Promise.race([
    allClosed.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), 15_000)),
  ]);
  if (!stopped) process.kill(-(bash.pid as number), 'SIGKILL');
  return { code, out, stopped, cwd };
}

describe('README', () => {
  it('the CLI quick start runs as written: init, start, keygen, event create, submit, audit verify', async () => {
    const block = shellBlock('A node from the command line');
    expect(block).toMatch(/npx commons-sync init/);
    expect(block).toMatch(/7700/);
    const { code, out, stopped, cwd } = await runBlock(block, ['7700']);
    try {
      expect(code, out).toBe(0);
      expect(out).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/); // start prints its DID and URL
      expect(out).toMatch(/did:key:z6Mk/);
      expect(out).toMatch(/^accepted: +1$/m); // the submitted event
      expect(out).toMatch(/^rejected: +0$/m);
      expect(out).toMatch(/^audit log intact: \d+ entries, \d+ checkpoints, 1 events$/m); // audit verify while the node runs
      expect(existsSync(join(cwd, 'data', 'node.key'))).toBe(true);
      expect(existsSync(join(cwd, 'alice.key'))).toBe(true);
      expect(stopped).toBe(true);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('the identity walk-through runs as written: create, author, rotate, revoke, recover, veto, verify', async () => {
    const block = shellBlock('Identities that survive their keys');
    expect(block).toMatch(/identity create/);
    const { code, out, stopped, cwd } = await runBlock(block, ['7710']);
    try {
      expect(code, out).toBe(0);
      expect(out).toMatch(/^accepted: +1$/m); // the note by the identity
      for (const step of ['inception', 'rotation', 'revocation', 'veto']) // (the recovery goes to a file)
        expect(out, step).toContain(`"type":"${step}"`);
      // create, rotate, revoke and veto, each submitted with --url and accepted by the node
      expect(out.match(/^accepted by http:\/\/127\.0\.0\.1:\d+: [0-9a-f]{64}$/gm)).toHaveLength(4);
      expect(out).toMatch(/"status":"accepted"/); // identity submit of the co-signed recovery
      expect(out).toMatch(/"identity": "did:cs:zQm/); // identity show
      expect(out).toMatch(/^audit log intact: \d+ entries, \d+ checkpoints, 1 events$/m);
      const state = JSON.parse(
        out.slice(
          out.indexOf('{\n  "identity"'),
          out.indexOf('\n}\n', out.indexOf('{\n  "identity"')) + 2,
        ),
      ) as {
        chain: { type: string }[];
        vetoed: string[];
      };
      expect(state.chain.map((k) => k.type)).toEqual(['inception', 'rotation', 'revocation']);
      expect(state.vetoed).toHaveLength(1);
      expect(stopped).toBe(true);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('the governance walk-through runs as written: root by quorum, admission, refusals, attest, explain', async () => {
    const block = shellBlock('Governance: trust roots changed by quorum');
    expect(block).toMatch(/trust root init/);
    const { code, out, stopped, cwd } = await runBlock(block, ['7720']);
    try {
      expect(code, out).toBe(0);
      expect(out).toMatch(/"msg":"governed by a trust root/); // the start says so
      // the first root: one of two signatures, then complete
      expect(out).toMatch(/^signed by 1 of 3 members; root-change threshold 2$/m);
      // the admission: one signature missing, refused with one, applied with two
      expect(out).toMatch(/^missing: 1 signature$/m);
      expect(out).toMatch(/rejected by http:\/\/127\.0\.0\.1:\d+: ERR_GOV_THRESHOLD_NOT_MET/);
      expect(out).toMatch(/^one signature: refused$/m);
      expect(out).toMatch(
        /accepted by http:\/\/127\.0\.0\.1:\d+: [0-9a-f]{64} \(action, applied\)/,
      );
      expect(out).toMatch(/accepted by http:\/\/127\.0\.0\.1:\d+: [0-9a-f]{64} \(root, in-force\)/);
      // the rollback: no signature can help, and the node refuses it
      expect(out).toMatch(/^blocked: ERR_GOV_ROLLBACK/m);
      expect(out).toMatch(/rejected by http:\/\/127\.0\.0\.1:\d+: ERR_GOV_ROLLBACK/);
      expect(out).toMatch(/^rollback: refused$/m);
      // alice: refused, explained, attested, accepted
      expect(out).toMatch(/ERR_UNTRUSTED_AUTHOR: 1/);
      expect(out).toMatch(/^alice: not trusted$/m);
      expect(out).toMatch(/is NOT trusted for note at .* \(ERR_TRUST_NO_PATH\)$/m);
      expect(out).toMatch(/is trusted for note at .* \(paths\)$/m);
      expect(out).toMatch(/^path 1: did:key:z6Mk\w+ -> did:key:z6Mk\w+ \[[0-9a-f]{16}\]$/m);
      expect(out).toMatch(/^accepted: +1$/m);
      expect(out).toMatch(/\(attestation-revocation, valid\)/);
      expect(out).toMatch(/"mode": "governed"/); // root show --url
      expect(out).toMatch(/"version": 2/);
      expect(out).toMatch(/^audit log intact: \d+ entries, \d+ checkpoints, 1 events$/m);
      expect(stopped).toBe(true);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
