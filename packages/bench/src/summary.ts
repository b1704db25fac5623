/**
 * The markdown report: what CI shows first (the verdict against the baseline and the guarded
 * ratios), then the targets, then every group's table. Fits a GitHub step summary.
 */
import type { BaselineOutcome, Comparison } from './compare.js';
import { describeFeatures, type MachineInfo } from './machine.js';
import { formatRatio, type GroupReport, groupTable, row } from './report.js';

export interface RunDescription {
  mode: 'quick' | 'full';
  rounds: number;
  timePerRound: number;
  cases: number;
  seconds: number;
  filters: readonly string[];
  machine: MachineInfo;
}

export interface BaselineSection {
  file: string;
  threshold: number;
  savedDate: string;
  savedMachine: MachineInfo;
  outcomes: readonly BaselineOutcome[];
}

const pct = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}%`;
const MARK: Record<BaselineOutcome['status'], string> = {
  regression: '❌ regression',
  improvement: '✅ improvement',
  unchanged: 'ok',
  new: 'new (not in baseline)',
  missing: 'missing from this run',
};

export function regressions(section: BaselineSection | null): BaselineOutcome[] {
  return section === null ? [] : section.outcomes.filter((o) => o.status === 'regression');
}

function machineLines(run: RunDescription): string[] {
  const m = run.machine;
  const filter =
    run.filters.length === 0
      ? ''
      : `; only cases matching ${run.filters.map((f) => `\`${f}\``).join(' or ')}`;
  return [
    `**Machine:** ${m.cpuModel} · features: ${describeFeatures(m)} · ${m.cpus} CPUs · ` +
      `${m.platform} · Node ${m.node} (V8 ${m.v8}, OpenSSL ${m.openssl})` +
      (m.nativeAddonOverride === null ? '' : ` · native addon \`${m.nativeAddonOverride}\``),
    '',
    `**Run:** ${run.mode} mode, ${run.rounds} interleaved round(s) of ${run.timePerRound} s per case, ` +
      `${run.cases} cases in ${run.seconds.toFixed(0)} s${filter}. Ratios are per item, ours ` +
      'vs the peer in the same run; intervals are 95% bootstrap intervals of medians.',
  ];
}

function baselineLines(b: BaselineSection): string[] {
  const bad = regressions(b);
  const verdict =
    bad.length === 0
      ? `✅ no regression beyond ${(b.threshold * 100).toFixed(0)}%`
      : `❌ ${bad.length} regression(s) beyond ${(b.threshold * 100).toFixed(0)}%`;
  const out = [
    `## Against the baseline \`${b.file}\` (saved ${b.savedDate})`,
    '',
    `**${verdict}**`,
    '',
  ];
  out.push(
    row(['comparison', 'now', 'saved', 'change (95% interval)', 'verdict']),
    row(['---', '---:', '---:', '---:', '---']),
  );
  const order: BaselineOutcome['status'][] = [
    'regression',
    'missing',
    'improvement',
    'new',
    'unchanged',
  ];
  const sorted = [...b.outcomes].sort((x, y) => order.indexOf(x.status) - order.indexOf(y.status));
  for (const o of sorted) {
    const change =
      o.change === null
        ? ''
        : `${pct(o.change.estimate)} (${pct(o.change.lo)} … ${pct(o.change.hi)})`;
    out.push(
      row([
        o.key,
        o.ratio === null ? '' : formatRatio(o.ratio),
        o.savedRatio === null ? '' : formatRatio(o.savedRatio),
        change,
        MARK[o.status],
      ]),
    );
  }
  out.push('');
  return out;
}

function comparisonLines(list: readonly Comparison[]): string[] {
  if (list.length === 0) return [];
  const out = [
    '## Our backends vs the peers',
    '',
    row(['comparison', 'ratio', '95% interval']),
    row(['---', '---:', '---:']),
  ];
  for (const c of list) {
    out.push(
      row([
        c.key,
        formatRatio(c.ratio.estimate),
        `${formatRatio(c.ratio.lo)} … ${formatRatio(c.ratio.hi)}`,
      ]),
    );
  }
  out.push('');
  return out;
}

export function markdownReport(
  run: RunDescription,
  baseline: BaselineSection | null,
  list: readonly Comparison[],
  groups: readonly GroupReport[],
  targets: readonly string[],
): string {
  const out = [`# commons-sync crypto bench (${run.mode})`, '', ...machineLines(run), ''];
  if (baseline !== null) {
    if (baseline.savedMachine.cpuModel !== run.machine.cpuModel) {
      out.push(
        `> The baseline was measured on another CPU (${baseline.savedMachine.cpuModel}): ratios ` +
          'hold better than times across machines, but not perfectly.',
        '',
      );
    }
    out.push(...baselineLines(baseline));
  }
  out.push(...comparisonLines(list));
  if (targets.length > 0) out.push('## Targets', '', '```', ...targets, '```', '');
  out.push('<details><summary>Every case</summary>', '');
  for (const g of groups) {
    const note = g.baseline === null ? '' : ` (ratios: per item, vs ${g.baseline})`;
    out.push(`### ${g.group}${note}`, '', ...groupTable(g), '');
  }
  out.push('</details>', '');
  return out.join('\n');
}
