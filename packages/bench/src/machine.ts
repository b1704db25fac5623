/** What the numbers were measured on: without this a result cannot be compared with another. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import { dirname, join } from 'node:path';

export interface MachineInfo {
  cpuModel: string;
  cpus: number;
  memoryGiB: number;
  platform: string;
  kernel: string;
  node: string;
  v8: string;
  openssl: string;
  loadAverage1m: number;
  gitCommit: string | null;
  packages: Record<string, string | null>;
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line !== undefined) return line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // not Linux: fall through to what Node reports
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

/** The version of an installed package, found by walking up from one of its entry points. */
function packageVersion(name: string, entry: string): string | null {
  try {
    let dir = dirname(createRequire(import.meta.url).resolve(entry));
    for (;;) {
      const file = join(dir, 'package.json');
      if (existsSync(file)) {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name) return pkg.version ?? null;
      }
      const up = dirname(dir);
      if (up === dir) return null;
      dir = up;
    }
  } catch {
    return null;
  }
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

export function machineInfo(): MachineInfo {
  return {
    cpuModel: cpuModel(),
    cpus: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${process.platform}-${process.arch}`,
    kernel: os.release(),
    node: process.version,
    v8: process.versions.v8,
    openssl: process.versions.openssl,
    loadAverage1m: os.loadavg()[0] ?? 0,
    gitCommit: gitCommit(),
    packages: {
      '@noble/curves': packageVersion('@noble/curves', '@noble/curves/ed25519.js'),
      '@noble/hashes': packageVersion('@noble/hashes', '@noble/hashes/sha2.js'),
      tweetnacl: packageVersion('tweetnacl', 'tweetnacl'),
      'sodium-native': packageVersion('sodium-native', 'sodium-native'),
      benchmark: packageVersion('benchmark', 'benchmark'),
    },
  };
}

export function describeMachine(m: MachineInfo): string {
  return (
    `${m.cpuModel}, ${m.cpus} CPUs, ${m.memoryGiB} GiB, ${m.platform}; Node ${m.node} ` +
    `(V8 ${m.v8}, OpenSSL ${m.openssl}); load ${m.loadAverage1m.toFixed(2)}` +
    (m.gitCommit === null ? '' : `; commit ${m.gitCommit}`)
  );
}
