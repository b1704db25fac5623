/**
 * The command dispatcher of `commons-sync`: help, version, and the one place where errors
 * become output: one JSON log line and one human line on stderr, and an exit code (2 for a
 * bad command line, 1 for anything else). Expected errors (those with an ERR_ code) never
 * show a stack trace.
 */
import { readFileSync } from 'node:fs';
import { createLogger, type Logger, levelFromEnv, serializeError } from '../log.js';
import {
  BIN,
  type CliIo,
  type Command,
  codeOf,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  type SignalSource,
  UsageError,
  wantsHelp,
  writeLine,
} from './common.js';

interface Entry {
  readonly name: string;
  readonly summary: string;
  /** Loaded on use, so that `--help` and light commands start fast. */
  readonly load: () => Promise<Command>;
  /** Usage of each subcommand, for `<command> <sub> --help`. */
  readonly subUsage?: () => Promise<Readonly<Record<string, string>>>;
}

const COMMANDS: readonly Entry[] = [
  {
    name: 'init',
    summary: 'create a data directory with a node identity',
    load: async () => (await import('./node-cmds.js')).initCommand,
  },
  {
    name: 'start',
    summary: 'run a node and its HTTP API',
    load: async () => (await import('./node-cmds.js')).startCommand,
  },
  {
    name: 'keygen',
    summary: 'create an author key (in a key file or a keystore)',
    load: async () => (await import('./key-cmds.js')).keygenCommand,
  },
  {
    name: 'event',
    summary: 'create and co-sign events (event create, event cosign)',
    load: async () => (await import('./key-cmds.js')).eventCommand,
    subUsage: async () => (await import('./key-cmds.js')).eventSubcommandUsage,
  },
  {
    name: 'identity',
    summary: 'identities that survive their keys (create, show, rotate, revoke, recover, veto)',
    load: async () => (await import('./identity-cmds.js')).identityCommand,
    subUsage: async () => (await import('./identity-cmds.js')).identitySubcommandUsage,
  },
  {
    name: 'trust',
    summary:
      'trust roots by quorum, critical actions, attestations (trust root|action|attest|revoke|explain)',
    load: async () => (await import('./trust-cmds.js')).trustCommand,
    subUsage: async () => (await import('./trust-cmds.js')).trustSubcommandUsage,
  },
  {
    name: 'key',
    summary: 'list keys; Shamir backups of vault keys (key list, key backup split|combine)',
    load: async () => (await import('./keystore-cmds.js')).keyCommand,
    subUsage: async () => (await import('./keystore-cmds.js')).keySubcommandUsage,
  },
  {
    name: 'rotate-key',
    summary: "rotate the node's own key (a stopped node)",
    load: async () => (await import('./rotate-key-cmd.js')).rotateKeyCommand,
  },
  {
    name: 'submit',
    summary: 'post events from files to a node',
    load: async () => (await import('./submit.js')).submitCommand,
  },
  {
    name: 'audit',
    summary: "check a node's audit log (audit verify, check-proof, check-consistency)",
    load: async () => (await import('./node-cmds.js')).auditCommand,
    subUsage: async () => (await import('./node-cmds.js')).auditSubcommandUsage,
  },
  {
    name: 'status',
    summary: "show a node's health and latest checkpoint",
    load: async () => (await import('./status.js')).statusCommand,
  },
  {
    name: 'peers',
    summary: "show a node's peers: identity, state, score, lag, bytes",
    load: async () => (await import('./peer-cmds.js')).peersCommand,
  },
  {
    name: 'demo',
    summary: 'run a local network of three nodes under load and watch it converge',
    load: async () => (await import('./demo.js')).demoCommand,
  },
];

export function mainUsage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: ${BIN} <command> [options]

Commons Sync validator node.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Options:
  -h, --help     show this help (also: ${BIN} <command> --help)
  -v, --version  print the version

Environment:
  COMMONS_SYNC_PASSPHRASE  passphrase of key files (else asked on the terminal)
  COMMONS_SYNC_PKCS11_PIN  user PIN of a PKCS#11 token (else asked on the terminal)
  COMMONS_SYNC_LOG_LEVEL   debug, info, warn, error or silent (default: info for start, warn otherwise)
  COMMONS_SYNC_BACKEND     crypto backend: native, wasm or js (default: the first that loads)

Exit status: 0 success, 1 failure, 2 invalid command line.`;
}

export interface RunOptions {
  stdout?: CliIo['stdout'];
  stderr?: CliIo['stderr'];
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  signals?: SignalSource;
}

export async function runCli(argv: readonly string[], opts: RunOptions = {}): Promise<number> {
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const env = opts.env ?? process.env;
  const [name, ...rest] = argv;
  const log =
    opts.logger ??
    createLogger({ level: levelFromEnv(env, name === 'start' ? 'info' : 'warn'), sink: stderr });
  const io: CliIo = { stdout, stderr, env, log, signals: opts.signals ?? process };

  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    if (topic !== undefined) return runCli([topic, '--help'], opts);
    writeLine(name === undefined ? stderr : stdout, mainUsage());
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (name === '--version' || name === '-v') {
    writeLine(stdout, version());
    return EXIT_OK;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (entry === undefined) {
    const what = name.startsWith('-')
      ? `unknown option ${name}`
      : `unknown command ${JSON.stringify(name)}`;
    return report(new UsageError('', what), io);
  }
  try {
    const command = await entry.load();
    if (wantsHelp(rest)) {
      const sub = entry.subUsage === undefined ? undefined : rest[0];
      const subUsage = sub === undefined ? undefined : (await entry.subUsage?.())?.[sub];
      writeLine(stdout, subUsage ?? command.usage);
      return EXIT_OK;
    }
    return await command.run(rest, io);
  } catch (error) {
    return report(error, io);
  }
}

/** One JSON log line and one human line on stderr; the exit code. */
export function report(error: unknown, io: CliIo): number {
  if (error instanceof UsageError) {
    const where = error.command === '' ? BIN : `${BIN} ${error.command}`;
    io.log.error(error.message, { code: error.code, command: error.command || undefined });
    writeLine(io.stderr, `${where}: ${error.message}`);
    writeLine(io.stderr, `Run '${where} --help' for usage.`);
    return EXIT_USAGE;
  }
  const code = codeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code?.startsWith('ERR_')) {
    io.log.error(message, { code });
    writeLine(io.stderr, `${BIN}: error: ${message}`);
  } else {
    io.log.error('unexpected error', { code: 'ERR_INTERNAL', error: serializeError(error) });
    writeLine(io.stderr, `${BIN}: internal error: ${message}`);
  }
  return EXIT_FAILURE;
}

function version(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version?: unknown };
    return `${BIN} ${typeof pkg.version === 'string' ? pkg.version : 'unknown'}`;
  } catch {
    return `${BIN} unknown`;
  }
}
