/**
 * The store-engines report, computed from the samples only (pure: no clock, no disk): medians
 * per engine and phase, and each LMDB figure over SQLite's measured in the same run.
 */
import { median } from '../stats.js';
import { ENGINES, type EngineName, GUARANTEES } from './names.js';

export type Phase = 'empty' | 'stored';

/** One engine's measured batches in one round. */
export interface Sample {
  readonly engine: EngineName;
  readonly phase: Phase;
  readonly round: number;
  /** Events stored before the round's first batch. */
  readonly storedBefore: number;
  readonly events: number;
  readonly batches: number;
  /** CPU of the committing thread (its own schedstat), nanoseconds. */
  readonly threadCpuNs: number;
  /** CPU of the whole process (every thread: lmdb-js's write thread too), microseconds. */
  readonly processCpuUs: number;
  readonly wallNs: number;
  /** Bytes the process passed to write calls during the round (`wchar` of /proc/self/io). */
  readonly writtenBytes: number;
  /** The store's files' allocated bytes after the round. */
  readonly bytesOnDisk: number;
  readonly storedAfter: number;
  /** The machine's 1-minute load average at the end of the round. */
  readonly load1: number;
}

export interface Figures {
  readonly engine: EngineName;
  readonly phase: Phase;
  readonly rounds: number;
  /** Events stored when the phase began (its first round). */
  readonly storedBefore: number;
  readonly threadCpuUsPerEvent: number;
  readonly processCpuUsPerEvent: number;
  readonly wallUsPerEvent: number;
  readonly commitsPerSecond: number;
  readonly eventsPerSecond: number;
  readonly writtenBytesPerEvent: number;
  readonly bytesPerEvent: number;
}

export type FigureKey = Exclude<keyof Figures, 'engine' | 'phase' | 'rounds' | 'storedBefore'>;

export const FIGURE_KEYS: readonly FigureKey[] = [
  'threadCpuUsPerEvent',
  'processCpuUsPerEvent',
  'wallUsPerEvent',
  'commitsPerSecond',
  'eventsPerSecond',
  'writtenBytesPerEvent',
  'bytesPerEvent',
];

export interface Ratio {
  readonly engine: EngineName;
  readonly phase: Phase;
  /** engine's figure / SQLite's figure, per figure (medians of the same run). */
  readonly over: Readonly<Record<FigureKey, number>>;
}

/** Medians per (engine, phase) over the rounds, in ENGINES order. */
export function summarize(samples: readonly Sample[]): Figures[] {
  const out: Figures[] = [];
  for (const phase of ['empty', 'stored'] as const) {
    for (const engine of ENGINES) {
      const mine = samples.filter((s) => s.engine === engine && s.phase === phase);
      if (mine.length === 0) continue;
      const per = (f: (s: Sample) => number) => median(mine.map(f));
      out.push({
        engine,
        phase,
        rounds: mine.length,
        storedBefore: Math.min(...mine.map((s) => s.storedBefore)),
        threadCpuUsPerEvent: per((s) => s.threadCpuNs / 1000 / s.events),
        processCpuUsPerEvent: per((s) => s.processCpuUs / s.events),
        wallUsPerEvent: per((s) => s.wallNs / 1000 / s.events),
        commitsPerSecond: per((s) => s.batches / (s.wallNs / 1e9)),
        eventsPerSecond: per((s) => s.events / (s.wallNs / 1e9)),
        writtenBytesPerEvent: per((s) => s.writtenBytes / s.events),
        bytesPerEvent: per((s) => s.bytesOnDisk / s.storedAfter),
      });
    }
  }
  return out;
}

/** Each non-SQLite engine's figures over SQLite's in the same phase. */
export function ratios(figures: readonly Figures[]): Ratio[] {
  const out: Ratio[] = [];
  for (const f of figures) {
    if (f.engine === 'sqlite') continue;
    const base = figures.find((b) => b.engine === 'sqlite' && b.phase === f.phase);
    if (base === undefined) continue;
    const over = {} as Record<FigureKey, number>;
    for (const key of FIGURE_KEYS) over[key] = f[key] / base[key];
    out.push({ engine: f.engine, phase: f.phase, over });
  }
  return out;
}

