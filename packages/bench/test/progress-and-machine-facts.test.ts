// The progress line (redrawn on a terminal, plain lines in a CI log) and the machine facts that
// make a saved run comparable.
import { describe, expect, it } from 'vitest';

import { cpuFeatures, describeMachine, machineInfo } from '../src/machine.js';
import { Progress } from '../src/progress.js';

function stream(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, isTTY, write: (s: string) => chunks.push(s) };
}

describe('the progress line', () => {
  it('is plain lines without escape codes when stderr is not a terminal', () => {
    const s = stream(false);
    const p = new Progress(s, Date.now());
    p.update(0, 4, 'round 1/2: ed25519 verify · native');
    p.update(1, 4, 'round 1/2: ed25519 verify · wasm');
    p.clear();
    expect(s.chunks.join('')).not.toContain('\x1b');
    expect(s.chunks).toHaveLength(2);
    expect(s.chunks[1]).toMatch(
      /^\[1\/4\] round 1\/2: ed25519 verify · wasm \(\d+ s, ~\d+ s left\)\n$/,
    );
  });

  it('is one line redrawn in place on a terminal, cleared before a note', () => {
    const s = stream(true);
    const p = new Progress(s, Date.now());
    p.update(0, 2, 'a');
    p.update(1, 2, 'b');
    p.note('wrote x.json');
    expect(s.chunks.slice(0, 2).every((c) => c.startsWith('\r\x1b[2K') && !c.includes('\n'))).toBe(
      true,
    );
    expect(s.chunks.slice(2)).toEqual(['\r\x1b[2K', 'wrote x.json\n']);
  });
});

describe('machine facts', () => {
  it('picks the crypto-relevant CPU flags from /proc/cpuinfo', () => {
    const cpuinfo =
      'processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu sse2 avx2 bmi2 adx sha_ni avx512f avx512ifma\n\nprocessor\t: 1\n';
    expect(cpuFeatures(cpuinfo)).toEqual([
      'avx2',
      'avx512f',
      'avx512ifma',
      'sha_ni',
      'bmi2',
      'adx',
    ]);
    expect(cpuFeatures('flags\t: fpu sse2\n')).toEqual([]);
  });

  it('names the CPU, its features, cores, Node and OpenSSL', () => {
    const m = machineInfo();
    expect(m.cpus).toBeGreaterThan(0);
    expect(m.openssl).toBe(process.versions.openssl);
    const line = describeMachine(m);
    for (const part of [
      m.cpuModel,
      `Node ${process.version}`,
      `OpenSSL ${process.versions.openssl}`,
      `${m.cpus} CPUs`,
    ]) {
      expect(line).toContain(part);
    }
    if (m.cpuFeatures !== null) expect(line).toContain(`[${m.cpuFeatures.join(' ')}`);
  });
});
