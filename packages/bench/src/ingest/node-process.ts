/**
 * A node as a user runs it: `commons-sync start --data DIR --port 0` in its own process, with
 * the CLI's defaults (worker count, limits, checkpoints), so that its CPU time per thread and
 * its peak RSS are its own and not the bench client's.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { threadCpuSeconds } from '../proc-cpu.js';

export const BENCH_PASSPHRASE = 'commons-sync bench';

/** The CLI entry of the installed @commons-sync/node (dist/cli/main.js beside dist/index.js). */
function cliPath(): string {
  return fileURLToPath(new URL('./cli/main.js', import.meta.resolve('@commons-sync/node')));
}

/** Node processes started and not yet exited (the bench stops them if it is interrupted). */
const live = new Set<ChildProcess>();

/** SIGTERM, then waits for the graceful close (SIGKILL after a minute). */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  await exited;
  clearTimeout(timer);
}

export class NodeProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  /** Starts a node on `dataDir` (already initialized with {@link BENCH_PASSPHRASE}). */
  static async start(dataDir: string, workers?: number): Promise<NodeProcess> {
    const args = [cliPath(), 'start', '--data', dataDir, '--port', '0'];
    if (workers !== undefined) args.push('--workers', String(workers));
    const child = spawn(process.execPath, args, {
      env: { ...process.env, COMMONS_SYNC_PASSPHRASE: BENCH_PASSPHRASE },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    child.once('exit', () => live.delete(child));
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const onData = (d: Buffer) => {
        out += d.toString();
        const m = /listening on (\S+)/.exec(out);
        if (m !== null) {
          child.stdout?.off('data', onData);
          resolve(m[1] as string);
        }
      };
      child.stdout?.on('data', onData);
      child.once('exit', (code) =>
        reject(new Error(`the node exited (${code}) before serving: ${err}`)),
      );
    });
    return new NodeProcess(child, url);
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** CPU seconds so far of each thread of the process, by thread id (main thread included). */
  threadCpu(): Map<number, number> {
    const out = new Map<number, number>();
    for (const tid of readdirSync(`/proc/${this.pid}/task`)) {
      try {
        out.set(Number(tid), threadCpuSeconds(`/proc/${this.pid}/task/${tid}`));
      } catch {
        // the thread ended between the listing and the read
      }
    }
    return out;
  }

  /** Threads of the process now (main, workers, libuv pool, V8 helpers). */
  threadCount(): number {
    return readdirSync(`/proc/${this.pid}/task`).length;
  }

  /** Peak resident set size so far (VmHWM), in bytes. */
  peakRss(): number {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]) * 1024;
  }

  /** SIGTERM, then waits for the graceful close (final checkpoint, database closed). */
  stop(): Promise<void> {
    return stopChild(this.child);
  }

  /** Stops every node process this process started that has not exited, starting ones too. */
  static async stopAll(): Promise<void> {
    await Promise.all([...live].map(stopChild));
  }
}
