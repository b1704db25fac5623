/**
 * A network of node processes on this machine, started exactly as an operator starts them
 * (`commons-sync init`, then `commons-sync start --peer ... --admit ...`), for `commons-sync
 * demo` and the network benchmark. Each node gets its own data directory under one folder, an
 * API and a sync port picked by the system, and every other node as a peer (node i dials the
 * nodes before it). `stop` ends them with SIGTERM (a graceful close), then SIGKILL after a
 * deadline; nothing is left running.
 *
 * Also here: a load generator that signs events with a throwaway author key and posts them in
 * batches over the HTTP API, as a client would.
 */
import { type ChildProcess, type ChildProcessByStdio, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

import type { Core } from '@commons-sync/bindings';

import { CommonsSyncError } from '../errors.js';
import { didKeyFromPublicKey } from '../protocol/did.js';
import { signEvent } from '../protocol/event.js';
import { eventToJson } from '../protocol/json.js';
import type { HealthJson, PeersJson } from '../service.js';
import { requestJson } from './client/http-client.js';

/** The CLI this package ships; compiled (`dist/`), or its source run through tsx (tests). */
function cliEntry(): { file: string; execArgv: string[] } {
  const compiled = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  if (existsSync(compiled)) return { file: compiled, execArgv: [] };
  return {
    file: fileURLToPath(new URL('../cli/main.ts', import.meta.url)),
    execArgv: ['--import', 'tsx'],
  };
}

export interface ClusterNode {
  readonly index: number;
  readonly dir: string;
  readonly did: string;
  /** The API's base URL. */
  readonly url: string;
  /** host:port of the sync listener. */
  readonly sync: string;
  readonly pid: number;
}

export interface ClusterOptions {
  /** Folder for the nodes' data directories (node-1, node-2, ...). */
  readonly dir: string;
  readonly size: number;
  /** The passphrase of the nodes' key files (made for the run). */
  readonly passphrase: string;
  /** Verification threads per node (default 1). */
  readonly workers?: number;
  /** Called with each log line a node writes to stderr (level warn and up). */
  readonly onLog?: (node: number, line: string) => void;
}

interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

export class LocalCluster {
  /** Clusters made and not yet stopped, starting ones included. */
  static readonly #live = new Set<LocalCluster>();

  /**
   * Kills what is still running should this process exit without `stop` (an uncaught error in
   * the benchmark or the demo): node processes are not children that die with their parent.
   */
  private readonly killOnExit = (): void => {
    for (const r of this.running) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  };

  private constructor(
    readonly nodes: readonly ClusterNode[],
    private readonly running: readonly Running[],
  ) {
    process.on('exit', this.killOnExit);
    LocalCluster.#live.add(this);
  }

  /**
   * Stops every cluster not yet stopped, one still starting included (its processes, `init`
   * too, from their spawn on): for a caller interrupted by a signal.
   */
  static async stopAll(): Promise<void> {
    await Promise.all([...LocalCluster.#live].map((c) => c.stop()));
  }

  static async start(opts: ClusterOptions): Promise<LocalCluster> {
    const cli = cliEntry();
    const env = {
      ...process.env,
      COMMONS_SYNC_PASSPHRASE: opts.passphrase,
      COMMONS_SYNC_LOG_LEVEL: 'warn',
    };
    mkdirSync(opts.dir, { recursive: true });
    const dirs = Array.from({ length: opts.size }, (_, i) => join(opts.dir, `node-${i + 1}`));
    const nodes: ClusterNode[] = [];
    // every process this cluster spawns (`init` too), from its spawn on: stopped by `stop`,
    // killed should this process exit while one is still starting
    const running: Running[] = [];
    const cluster = new LocalCluster(nodes, running);
    try {
      const dids = await Promise.all(
        dirs.map(async (dir) => (await run(cli, ['init', '--data', dir], env, running)).trim()),
      );
      for (const [i, dir] of dirs.entries()) {
        const peers = nodes.flatMap((n) => ['--peer', n.sync]);
        const args = [
          'start',
          '--data',
          dir,
          '--port',
          '0',
          '--sync-port',
          '0',
          '--open',
          '--admit',
          dids.join(','),
          '--workers',
          String(opts.workers ?? 1),
          ...peers,
        ];
        const started = await startProcess(
          cli,
          args,
          env,
          (line) => opts.onLog?.(i + 1, line),
          running,
        );
        nodes.push({
          index: i + 1,
          dir,
          did: started.did,
          url: started.url,
          sync: started.sync,
          pid: started.pid,
        });
      }
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Every node's health. */
  async health(): Promise<HealthJson[]> {
    return Promise.all(
      this.nodes.map(async (n) => (await getJson(`${n.url}/healthz`)) as HealthJson),
    );
  }

  async peers(): Promise<PeersJson[]> {
    return Promise.all(
      this.nodes.map(async (n) => (await getJson(`${n.url}/v1/peers`)) as PeersJson),
    );
  }

  /** SIGTERM to every node (each closes gracefully), SIGKILL to any still running after 15 s. */
  async stop(): Promise<void> {
    for (const r of this.running) if (r.child.exitCode === null) r.child.kill('SIGTERM');
    const deadline = setTimeout(() => {
      for (const r of this.running) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    }, 15_000);
    await Promise.all(this.running.map((r) => r.exited));
    clearTimeout(deadline);
    process.off('exit', this.killOnExit);
    LocalCluster.#live.delete(this);
  }
}

async function getJson(url: string): Promise<unknown> {
  const answer = await requestJson(new URL(url), 'GET', undefined, { timeoutMs: 10_000 });
  if (answer.status !== 200)
    throw new CommonsSyncError('ERR_HTTP_STATUS', `GET ${url} answered ${answer.status}`);
  return answer.json;
}

/** A child of `cli`, added to `running` as it is spawned. */
function spawnCli(
  cli: { file: string; execArgv: string[] },
  args: string[],
  env: NodeJS.ProcessEnv,
  running: Running[],
): Running & { readonly child: ChildProcessByStdio<null, Readable, Readable> } {
  const child = spawn(process.execPath, [...cli.execArgv, cli.file, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const r = { child, exited };
  running.push(r);
  return r;
}

function run(
  cli: { file: string; execArgv: string[] },
  args: string[],
  env: NodeJS.ProcessEnv,
  running: Running[],
): Promise<string> {
  return new Promise((resolve, reject) => {
    const { child } = spawnCli(cli, args, env, running);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(out);
      else
        reject(
          new CommonsSyncError('ERR_DEMO_NODE', `commons-sync ${args[0]} failed: ${err.trim()}`),
        );
    });
  });
}

function startProcess(
  cli: { file: string; execArgv: string[] },
  args: string[],
  env: NodeJS.ProcessEnv,
  onLog: (line: string) => void,
  running: Running[],
): Promise<{ did: string; url: string; sync: string; pid: number }> {
  const { child, exited } = spawnCli(cli, args, env, running);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
      reject(new CommonsSyncError('ERR_DEMO_NODE', `a node did not start: ${why}`));
    };
    const timer = setTimeout(() => fail(`no answer within 60 s ${err.trim()}`), 60_000);
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      let nl = err.indexOf('\n');
      while (nl >= 0) {
        onLog(err.slice(0, nl));
        err = err.slice(nl + 1);
        nl = err.indexOf('\n');
      }
    });
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const sync = /syncing on (\S+)/.exec(out);
      const m = /node (\S+) listening on (\S+)/.exec(out);
      if (sync !== null && m !== null) {
        clearTimeout(timer);
        resolve({
          did: m[1] as string,
          url: m[2] as string,
          sync: sync[1] as string,
          pid: child.pid ?? 0,
        });
      }
    });
    void exited.then(() => fail(`it exited with ${child.exitCode}: ${err.trim()}`));
  });
}

