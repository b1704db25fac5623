/** What the numbers were measured on: without this a result cannot be compared with another. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import { dirname, join } from 'node:path';

export interface MachineInfo {
  cpuModel: string;
  /** The /proc/cpuinfo flags the crypto code can use (see {@link CPU_FEATURES}); null off Linux. */
  cpuFeatures: string[] | null;
  cpus: number;
  memoryGiB: number;
  platform: string;
  kernel: string;
  node: string;
  v8: string;
  openssl: string;
  loadAverage1m: number;
  gitCommit: string | null;
  /** The addon file forced through NAPI_RS_NATIVE_LIBRARY_PATH, if any (e.g. a debug build). */
  nativeAddonOverride: string | null;
  packages: Record<string, string | null>;
}

/**
 * CPU flags that change the numbers: curve25519-dalek picks AVX2 or AVX-512 IFMA field arithmetic
 * at run time, sha2 uses SHA-NI, and BLAKE3 uses AVX2/AVX-512; bmi2/adx speed up big-number code.
 */
export const CPU_FEATURES = [
  'avx2',
  'avx512f',
  'avx512ifma',
  'avx512vl',
  'sha_ni',
  'bmi2',
  'adx',
  'aes',
];

/** The flags of the first CPU in /proc/cpuinfo that appear in {@link CPU_FEATURES}, in that order. */
export function cpuFeatures(cpuinfo: string): string[] {
  const line = cpuinfo.split('\n').find((l) => /^(flags|Features)\s*:/.test(l));
  if (line === undefined) return [];
  const flags = new Set(
    line
      .slice(line.indexOf(':') + 1)
      .trim()
      .split(/\s+/),
  );
  return CPU_FEATURES.filter((f) => flags.has(f));
}

function readCpuFeatures(): string[] | null {
  try {
    return cpuFeatures(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return null; // not Linux
  }
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
    cpuFeatures: readCpuFeatures(),
    cpus: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${process.platform}-${process.arch}`,
    kernel: os.release(),
    node: process.version,
    v8: process.versions.v8,
    openssl: process.versions.openssl,
    loadAverage1m: os.loadavg()[0] ?? 0,
    gitCommit: gitCommit(),
    nativeAddonOverride: process.env['NAPI_RS_NATIVE_LIBRARY_PATH'] || null,
    packages: {
      '@commons-sync/bindings': packageVersion('@commons-sync/bindings', '@commons-sync/bindings'),
      '@noble/curves': packageVersion('@noble/curves', '@noble/curves/ed25519.js'),
      '@noble/hashes': packageVersion('@noble/hashes', '@noble/hashes/sha2.js'),
      tweetnacl: packageVersion('tweetnacl', 'tweetnacl'),
      'sodium-native': packageVersion('sodium-native', 'sodium-native'),
    },
  };
}

export function describeFeatures(m: Pick<MachineInfo, 'cpuFeatures'>): string {
  if (m.cpuFeatures === null) return 'CPU features unknown (no /proc/cpuinfo)';
  return m.cpuFeatures.length === 0 ? `none of ${CPU_FEATURES.join(' ')}` : m.cpuFeatures.join(' ');
}

export function describeMachine(m: MachineInfo): string {
  return (
    `${m.cpuModel} [${describeFeatures(m)}], ${m.cpus} CPUs, ${m.memoryGiB} GiB, ${m.platform}; ` +
    `Node ${m.node} (V8 ${m.v8}, OpenSSL ${m.openssl}); load ${m.loadAverage1m.toFixed(2)}` +
    (m.gitCommit === null ? '' : `; commit ${m.gitCommit}`) +
    (m.nativeAddonOverride === null ? '' : `; native addon ${m.nativeAddonOverride}`)
  );
}
