/** The command line of `commons-sync-bench`. */
import { UsageError } from './errors.js';

export const USAGE = `usage: commons-sync-bench [options]
       commons-sync-bench ingest [options]   (the node's ingest targets: see ingest --help)
       commons-sync-bench reconcile [--events N]   reconciliation bytes and round trips
       commons-sync-bench network [--events N] [--quick] [--workers N]
                                                    three node processes: throughput
                                                    against one node, propagation latency
  --quick              CI mode: every case, 5 rounds of 0.15 s each (under 2 minutes)
                       (default: the full run, 8 rounds of 0.5 s each, about 5 minutes)
  --rounds N           interleaved rounds per case (overrides the mode)
  --time SECONDS       time per case in each round (overrides the mode)
  --filter TEXT        only cases whose "group · implementation" contains TEXT
                       (case-insensitive; repeat for several)
  --json FILE          write the results, with every sample, for a later --baseline
  --markdown FILE      write the markdown report (e.g. "$GITHUB_STEP_SUMMARY")
  --baseline FILE      compare our ratios with a run saved by --json; exit 1 on a regression
  --threshold F        the smallest drop of a ratio that counts as a regression (default 0.15)
  -h, --help           this text
exit status: 0 ok, 1 regression against the baseline, 2 bad usage or baseline file,
3 implementations disagree (nothing was timed)`;

export interface Args {
  mode: 'quick' | 'full';
  rounds: number;
  timePerRound: number;
  filters: string[];
  json: string | null;
  markdown: string | null;
  baseline: string | null;
  threshold: number;
  help: boolean;
}

const MODES = {
  quick: { rounds: 5, timePerRound: 0.15 },
  full: { rounds: 8, timePerRound: 0.5 },
} as const;

export const DEFAULT_THRESHOLD = 0.15;

function positive(flag: string, text: string, integer: boolean): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(
      `${flag} needs a positive ${integer ? 'integer' : 'number'}, got "${text}"`,
    );
  }
  return n;
}

export function parseArgs(argv: readonly string[]): Args {
  let quick = false;
  let rounds: number | null = null;
  let timePerRound: number | null = null;
  const out: Omit<Args, 'mode' | 'rounds' | 'timePerRound'> = {
    filters: [],
    json: null,
    markdown: null,
    baseline: null,
    threshold: DEFAULT_THRESHOLD,
    help: false,
  };
  const takesValue = new Set([
    '--rounds',
    '--time',
    '--filter',
    '--json',
    '--markdown',
    '--baseline',
    '--threshold',
  ]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    let value: string | undefined;
    if (takesValue.has(flag)) {
      value = eq > 0 && flag !== arg ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`${flag} needs a value`);
    } else if (flag !== arg) {
      throw new UsageError(`${flag} takes no value`);
    }
    switch (flag) {
      case '--quick':
        quick = true;
        break;
      case '--rounds':
        rounds = positive(flag, value as string, true);
        break;
      case '--time':
        timePerRound = positive(flag, value as string, false);
        break;
      case '--filter':
        out.filters.push((value as string).toLowerCase());
        break;
      case '--json':
        out.json = value as string;
        break;
      case '--markdown':
        out.markdown = value as string;
        break;
      case '--baseline':
        out.baseline = value as string;
        break;
      case '--threshold': {
        const t = positive(flag, value as string, false);
        if (t >= 1)
          throw new UsageError(`--threshold is a fraction below 1 (0.15 = 15%), got ${t}`);
        out.threshold = t;
        break;
      }
      case '-h':
      case '--help':
        out.help = true;
        break;
      default:
        throw new UsageError(`unknown argument ${arg}`);
    }
  }
  const mode = quick ? 'quick' : 'full';
  return {
    ...out,
    mode,
    rounds: rounds ?? MODES[mode].rounds,
    timePerRound: timePerRound ?? MODES[mode].timePerRound,
  };
}