/** Signed events from a throwaway author, in the JSON form clients post. */
export function makeLoad(core: Core, count: number, label: string): unknown[] {
  const seed = core.sha256(new TextEncoder().encode(`commons-sync load/${label}/${Date.now()}`));
  const author = didKeyFromPublicKey(core.ed25519PublicKey(seed));
  const now = Math.floor(Date.now() / 1000);
  const out: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const r = signEvent(
      core,
      {
        v: 1,
        kind: 'note',
        author,
        createdAt: now - 1,
        expiresAt: now + 3600,
        nonce: core.sha256(new TextEncoder().encode(`${label}/${i}/${now}`)).slice(0, 16),
        payload: { seq: i, text: 'commons sync load' },
      },
      [seed],
    );
    if (!r.ok) throw new CommonsSyncError('ERR_INTERNAL', `load event: ${r.reason}`);
    out.push(eventToJson(r.value.event));
  }
  return out;
}

/** Posts one batch; resolves with how many the node accepted (durably stored). */
export async function postBatch(url: string, events: readonly unknown[]): Promise<number> {
  const answer = await requestJson(new URL('/v1/events', url), 'POST', JSON.stringify(events), {
    timeoutMs: 60_000,
  });
  if (answer.status !== 200)
    throw new CommonsSyncError(
      'ERR_HTTP_STATUS',
      `POST /v1/events answered ${answer.status}: ${answer.text.slice(0, 200)}`,
    );
  const results = (answer.json as { results?: { status: string }[] }).results ?? [];
  return results.filter((r) => r.status === 'accepted').length;
}

/** p in [0, 1] of sorted numbers. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}
