/** Commands that work on a node's data directory: `init`, `start`, `audit verify`. */
import { type ApiServer, type ApiTlsOptions, startApiServer } from '../api/server.js';
import { parseDidKey } from '../protocol/did.js';
import type { NodeService } from '../service.js';
import { CHECK_CONSISTENCY_USAGE, CHECK_PROOF_USAGE } from './audit-cmds.js';
import {
  BIN,
  type CliIo,
  type Command,
  cliSecrets,
  EXIT_FAILURE,
  EXIT_OK,
  KEYSTORE_HELP,
  parseCommandLine,
  parseIntFlag,
  parseKeystoreFlag,
  readFileFlag,
  required,
  UsageError,
  writeLine,
} from './common.js';
import { describeBadEntry, loadNodeOps, type OpenNodeOptions } from './node-ops.js';
import { NETWORK_OPTIONS_HELP, NETWORK_PARSE_OPTIONS, networkFlags } from './peer-cmds.js';

export const DEFAULT_PORT = 7700;

export const initCommand: Command = {
  name: 'init',
  summary: 'create a data directory with a node identity',
  usage: `Usage: ${BIN} init --data DIR [--keystore SPEC]

Creates DIR (if needed) with a new node identity and prints the node's DID. An already
initialised DIR is left as it is and its DID printed.

Options:
  --data DIR        the data directory (required)
  --keystore SPEC   keep the node key in this keystore (default: DIR/node.key, a vault file);
                    the key is made there unless one with that label exists. DIR records
                    where it is (node.keystore), so start needs no --keystore
  -h, --help        show this help

${KEYSTORE_HELP}`,
  async run(argv, io) {
    const { values } = parseCommandLine('init', {
      args: argv,
      options: {
        data: { type: 'string' },
        keystore: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const dir = required('init', '--data', values.data);
    if (values.keystore !== undefined) parseKeystoreFlag('init', '--keystore', values.keystore);
    const ops = await loadNodeOps();
    const { did, created } = await ops.initDataDir(dir, cliSecrets(io), values.keystore);
    io.log.info(created ? 'data directory initialised' : 'data directory already initialised', {
      dir,
      did,
    });
    if (!created) writeLine(io.stderr, `${dir} was already initialised; its identity is unchanged`);
    writeLine(io.stdout, did);
    return EXIT_OK;
  },
};

export const startCommand: Command = {
  name: 'start',
  summary: 'run a node and its HTTP API',
  usage: `Usage: ${BIN} start --data DIR [options]

Opens the node in DIR and serves the HTTP API until SIGINT or SIGTERM, then closes
gracefully. Prints one line, "node <DID> listening on <URL>", once it is serving.

Options:
  --data DIR           the data directory, made by '${BIN} init' (required)
  --host HOST          address to listen on (default 127.0.0.1)
  --port N             port to listen on; 0 picks a free one (default ${DEFAULT_PORT})
  --workers N          signature-verification worker threads (default: the node's choice)
  --root FILE          govern the node by this trust root (a root record's JSON, from
                       '${BIN} trust root init'): authors are judged by its trust policy, and
                       roots and critical actions by its quorum. Replaces --trusted; a node
                       that holds roots must be started with its root again
  --trusted DIDS       without a root: accept events only from these authors (comma-separated
                       did:keys)
  --open               accept events from any author (the default without --root/--trusted)
  --tls-key FILE       PEM private key: serve https (with --tls-cert)
  --tls-cert FILE      PEM certificate chain
  --tls-client-ca FILE require client certificates that chain to this PEM CA (mutual TLS)
  --keystore SPEC      where the node key is, when not where init recorded it (it must be
                       the same key)
  --allow-tls12        also accept TLS 1.2 (ECDHE with AES-GCM or ChaCha20-Poly1305 only);
                       without it the API speaks TLS 1.3 only
  --allowed-host NAME  answer requests whose Host header is NAME (repeatable; '*' for any).
                       Always allowed: localhost and IP addresses. Other names are refused
                       with 421 ERR_HOST_NOT_ALLOWED, against DNS rebinding
  -h, --help           show this help

${NETWORK_OPTIONS_HELP}
With the network on, start also prints "node <DID> syncing on <HOST:PORT>" before the line
above.

${KEYSTORE_HELP}
Log lines (JSON) go to stderr; COMMONS_SYNC_LOG_LEVEL sets their level (default info).`,
  async run(argv, io) {
    const cmd = 'start';
    const { values } = parseCommandLine(cmd, {
      args: argv,
      options: {
        data: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        workers: { type: 'string' },
        trusted: { type: 'string' },
        open: { type: 'boolean' },
        root: { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-client-ca': { type: 'string' },
        keystore: { type: 'string' },
        'allow-tls12': { type: 'boolean' },
        'allowed-host': { type: 'string', multiple: true },
        ...NETWORK_PARSE_OPTIONS,
        help: { type: 'boolean', short: 'h' },
      },
    });
    const dataDir = required(cmd, '--data', values.data);
    const allowedHosts = (values['allowed-host'] ?? []).map((h) => parseHostName(cmd, h));
    const port = parseIntFlag(cmd, '--port', values.port ?? String(DEFAULT_PORT), 0, 65_535);
    const workers =
      values.workers === undefined
        ? undefined
        : parseIntFlag(cmd, '--workers', values.workers, 1, 1024);
    if (values.open === true && values.trusted !== undefined) {
      throw new UsageError(cmd, '--trusted and --open exclude each other');
    }
    if (values.root !== undefined && (values.open === true || values.trusted !== undefined)) {
      throw new UsageError(
        cmd,
        '--root excludes --trusted and --open: the trust root says whom the node trusts',
      );
    }
    const trustRoot =
      values.root === undefined ? undefined : await readFileFlag('--root', values.root);
    const trusted =
      values.open === true
        ? ('open' as const)
        : values.trusted === undefined
          ? undefined
          : parseTrusted(cmd, values.trusted);
    const tls = await tlsOptions(
      cmd,
      values['tls-key'],
      values['tls-cert'],
      values['tls-client-ca'],
    );
    if (values.keystore !== undefined) parseKeystoreFlag(cmd, '--keystore', values.keystore);
    if (values['allow-tls12'] === true && tls === undefined)
      throw new UsageError(cmd, '--allow-tls12 needs --tls-key and --tls-cert');
    if (tls !== undefined && values['allow-tls12'] === true) tls.allowTls12 = true;
    const network = await networkFlags(
      cmd,
      values,
      Array.isArray(trusted) ? trusted : undefined,
      values.host,
      trustRoot !== undefined,
    );

    const ops = await loadNodeOps();
    const openOpts: OpenNodeOptions = {
      dataDir,
      secrets: cliSecrets(io),
      ...(values.keystore === undefined ? {} : { keystore: values.keystore }),
      ...(trusted === undefined ? {} : { trusted }),
      ...(trustRoot === undefined ? {} : { trustRoot }),
      ...(workers === undefined ? {} : { workers }),
    };
    const node = await ops.openNode(openOpts);
    let service: NodeService = node;
    let api: ApiServer;
    try {
      if (network !== undefined) {
        if (ops.startNetwork === undefined)
          throw new UsageError(cmd, 'this build of the node has no network part');
        const running = await ops.startNetwork(node, { ...network, log: io.log });
        service = running.service;
        writeLine(io.stdout, `node ${node.did} syncing on ${running.listen}`);
      }
      api = await startApiServer(service, {
        port,
        ...(values.host === undefined ? {} : { host: values.host }),
        ...(tls === undefined ? {} : { tls }),
        allowedHosts,
        logger: io.log,
      });
    } catch (error) {
      await service.close();
      throw error;
    }
    io.log.info('node started', { did: service.did, url: api.url, data: dataDir });
    const check = node.startupCheck;
    if (check !== undefined) {
      if (check.replayRestored > 0 || check.reindexed) {
        io.log.warn('start-up check repaired derived state', {
          replay_restored: check.replayRestored,
          reindexed: check.reindexed,
        });
      }
      io.log.info('start-up check passed; the rest is left to audit verify', {
        events_checked: check.eventsChecked,
        checkpoints_checked: check.checkpointsChecked,
        events_left: check.eventsLeft,
        run: `${BIN} audit verify --data ${dataDir}`,
      });
    }
    const health = service.health();
    if (health.trust?.mode === 'governed') {
      io.log.info('governed by a trust root: authors are judged by its trust policy', {
        root: health.trust.root,
      });
      for (const alert of health.trust.alerts ?? [])
        io.log.warn(
          alert === 'forked'
            ? 'the trust root chain is forked: governance is frozen at the fork point (a new anchor recovers it)'
            : 'the trust root in force has expired: no critical action counts until a new root',
          { root: health.trust.root },
        );
    } else if (trusted === undefined || trusted === 'open') {
      io.log.warn(
        'open mode: no trust root, events from any author are accepted; pass --root FILE (or --trusted) to restrict',
        {},
      );
    }
    writeLine(io.stdout, `node ${service.did} listening on ${api.url}`);

    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      const onInt = (): void => heard('SIGINT');
      const onTerm = (): void => heard('SIGTERM');
      const heard = (s: NodeJS.Signals): void => {
        io.signals.removeListener('SIGINT', onInt);
        io.signals.removeListener('SIGTERM', onTerm);
        resolve(s);
      };
      io.signals.once('SIGINT', onInt);
      io.signals.once('SIGTERM', onTerm);
    });
    const force = (): void => {
      io.log.warn('second signal: exiting without finishing');
      process.exit(EXIT_FAILURE);
    };
    io.signals.once('SIGINT', force);
    io.signals.once('SIGTERM', force);
    io.log.info('shutting down', { signal });
    try {
      await api.close();
    } finally {
      await service.close();
    }
    io.log.info('stopped');
    io.signals.removeListener('SIGINT', force);
    io.signals.removeListener('SIGTERM', force);
    return EXIT_OK;
  },
};

/** A host name for --allowed-host: letters, digits, dots and hyphens, or '*'. */
function parseHostName(cmd: string, text: string): string {
  const name = text.trim().toLowerCase();
  const labels = name.replace(/\.$/, '').split('.');
  if (
    name === '*' ||
    (name.length <= 253 && labels.every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(l)))
  )
    return name;
  throw new UsageError(
    cmd,
    `--allowed-host must be a host name (no port), got ${JSON.stringify(text)}`,
  );
}

function parseTrusted(cmd: string, text: string): string[] {
  const dids = text
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '');
  if (dids.length === 0) throw new UsageError(cmd, '--trusted needs at least one did:key');
  for (const did of dids) {
    const parsed = parseDidKey(did);
    if (!parsed.ok) throw new UsageError(cmd, `--trusted ${did}: ${parsed.detail}`);
  }
  return [...new Set(dids)];
}

