/**
 * The network flags of `commons-sync start` and `commons-sync peers`, through the built CLI: a
 * config file names the peers and the admission set as the flags do; what cannot be used is
 * refused before the node opens (an open node with peers but no --admit, a malformed peer
 * address or identity, a config file with unknown keys), and `peers` against a node without
 * its network part says so.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { dataDir, health, runCleanup, startNode, until } from './net-process-fixtures.js';
import { makeEvents, postEvents, runCli, startNodeProcess } from './node-fixtures.js';

afterEach(runCleanup);

describe('start: the network flags', () => {
  it('takes its peers and admission set from a config file', async () => {
    const [a, b] = await Promise.all([dataDir('cfg-a'), dataDir('cfg-b')]);
    const na = await startNode(a.dir, ['--open', '--admit', `${a.did},${b.did}`]);
    const config = join(b.dir, 'network.json');
    writeFileSync(
      config,
      JSON.stringify({ peers: [`127.0.0.1:${na.sync.port}`], admit: [a.did, b.did] }),
    );
    const nb = await startNode(b.dir, ['--open', '--config', config]);
    expect((await postEvents(na.url, makeEvents(25, 2, 'cfg-events'))).status).toBe(200);
    await until('b has them', async () => (await health(nb.url)).events === 25);
    const peers = await runCli(['peers', '--url', nb.url]);
    expect(peers.code, peers.stderr).toBe(0);
    expect(peers.stdout).toMatch(
      new RegExp(`^${a.did} +127\\.0\\.0\\.1:${na.sync.port} +ready `, 'm'),
    );
    const json = JSON.parse((await runCli(['peers', '--url', nb.url, '--json'])).stdout) as {
      peers: { did: string; events_accepted: number }[];
    };
    expect(json.peers).toMatchObject([{ did: a.did, events_accepted: 25 }]);
  });

  it('refuses what it cannot use before opening the node', async () => {
    const { dir, did } = await dataDir('cfg-bad');
    const usage = async (args: string[], message: RegExp) => {
      const run = await runCli(['start', '--data', dir, '--port', '0', ...args]);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stdout).toBe('');
    };
    await usage(['--open', '--peer', '127.0.0.1:7711'], /give --admit DIDS/);
    await usage(['--open', '--admit', did, '--peer', 'localhost'], /--peer must be HOST:PORT/);
    await usage(
      ['--open', '--admit', did, '--peer', '127.0.0.1:70000'],
      /--peer must be HOST:PORT/,
    );
    await usage(['--open', '--admit', 'did:key:zNope'], /--admit did:key:zNope/);
    await usage(
      ['--open', '--admit', did, '--sync-port', 'x'],
      /--sync-port must be a whole number/,
    );
    const config = join(dir, 'bad.json');
    writeFileSync(config, JSON.stringify({ peers: [], admit: [did], port: 1 }));
    const bad = await runCli(['start', '--data', dir, '--open', '--config', config]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unknown key "port"/);
    writeFileSync(config, '{"peers": "127.0.0.1:1"}');
    const wrong = await runCli(['start', '--data', dir, '--open', '--config', config]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/peers is an array of strings/);
    // with --trusted the trusted set is the admission set: no --admit needed
    const trusted = await startNode(dir, ['--trusted', did]);
    expect(trusted.did).toBe(did);
  });

  it('peers: a node without its network part answers 404, and the command says so', async () => {
    const { dir } = await dataDir('cfg-alone');
    const alone = await startNodeProcess(dir);
    try {
      const res = await fetch(`${alone.url}/v1/peers`);
      expect(res.status).toBe(404);
      const run = await runCli(['peers', '--url', alone.url]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/GET \/v1\/peers answered 404: ERR_NOT_FOUND/);
    } finally {
      alone.child.kill('SIGTERM');
      await alone.exited;
    }
  });
});