/**
 * The committing thread's CPU per event beyond the `none` engine's (the hashing and row
 * building every engine does first) in the same phase: the storage engine's own part, lookups
 * included. Undefined for `none` itself or when it was not run.
 */
export function storageCpu(figures: readonly Figures[], f: Figures): number | undefined {
  if (f.engine === 'none') return undefined;
  const none = figures.find((b) => b.engine === 'none' && b.phase === f.phase);
  return none === undefined ? undefined : f.threadCpuUsPerEvent - none.threadCpuUsPerEvent;
}

const fmt = (x: number, digits = 1): string =>
  x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export interface RunFacts {
  readonly batchSize: number;
  readonly batchesPerRound: number;
  readonly storeSize: number;
  readonly fillSeconds: Readonly<Partial<Record<EngineName, number>>>;
  readonly loadAtStart: readonly number[];
  readonly loadAtEnd: readonly number[];
  readonly commit: string;
}

/** The report as Markdown. */
export function markdown(facts: RunFacts, samples: readonly Sample[]): string {
  const figures = summarize(samples);
  const lines: string[] = [
    `# Store engines: the node's commit in SQLite and in LMDB`,
    '',
    `Batches of ${facts.batchSize} events, ${facts.batchesPerRound} per round; "stored" rounds ran after filling each store to ${facts.storeSize.toLocaleString('en-US')} events. Load average (1, 5, 15 min) at the start ${facts.loadAtStart.map((l) => fmt(l, 2)).join(', ')}, at the end ${facts.loadAtEnd.map((l) => fmt(l, 2)).join(', ')}. Build ${facts.commit}. Medians over the rounds.`,
    '',
    '| engine | phase | stored before | rounds | committing thread CPU µs/event | of which storage | process CPU µs/event | wall µs/event | commits/s | events/s | bytes written/event | bytes on disk/event |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const f of figures) {
    const storage = storageCpu(figures, f);
    lines.push(
      `| ${f.engine} | ${f.phase} | ${f.storedBefore.toLocaleString('en-US')} | ${f.rounds} | ${fmt(f.threadCpuUsPerEvent)} | ${storage === undefined ? '' : fmt(storage)} | ${fmt(f.processCpuUsPerEvent)} | ${fmt(f.wallUsPerEvent)} | ${fmt(f.commitsPerSecond)} | ${fmt(f.eventsPerSecond, 0)} | ${fmt(f.writtenBytesPerEvent, 0)} | ${fmt(f.bytesPerEvent, 0)} |`,
    );
  }
  const rs = ratios(figures);
  if (rs.length > 0) {
    lines.push(
      '',
      'Over SQLite in the same run (below 1: less CPU or time, fewer bytes; above 1 for rates: faster):',
      '',
      '| engine | phase | thread CPU | process CPU | wall | commits/s | bytes written | bytes on disk |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const r of rs)
      lines.push(
        `| ${r.engine} | ${r.phase} | ${fmt(r.over.threadCpuUsPerEvent, 2)} | ${fmt(r.over.processCpuUsPerEvent, 2)} | ${fmt(r.over.wallUsPerEvent, 2)} | ${fmt(r.over.commitsPerSecond, 2)} | ${fmt(r.over.writtenBytesPerEvent, 2)} | ${fmt(r.over.bytesPerEvent, 2)} |`,
      );
  }
  const fills = Object.entries(facts.fillSeconds);
  if (fills.length > 0)
    lines.push(
      '',
      `Filling (unsynced commits of the same batches, not timed above): ${fills.map(([e, s]) => `${e} ${fmt(s as number)} s`).join(', ')}.`,
    );
  lines.push('', 'What a returned commit guarantees:', '');
  for (const engine of ENGINES)
    if (figures.some((f) => f.engine === engine)) lines.push(`- ${engine}: ${GUARANTEES[engine]}`);
  return `${lines.join('\n')}\n`;
}