async function tlsOptions(
  cmd: string,
  keyPath: string | undefined,
  certPath: string | undefined,
  clientCaPath: string | undefined,
): Promise<ApiTlsOptions | undefined> {
  if ((keyPath === undefined) !== (certPath === undefined)) {
    throw new UsageError(cmd, '--tls-key and --tls-cert go together');
  }
  if (keyPath === undefined || certPath === undefined) {
    if (clientCaPath !== undefined)
      throw new UsageError(cmd, '--tls-client-ca needs --tls-key and --tls-cert');
    return undefined;
  }
  return {
    key: await readFileFlag('--tls-key', keyPath),
    cert: await readFileFlag('--tls-cert', certPath),
    ...(clientCaPath === undefined
      ? {}
      : { ca: await readFileFlag('--tls-client-ca', clientCaPath), requestClientCert: true }),
  };
}

const VERIFY_USAGE = `Usage: ${BIN} audit verify --data DIR

Checks the audit log in DIR: every entry's hash chain, every checkpoint's signature, root,
number and chain, the rules of the log (spec/AUDIT.md), that the stored events match the log,
and that they still hold to the protocol: each decodes and its signatures verify, no
(author, nonce) pair was accepted twice while live, live events keep their replay records.
Exits 0 with a summary when it is intact, 1 naming the first bad entry when it is not.

Options:
  --data DIR   the data directory (required)
  --json       print the verdict as JSON
  -h, --help   show this help`;

