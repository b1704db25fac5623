/**
 * What every command shares: its I/O, usage errors, argument parsing on node:util parseArgs,
 * value parsers (durations, counts, URLs) and passphrase entry.
 */
import { readFile } from 'node:fs/promises';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { CommonsSyncError, ConfigError } from '../errors.js';
import { PassphraseEmptyError, PassphraseUnavailableError } from '../keys/errors.js';
import { PASSPHRASE_ENV, passphraseFromEnv, promptPassphrase } from '../keys/keyfile.js';
import type { SecretSource } from '../keys/keystore.js';
import { PIN_ENV } from '../keys/pkcs11.js';
import { type KeystoreSpec, parseKeystoreSpec } from '../keys/spec.js';
import type { Logger } from '../log.js';

export const BIN = 'commons-sync';

/** Exit codes: 0 success, 1 the operation failed or found a problem, 2 the command line is wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Where `start` hears SIGINT and SIGTERM: the process, or an emitter in tests. */
export interface SignalSource {
  once(signal: NodeJS.Signals, listener: () => void): unknown;
  removeListener(signal: NodeJS.Signals, listener: () => void): unknown;
}

export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  readonly signals: SignalSource;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(argv: string[], io: CliIo): Promise<number>;
}

/** A command line that cannot be used: exit 2, with a pointer to `--help`. */
export class UsageError extends ConfigError {
  readonly command: string;

  constructor(command: string, message: string) {
    super('ERR_USAGE', message);
    this.command = command;
  }
}

/** True when `--help` or `-h` comes before any `--` terminator. */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}

/** node:util parseArgs in strict mode, its errors turned into {@link UsageError}s. */
export function parseCommandLine<T extends ParseArgsConfig>(
  command: string,
  config: T,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs<T>({ strict: true, ...config });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
      throw new UsageError(command, (error as Error).message.split('\n')[0] ?? 'invalid arguments');
    }
    throw error;
  }
}

export function required<V>(command: string, flag: string, value: V | undefined): V {
  if (value === undefined || value === '') throw new UsageError(command, `${flag} is required`);
  return value;
}

/** A whole number in [min, max] written in decimal digits. */
export function parseIntFlag(
  command: string,
  flag: string,
  text: string,
  min: number,
  max: number,
): number {
  if (!/^\d{1,16}$/.test(text))
    throw new UsageError(command, `${flag} must be a whole number, got ${JSON.stringify(text)}`);
  const n = Number(text);
  if (n < min || n > max)
    throw new UsageError(command, `${flag} must be between ${min} and ${max}, got ${n}`);
  return n;
}

const UNIT_SECONDS: Readonly<Record<string, number>> = {
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
  w: 604_800,
};

/**
 * Seconds in a duration such as `90s`, `10m`, `1h`, `7d`, `2w`, a sum such as `1h30m`, or bare
 * seconds (`3600`). Returns undefined for anything else, zero included.
 */
export function parseDuration(text: string): number | undefined {
  if (/^\d{1,12}$/.test(text)) {
    const n = Number(text);
    return n > 0 ? n : undefined;
  }
  if (!/^(?:\d{1,12}[smhdw])+$/.test(text)) return undefined;
  let total = 0;
  for (const [, digits = '', unit = ''] of text.matchAll(/(\d+)([smhdw])/g)) {
    total += Number(digits) * (UNIT_SECONDS[unit] ?? 0);
  }
  return total > 0 && Number.isSafeInteger(total) ? total : undefined;
}

export function parseDurationFlag(command: string, flag: string, text: string): number {
  const seconds = parseDuration(text);
  if (seconds === undefined) {
    throw new UsageError(
      command,
      `${flag} must be a duration such as 90s, 10m, 1h or 7d, got ${JSON.stringify(text)}`,
    );
  }
  return seconds;
}

