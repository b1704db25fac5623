/** The command line of `commons-sync-bench store-engines`. */
import { UsageError } from '../errors.js';
import { ENGINES, type EngineName } from './names.js';

export const STORE_ENGINES_USAGE = `usage: commons-sync-bench store-engines [options]
  --quick              small run: 3 rounds of 5 batches, stores filled to 20,000 events
                       (default: 3 rounds of 10 batches, stores filled to 1,000,000)
  --rounds N           rounds (each engine once per round, the order rotating)
  --batches N          batches of 1,000 events per engine and round
  --store-size N       events each store holds before the "stored" rounds (0: skip them)
  --engines LIST       comma-separated, from ${ENGINES.join(', ')} (default: all)
  --dir DIR            where the stores go (default: the system's temporary folder);
                       they are deleted at the end
  --json FILE          write every sample and figure of the run
  --markdown FILE      write the report as markdown
  -h, --help           this text`;

export interface StoreEnginesArgs {
  readonly mode: 'quick' | 'full';
  readonly rounds: number;
  readonly batches: number;
  readonly storeSize: number;
  readonly engines: readonly EngineName[];
  readonly dir: string | null;
  readonly json: string | null;
  readonly markdown: string | null;
  readonly help: boolean;
}

function integer(flag: string, text: string | undefined, min: number): number {
  if (text === undefined || !/^\d+$/.test(text) || Number(text) < min)
    throw new UsageError(`${flag} needs an integer ≥ ${min}, got "${text ?? ''}"`);
  return Number(text);
}

export function parseStoreEnginesArgs(argv: readonly string[]): StoreEnginesArgs {
  let quick = false;
  let rounds: number | null = null;
  let batches: number | null = null;
  let storeSize: number | null = null;
  let engines: EngineName[] = [...ENGINES];
  let dir: string | null = null;
  let json: string | null = null;
  let markdown: string | null = null;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--quick') quick = true;
    else if (flag === '--rounds') rounds = integer(flag, value(), 1);
    else if (flag === '--batches') batches = integer(flag, value(), 1);
    else if (flag === '--store-size') storeSize = integer(flag, value(), 0);
    else if (flag === '--engines') {
      const names = value().split(',');
      for (const n of names)
        if (!(ENGINES as readonly string[]).includes(n))
          throw new UsageError(`--engines: unknown engine "${n}" (known: ${ENGINES.join(', ')})`);
      engines = [...new Set(names as EngineName[])];
    } else if (flag === '--dir') dir = value();
    else if (flag === '--json') json = value();
    else if (flag === '--markdown') markdown = value();
    else if (flag === '-h' || flag === '--help') help = true;
    else throw new UsageError(`unknown flag ${flag}\n${STORE_ENGINES_USAGE}`);
  }
  return {
    mode: quick ? 'quick' : 'full',
    rounds: rounds ?? 3,
    batches: batches ?? (quick ? 5 : 10),
    storeSize: storeSize ?? (quick ? 20_000 : 1_000_000),
    engines,
    dir,
    json,
    markdown,
    help,
  };
}
