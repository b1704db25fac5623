/** The command line of `commons-sync-bench ingest`. */
import { UsageError } from '../errors.js';

export const INGEST_USAGE = `usage: commons-sync-bench ingest [options]
  --quick              CI mode: 10,000 events per run, 2 rounds (default: 30,000 and 3 rounds)
  --events N           events per ingest run (a multiple of 1,000)
  --rounds N           interleaved rounds (node:crypto, then each worker setting)
  --warmup N           events POSTed to each node before its clock starts, not counted
                       (a multiple of 1,000; 0 for none; default 40,000)
  --identity-pairs N   segment pairs per worker setting measuring identities as authors
                       against did:key authors (10,000 events per segment; 0 for none;
                       default 12, --quick 6)
  --store-size N       also fill a store with N events and measure ingest, GET, proofs and
                       checkpoints against it (held at scale); each round also ingests
                       the same events into an empty store, for the ratio
  --scale-only         with --store-size: only the held-at-scale part (and node:crypto)
  --store-dir DIR      with --store-size: generate the store into DIR and keep it, or reuse
                       the one a run before kept there (its events expire an hour after)
  --dir DIR            where the stores go (default: the system's temporary folder)
  --json FILE          write every figure of the run
  --markdown FILE      write the report as markdown
  -h, --help           this text`;

export interface IngestArgs {
  mode: 'quick' | 'full';
  events: number;
  rounds: number;
  /** Events ingested by each fresh node before it is measured (JIT warm-up), discarded. */
  warmup: number;
  /** Segment pairs per setting in the identity case (identity-segments.ts); 0: not measured. */
  identityPairs: number;
  storeSize: number | null;
  /** Only the held-at-scale measurement (needs `storeSize`). */
  scaleOnly: boolean;
  /** Where the store at scale is kept between runs (null: a temporary one). */
  storeDir: string | null;
  dir: string | null;
  json: string | null;
  markdown: string | null;
  help: boolean;
}

function count(flag: string, text: string | undefined, multipleOf = 1): number {
  const n = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || n <= 0 || n % multipleOf !== 0) {
    throw new UsageError(
      `${flag} needs a positive integer${multipleOf > 1 ? ` (a multiple of ${multipleOf})` : ''}, got "${text ?? ''}"`,
    );
  }
  return n;
}

export function parseIngestArgs(argv: readonly string[]): IngestArgs {
  let quick = false;
  let events: number | null = null;
  let rounds: number | null = null;
  // 40,000: a node that took 5,000 events was still compiling its hot paths. In 10,000-event
  // segments after such a warm-up, its threads other than the main one and the worker spent
  // ~20 µs/event in the first (V8's compiler and GC helpers), 2-5 from the second on. And a
  // node taking identities' events folds their staged rows every 16,384 (storage,
  // DEFAULT_FOLD_AT): after 25,000 events it had folded once, and the measured run's first
  // fold met the commit's optimized code for the first time (its deoptimization traced in
  // #write, #readStaged and the replay check); after 40,000 it has folded twice, as a node
  // running for a while has.
  let warmup = 40_000;
  let identityPairs: number | null = null;
  const out = {
    storeSize: null as number | null,
    scaleOnly: false,
    storeDir: null as string | null,
    dir: null as string | null,
    json: null as string | null,
    markdown: null as string | null,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      const v = eq > 0 && flag !== arg ? arg.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--quick':
        if (flag !== arg) throw new UsageError('--quick takes no value');
        quick = true;
        break;
      case '--events':
        events = count(flag, value(), 1000);
        break;
      case '--rounds':
        rounds = count(flag, value());
        break;
      case '--warmup': {
        const v = value();
        warmup = v === '0' ? 0 : count(flag, v, 1000);
        break;
      }
      case '--identity-pairs': {
        const v = value();
        identityPairs = v === '0' ? 0 : count(flag, v);
        break;
      }
      case '--store-size':
        out.storeSize = count(flag, value(), 1000);
        break;
      case '--scale-only':
        if (flag !== arg) throw new UsageError('--scale-only takes no value');
        out.scaleOnly = true;
        break;
      case '--store-dir':
        out.storeDir = value();
        break;
      case '--dir':
        out.dir = value();
        break;
      case '--json':
        out.json = value();
        break;
      case '--markdown':
        out.markdown = value();
        break;
      case '-h':
      case '--help':
        out.help = true;
        break;
      default:
        throw new UsageError(`unknown argument ${arg}`);
    }
  }
  if (out.scaleOnly && out.storeSize === null)
    throw new UsageError('--scale-only needs --store-size N');
  if (out.storeDir !== null && out.storeSize === null)
    throw new UsageError('--store-dir needs --store-size N');
  return {
    ...out,
    mode: quick ? 'quick' : 'full',
    events: events ?? (quick ? 10_000 : 30_000),
    rounds: rounds ?? (quick ? 2 : 3),
    warmup,
    identityPairs: identityPairs ?? (quick ? 6 : 12),
  };
}