export const auditCommand: Command = {
  name: 'audit',
  summary: "check a node's audit log",
  usage: `Usage: ${BIN} audit <subcommand> [options]

Subcommands:
  verify              check the audit log of a data directory
  check-proof         check, over the API, that a node logged an event as accepted
  check-consistency   check, over the API, that a node's log only grew since a checkpoint

Run '${BIN} audit <subcommand> --help' for its options.`,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === 'verify') return verify(rest, io);
    if (sub === 'check-proof') return (await import('./audit-cmds.js')).checkProof(rest, io);
    if (sub === 'check-consistency')
      return (await import('./audit-cmds.js')).checkConsistency(rest, io);
    throw new UsageError(
      'audit',
      sub === undefined
        ? 'a subcommand is required (verify, check-proof, check-consistency)'
        : `unknown subcommand ${JSON.stringify(sub)}`,
    );
  },
};

export const auditSubcommandUsage: Readonly<Record<string, string>> = {
  verify: VERIFY_USAGE,
  'check-proof': CHECK_PROOF_USAGE,
  'check-consistency': CHECK_CONSISTENCY_USAGE,
};

async function verify(argv: string[], io: CliIo): Promise<number> {
  const cmd = 'audit verify';
  const { values } = parseCommandLine(cmd, {
    args: argv,
    options: {
      data: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const dir = required(cmd, '--data', values.data);
  const ops = await loadNodeOps();
  const verdict = await ops.verifyAudit(dir);
  if (values.json === true) writeLine(io.stdout, JSON.stringify(verdict));
  if (verdict.ok) {
    io.log.info('audit log intact', {
      dir,
      entries: verdict.entries,
      checkpoints: verdict.checkpoints,
      events: verdict.events,
    });
    if (values.json !== true) {
      writeLine(
        io.stdout,
        `audit log intact: ${verdict.entries} entries, ${verdict.checkpoints} checkpoints, ${verdict.events} events`,
      );
    }
    return EXIT_OK;
  }
  const bad = describeBadEntry(verdict.firstBad);
  io.log.error('audit log broken', { code: 'ERR_AUDIT_BROKEN', dir, first_bad: verdict.firstBad });
  writeLine(io.stderr, `${BIN}: audit log broken: first bad entry: ${bad}`);
  return EXIT_FAILURE;
}
