/**
 * `key list` and the Shamir backup of a vault key: `key backup split` writes N share files of
 * which any M restore the key; `key backup combine` restores it into a new key file and checks
 * that it is the same identity (DID) the shares were made for.
 *
 * A share file is JSON with the share itself (the Rust core's version-1 share format, with its
 * checksum) and, for people and for the final check, the DID it restores:
 *
 *     { "type": "commons-sync-key-share", "version": 1, "did": "did:key:z6Mk...",
 *       "threshold": 2, "shares": 3, "index": 1, "share": "<hex>" }
 */
import { type FileHandle, mkdir, open, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

import { loadCore } from '@commons-sync/bindings';

import { ConfigError } from '../errors.js';
import { KeyExistsError, KeyFileExistsError } from '../keys/errors.js';
import { labelOf, openKeystore, requireKey } from '../keys/open.js';
import { formatKeystoreSpec } from '../keys/spec.js';
import { didKeyFromPublicKey } from '../protocol/did.js';
import {
  BIN,
  type CliIo,
  type Command,
  cliSecrets,
  EXIT_OK,
  KEYSTORE_HELP,
  keystoreOrKey,
  parseCommandLine,
  parseIntFlag,
  readFileFlag,
  required,
  UsageError,
  writeLine,
} from './common.js';

const SHARE_TYPE = 'commons-sync-key-share';
/** A share file is a few hundred bytes; anything much larger is not one. */
const MAX_SHARE_FILE_BYTES = 16 * 1024;

const LIST_USAGE = `Usage: ${BIN} key list --keystore SPEC

Prints every key of a keystore, one "LABEL DID" line each. Needs no passphrase or PIN.

${KEYSTORE_HELP}`;

const SPLIT_USAGE = `Usage: ${BIN} key backup split (--keystore SPEC | --key FILE) --shares N --threshold M --out DIR

Splits a vault key into N share files (Shamir over GF(256)); any M of them restore it, fewer
reveal nothing about it. Give each guardian one file. Keys in a PKCS#11 token never leave it
and cannot be backed up this way (ERR_KEY_NOT_EXPORTABLE).

Options:
  --keystore SPEC   the key to back up (or --key FILE)
  --shares N        how many share files, 2..255
  --threshold M     how many restore the key, 2..N
  --out DIR         where to write LABEL-share-I-of-N.json (mode 0600; never overwritten)
  -h, --help        show this help

${KEYSTORE_HELP}`;

const COMBINE_USAGE = `Usage: ${BIN} key backup combine SHARE_FILE... --out FILE

Restores a key from at least M of its share files into a new encrypted key file and prints
its DID, which must be the DID the shares were made for. Too few shares, shares of different
keys and corrupted shares are refused, each with its own error code.

Options:
  --out FILE   the key file to write (an existing file is never replaced)
  -h, --help   show this help

The new file's passphrase comes from COMMONS_SYNC_PASSPHRASE, or is asked on the terminal.`;

export const keyCommand: Command = {
  name: 'key',
  summary: 'list keys; Shamir backups of vault keys',
  usage: `Usage: ${BIN} key <subcommand> [options]

Subcommands:
  list              the keys of a keystore
  backup split      split a vault key into share files
  backup combine    restore a key from share files

Run '${BIN} key <subcommand> --help' for the options of each.`,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === 'list') return list(rest, io);
    if (sub === 'backup') {
      const [op, ...args] = rest;
      if (op === 'split') return split(args, io);
      if (op === 'combine') return combine(args, io);
      throw new UsageError(
        'key backup',
        op === undefined
          ? 'a subcommand is required (split, combine)'
          : `unknown subcommand ${JSON.stringify(op)}`,
      );
    }
    throw new UsageError(
      'key',
      sub === undefined
        ? 'a subcommand is required (list, backup)'
        : `unknown subcommand ${JSON.stringify(sub)}`,
    );
  },
};

export const keySubcommandUsage: Readonly<Record<string, string>> = {
  list: LIST_USAGE,
  backup: `${SPLIT_USAGE}\n\n${COMBINE_USAGE}`,
};