/** An http(s) URL without credentials; the base for API paths. */
export function parseUrlFlag(command: string, flag: string, text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(command, `${flag} must be an http(s) URL, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(command, `${flag} must be an http(s) URL, got ${JSON.stringify(text)}`);
  }
  return url;
}

/** `path` relative to the node URL, keeping any base path (`http://h/node/` + `v1/events`). */
export function apiUrl(base: URL, path: string): URL {
  const root = base.pathname.endsWith('/') ? base : new URL(`${base.pathname}/`, base);
  return new URL(path.replace(/^\//, ''), root);
}

export async function readFileFlag(flag: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError('ERR_FILE_READ', `cannot read ${flag} ${path} (${why})`, {
      cause: error,
    });
  }
}

/** The passphrase from COMMONS_SYNC_PASSPHRASE, else asked on the terminal. */
export async function existingPassphrase(io: CliIo, prompt: string): Promise<string> {
  return passphraseFromEnv(io.env) ?? (await promptPassphrase(prompt, { output: io.stderr }));
}

/** For a new key: from the environment, else asked twice on the terminal. */
export async function newPassphrase(io: CliIo, what: string): Promise<string> {
  const fromEnv = passphraseFromEnv(io.env);
  if (fromEnv !== undefined) return fromEnv;
  const first = await promptPassphrase(`New passphrase for ${what}: `, { output: io.stderr });
  if (first === '') throw new PassphraseEmptyError('the passphrase must not be empty');
  const again = await promptPassphrase('Repeat the passphrase: ', { output: io.stderr });
  if (again !== first) throw new ConfigError('ERR_PASSPHRASE_MISMATCH', 'the passphrases differ');
  return first;
}

export const PASSPHRASE_HELP = `The passphrase comes from ${PASSPHRASE_ENV}, or is asked on the terminal.`;

/** What every command that uses a key says about `--keystore`. */
export const KEYSTORE_HELP = `Keystores (--keystore SPEC):
  vault:FILE                 an encrypted key file (a bare FILE means the same)
  vault:DIR/;key=LABEL       a directory of key files, LABEL.key each
  'pkcs11:module=LIB;token=TOKEN;key=LABEL'
                             a key inside a PKCS#11 token (RFC 7512 names work too:
                             object=, module-path=); e.g. LIB /usr/lib/softhsm/libsofthsm2.so
A vault passphrase comes from ${PASSPHRASE_ENV}, a token PIN from ${PIN_ENV};
otherwise each is asked on the terminal.`;

/** Passphrases and PINs from the environment, else asked on the terminal when first needed. */
export function cliSecrets(io: CliIo): SecretSource {
  return {
    passphrase: (what) => existingPassphrase(io, `Passphrase for ${what}: `),
    newPassphrase: (what) => newPassphrase(io, what),
    pin: async (token) => {
      const fromEnv = io.env[PIN_ENV];
      if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
      try {
        return await promptPassphrase(`PIN for token ${token}: `, { output: io.stderr });
      } catch (error) {
        if (error instanceof PassphraseUnavailableError) {
          throw new ConfigError(
            'ERR_PIN_UNAVAILABLE',
            `no terminal to ask for the PIN of token ${token}: set ${PIN_ENV}`,
          );
        }
        throw error;
      }
    },
  };
}

/** A `--keystore` (or `--key FILE`) value; a spec that cannot be parsed is a usage error. */
export function parseKeystoreFlag(command: string, flag: string, text: string): KeystoreSpec {
  try {
    return parseKeystoreSpec(text);
  } catch (error) {
    throw new UsageError(
      command,
      `${flag}: ${(error as Error).message.replace(/^--keystore /, '')}`,
    );
  }
}

/** `--keystore SPEC` or its shorthand `--key FILE` (a vault file): exactly one of them. */
export function keystoreOrKey(
  command: string,
  keystore: string | undefined,
  key: string | undefined,
): KeystoreSpec {
  if (keystore !== undefined && key !== undefined)
    throw new UsageError(command, '--keystore and --key exclude each other');
  if (keystore !== undefined) return parseKeystoreFlag(command, '--keystore', keystore);
  if (key !== undefined) return { kind: 'vault', path: required(command, '--key', key) };
  throw new UsageError(command, '--key is required (a key FILE, or --keystore SPEC)');
}

/** Standard input, read to its end. */
export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The command line of a co-signing command (`event cosign`, `identity cosign`): the signing key
 * (`--keystore SPEC` or `--key FILE`) and the bytes of at most one FILE (default `-`, standard
 * input), as they are: the protocol's strict reader reads them (spec/PROTOCOL.md §3.4).
 */
export async function cosignInput(
  cmd: string,
  argv: string[],
  what: string,
): Promise<{ spec: KeystoreSpec; bytes: Uint8Array }> {
  const { values, positionals } = parseCommandLine(cmd, {
    args: argv,
    allowPositionals: true,
    options: {
      key: { type: 'string' },
      keystore: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const spec = keystoreOrKey(cmd, values.keystore, values.key);
  if (positionals.length > 1) throw new UsageError(cmd, `at most one ${what}`);
  const source = positionals[0] ?? '-';
  const bytes = source === '-' ? await readStdin() : await readFileFlag(what, source);
  return { spec, bytes };
}

/** The `code` of an error, if it carries a string one. */
export function codeOf(error: unknown): string | undefined {
  if (error instanceof CommonsSyncError) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function writeLine(stream: NodeJS.WritableStream, text = ''): void {
  stream.write(`${text}\n`);
}
