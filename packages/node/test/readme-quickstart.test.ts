/**
 * The README's shell blocks, run as written: "A node from the command line" (the CLI quick
 * start) and "A network of nodes" (three nodes started by hand with --peer) are taken from
 * README.md and run by bash, with `npx commons-sync ...` resolved by npm
 * from the checkout as `npm start` / `npm test` / `npm run build` leave it. A broken bin link
 * (npm links a workspace's bin only if its file exists at install time) or a stale command in
 * the README fails here.
 *
 * One change to the text: the fixed ports (7700; 7701-7703 and 7711-7713) become free ports, so
 * that parallel runs on one machine do not collide. The block runs in a fresh folder inside the repository (npx finds the
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

/** Runs a README block with bash in a fresh folder of the repository; stops what it started. */
async function runBlock(
  script: string,
  timeoutMs: number,
): Promise<{ code: number | null; out: string; cwd: string; stopped: boolean }> {
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  const cwd = mkdtempSync(join(ROOT, '.cache', 'readme-block-'));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('COMMONS_SYNC_')) env[k] = v;
  env['npm_config_offline'] = 'true'; // a bin that is not linked must fail, not be downloaded
  env['npm_config_update_notifier'] = 'false';
  // its own process group, so that the nodes it starts in the background can be stopped
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
  const deadline = setTimeout(() => process.kill(-(bash.pid as number), 'SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => bash.on('exit', (c) => resolve(c)));
  clearTimeout(deadline);
  try {
    process.kill(-(bash.pid as number), 'SIGTERM'); // the nodes it started in the background
  } catch {
    // nothing left running
  }
  const stopped = await Promise.race([
    allClosed.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), 15_000)),
  ]);
  if (!stopped) process.kill(-(bash.pid as number), 'SIGKILL');
  return { code, out, cwd, stopped };
}

describe('README', () => {
  it('three nodes started by hand with --peer exchange events, as written', async () => {
    const block = shellBlock('A network of nodes');
    expect(block).toMatch(/--peer 127\.0\.0\.1:7711/);
    let script = `set -e\n${block}`;
    for (const port of ['7701', '7702', '7703', '7711', '7712', '7713'])
      script = script.replaceAll(port, String(await freePort()));
    const { code, out, cwd, stopped } = await runBlock(script, 150_000);
    try {
      expect(code, out).toBe(0);
      expect(out).toMatch(/^accepted: +1$/m); // submitted to node 1
      // node 3's peers: nodes 1 and 2, both connected
      expect(out).toMatch(/^PEER +ADDRESS +STATE/m);
      expect(out.match(/^did:key:z6Mk\S+ +127\.0\.0\.1:\d+ +ready /gm)).toHaveLength(2);
      expect(stopped).toBe(true);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 180_000);

  it('the CLI quick start runs as written: init, start, keygen, event create, submit, audit verify', async () => {
    const block = shellBlock('A node from the command line');
    expect(block).toMatch(/npx commons-sync init/);
    expect(block).toMatch(/7700/);
    const port = await freePort();
    const script = `set -e\n${block.replaceAll('7700', String(port))}`;
    const { code, out, cwd, stopped } = await runBlock(script, 120_000);
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
    const port = await freePort();
    const script = `set -e\n${block.replaceAll('7710', String(port))}`;
    const { code, out, cwd, stopped } = await runBlock(script, 180_000);
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
    const port = await freePort();
    const script = `set -e\n${block.replaceAll('7720', String(port))}`;
    const { code, out, stopped, cwd } = await runBlock(script, 180_000);
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
  }, 240_000);
});
