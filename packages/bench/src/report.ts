/** Turns results into ratios and the per-group markdown tables. */
import { speedup } from './compare.js';
import type { Result } from './runner.js';

export interface GroupReport {
  group: string;
  baseline: string | null;
  results: (Result & { ratio: number | null })[];
}

/** Groups results in run order; `ratio` is how many times faster than the group's baseline. */
export function groupResults(results: readonly Result[]): GroupReport[] {
  const groups = new Map<string, Result[]>();
  for (const r of results) groups.set(r.group, [...(groups.get(r.group) ?? []), r]);
  return [...groups].map(([group, rs]) => {
    const base = rs.find((r) => r.baseline && r.error === undefined);
    return {
      group,
      baseline: base?.impl ?? null,
      results: rs.map((r) => ({
        ...r,
        ratio: base === undefined ? null : speedup(r, base),
      })),
    };
  });
}

export function formatTime(ns: number): string {
  if (ns < 1e3) return `${ns.toFixed(ns < 10 ? 2 : 1)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(ns < 1e4 ? 2 : 1)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(ns < 1e7 ? 2 : 1)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

const formatOps = (hz: number) =>
  hz >= 100 ? Math.round(hz).toLocaleString('en-US') : hz.toFixed(hz >= 10 ? 1 : 2);
export const formatRatio = (x: number) => `${x.toFixed(x >= 10 ? 1 : 2)}×`;

export function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

export function groupTable(g: GroupReport): string[] {
  const perItem = g.results.some((r) => r.itemsPerOp > 1);
  const throughput = g.results.some((r) => r.throughputMBps !== null);
  const head = ['implementation', 'ops/s', 'median', 'mean ±', 'samples'];
  if (perItem) head.push('per item');
  if (throughput) head.push('MB/s');
  head.push(g.baseline === null ? 'ratio' : `vs ${g.baseline}`);
  const lines = [row(head), row(head.map((_, i) => (i === 0 ? '---' : '---:')))];
  for (const r of g.results) {
    if (r.error !== undefined) {
      lines.push(row([r.impl, `error: ${r.error}`, ...head.slice(2).map(() => '')]));
      continue;
    }
    const cells = [
      r.impl,
      formatOps(r.opsPerSec),
      formatTime(r.medianMs * 1e6),
      `${r.rmePct.toFixed(1)}%`,
      String(r.rounds.flat().length),
    ];
    if (perItem) cells.push(formatTime(r.perItemNs));
    if (throughput) cells.push(r.throughputMBps === null ? '' : r.throughputMBps.toFixed(1));
    const ratio = r.ratio === null ? '' : `**${formatRatio(r.ratio)}**`;
    cells.push(r.baseline && r.ratio !== null ? '1× (baseline)' : ratio);
    lines.push(row(cells));
  }
  return lines;
}