async function list(argv: string[], io: CliIo): Promise<number> {
  const cmd = 'key list';
  const { values } = parseCommandLine(cmd, {
    args: argv,
    options: {
      keystore: { type: 'string' },
      key: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const spec = keystoreOrKey(cmd, values.keystore, values.key);
  const keystore = await openKeystore(spec, { core: await loadCore(), secrets: cliSecrets(io) });
  try {
    for (const key of await keystore.list()) writeLine(io.stdout, `${key.label} ${key.did}`);
    return EXIT_OK;
  } finally {
    await keystore.close();
  }
}

async function split(argv: string[], io: CliIo): Promise<number> {
  const cmd = 'key backup split';
  const { values } = parseCommandLine(cmd, {
    args: argv,
    options: {
      keystore: { type: 'string' },
      key: { type: 'string' },
      shares: { type: 'string' },
      threshold: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const spec = keystoreOrKey(cmd, values.keystore, values.key);
  const count = parseIntFlag(cmd, '--shares', required(cmd, '--shares', values.shares), 2, 255);
  const threshold = parseIntFlag(
    cmd,
    '--threshold',
    required(cmd, '--threshold', values.threshold),
    2,
    255,
  );
  if (threshold > count)
    throw new UsageError(cmd, `--threshold ${threshold} is more than --shares ${count}`);
  const outDir = required(cmd, '--out', values.out);

  const core = await loadCore();
  const keystore = await openKeystore(spec, { core, secrets: cliSecrets(io) });
  let seed: Uint8Array | undefined;
  try {
    const key = await requireKey(keystore, spec);
    seed = await keystore.exportSeed(key);
    const shares = core.shamirSplit(seed, threshold, count);
    await mkdir(outDir, { recursive: true, mode: 0o700 });
    const label = labelOf(spec);
    const paths = shares.map((_, i) => join(outDir, `${label}-share-${i + 1}-of-${count}.json`));
    for (const [i, share] of shares.entries()) {
      const file = {
        type: SHARE_TYPE,
        version: 1,
        did: key.did,
        threshold,
        shares: count,
        index: i + 1,
        share: Buffer.from(share).toString('hex'),
      };
      await writeNewFile(paths[i] as string, `${JSON.stringify(file, null, 2)}\n`);
    }
    io.log.info('key split', { did: key.did, threshold, shares: count, dir: outDir });
    for (const p of paths) writeLine(io.stdout, p);
    return EXIT_OK;
  } finally {
    seed?.fill(0);
    await keystore.close();
  }
}

interface ShareFile {
  readonly path: string;
  readonly did: string;
  readonly share: Uint8Array;
}

async function readShareFile(path: string): Promise<ShareFile> {
  const bad = (why: string): ConfigError =>
    new ConfigError('ERR_SHARE_FILE', `${path} is not a key share file: ${why}`);
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (cause) {
    throw new ConfigError('ERR_FILE_READ', `cannot read share file ${path}`, { cause });
  }
  if (size > MAX_SHARE_FILE_BYTES) throw bad(`larger than ${MAX_SHARE_FILE_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse((await readFileFlag('share file', path)).toString('utf8'));
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw bad('not JSON');
  }
  const f = (value ?? {}) as Record<string, unknown>;
  if (f['type'] !== SHARE_TYPE || f['version'] !== 1)
    throw bad(`type is not ${SHARE_TYPE} version 1`);
  if (typeof f['did'] !== 'string') throw bad('no did');
  if (typeof f['share'] !== 'string' || !/^(?:[0-9a-f]{2})+$/.test(f['share']))
    throw bad('share is not lowercase hex');
  return { path, did: f['did'], share: Uint8Array.from(Buffer.from(f['share'], 'hex')) };
}

async function combine(argv: string[], io: CliIo): Promise<number> {
  const cmd = 'key backup combine';
  const { values, positionals } = parseCommandLine(cmd, {
    args: argv,
    allowPositionals: true,
    options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const out = required(cmd, '--out', values.out);
  if (positionals.length === 0) throw new UsageError(cmd, 'at least one SHARE_FILE is required');
  if (positionals.length > 255) throw new UsageError(cmd, 'at most 255 share files');
  const files = await Promise.all(positionals.map(readShareFile));
  const did = (files[0] as ShareFile).did;
  const other = files.find((f) => f.did !== did);
  if (other !== undefined) {
    throw new ConfigError(
      'ERR_SHAMIR_MISMATCH',
      `${other.path} is a share of ${other.did}, not of ${did}`,
    );
  }
  const core = await loadCore();
  const seed = core.shamirCombine(files.map((f) => f.share));
  try {
    const restored = didKeyFromPublicKey(core.ed25519PublicKey(seed));
    if (restored !== did) {
      throw new ConfigError(
        'ERR_SHAMIR_WRONG_KEY',
        `the shares restore ${restored}, not ${did}: a share was altered (and its checksum recomputed)`,
      );
    }
    const spec = { kind: 'vault', path: out } as const;
    const keystore = await openKeystore(spec, { core, secrets: cliSecrets(io) });
    try {
      const key = await keystore.importSeed(labelOf(spec), seed);
      io.log.info('key restored', {
        did: key.did,
        path: out,
        from: files.map((f) => basename(f.path)),
      });
      writeLine(io.stdout, key.did);
      return EXIT_OK;
    } catch (error) {
      if (error instanceof KeyExistsError) {
        throw new KeyFileExistsError(
          `${formatKeystoreSpec(spec)} already exists; the restored key is written only to a new file`,
          { cause: error },
        );
      }
      throw error;
    } finally {
      await keystore.close();
    }
  } finally {
    seed.fill(0);
  }
}

/** Creates `path` with mode 0600, refusing to replace anything, and syncs it. */
async function writeNewFile(path: string, text: string): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'EEXIST' ? 'ERR_SHARE_FILE_EXISTS' : 'ERR_FILE_WRITE',
      `cannot create ${path} (${code ?? 'error'})`,
      { cause },
    );
  }
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}
