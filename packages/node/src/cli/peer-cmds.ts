/**
 * The network side of the CLI: the flags of `start` that put a node on the network (`--peer`,
 * `--sync-port`, `--admit`, `--config`), and `commons-sync peers`, which shows a running node's
 * peers through its API (`GET /v1/peers`).
 *
 * Admission (spec/SYNC.md §3.3): a node connects only to identities in its admission set. It
 * is `--admit` (and the config file's `admit`) when given, else the trusted set (`--trusted`).
 * In open mode there is no trusted set, and an open network would admit anyone: a node with
 * peers in open mode must name them with `--admit`.
 */
import { ConfigError } from '../errors.js';
import { apiError, requestJson } from '../net/client/http-client.js';
import { parseDidKey } from '../protocol/did.js';
import type { PeersJson } from '../service.js';
import { CLIENT_FLAG_OPTIONS, clientOptionsFromFlags } from './client-flags.js';
import {
  apiUrl,
  BIN,
  type Command,
  EXIT_OK,
  parseCommandLine,
  parseIntFlag,
  parseUrlFlag,
  readFileFlag,
  required,
  UsageError,
  writeLine,
} from './common.js';

export const DEFAULT_SYNC_PORT = 7710;

/** Largest config file read (a list of peers and identities). */
const MAX_CONFIG_BYTES = 1024 * 1024;

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

/** What `start` needs to run the network part, or undefined when the node runs alone. */
export interface NetworkFlags {
  readonly host: string;
  readonly port: number;
  readonly peers: readonly PeerAddress[];
  readonly admitted: ReadonlySet<string>;
}

export const NETWORK_OPTIONS_HELP = `Network (spec/SYNC.md; on when any of these is given):
  --peer HOST:PORT     keep a connection to the node whose sync port this is (repeatable;
                       redialed with backoff while it is down)
  --sync-port N        port of the sync listener; 0 picks a free one (default ${DEFAULT_SYNC_PORT})
  --sync-host HOST     address of the sync listener (default: --host, else 127.0.0.1)
  --admit DIDS         node identities that may connect (comma-separated did:keys;
                       repeatable). Default: the --trusted set. Required in --open mode;
                       refused with --root, whose validators in force are admitted
  --config FILE        JSON: {"peers": ["HOST:PORT", ...], "admit": ["did:key:...", ...],
                       "sync_host": "HOST", "sync_port": N}; flags add to it and win`;

/** The flags `start` declares for the network. */
export const NETWORK_PARSE_OPTIONS = {
  peer: { type: 'string', multiple: true },
  'sync-port': { type: 'string' },
  'sync-host': { type: 'string' },
  admit: { type: 'string', multiple: true },
  config: { type: 'string' },
} as const;

interface NetworkValues {
  peer?: string[];
  'sync-port'?: string;
  'sync-host'?: string;
  admit?: string[];
  config?: string;
}

/** HOST:PORT, or [IPv6]:PORT. */
export function parsePeerAddress(cmd: string, text: string): PeerAddress {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text.trim());
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (m === null || host === undefined || !(port >= 1 && port <= 65_535))
    throw new UsageError(cmd, `--peer must be HOST:PORT, got ${JSON.stringify(text)}`);
  return { host, port };
}

function parseAdmit(cmd: string, texts: readonly string[]): string[] {
  const out: string[] = [];
  for (const text of texts) {
    for (const did of text.split(',').map((d) => d.trim())) {
      if (did === '') continue;
      const parsed = parseDidKey(did);
      if (!parsed.ok) throw new UsageError(cmd, `--admit ${did}: ${parsed.detail}`);
      out.push(did);
    }
  }
  return out;
}

interface ConfigFile {
  peers: string[];
  admit: string[];
  syncHost?: string;
  syncPort?: number;
}

async function readConfig(path: string): Promise<ConfigFile> {
  const bytes = await readFileFlag('--config', path);
  if (bytes.length > MAX_CONFIG_BYTES)
    throw new ConfigError('ERR_CONFIG', `${path} is larger than ${MAX_CONFIG_BYTES} bytes`);
  const text = bytes.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError('ERR_CONFIG', `${path} is not JSON: ${(error as Error).message}`);
  }
  const bad = (what: string): never => {
    throw new ConfigError('ERR_CONFIG', `${path}: ${what}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    bad('the config is a JSON object');
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj))
    if (!['peers', 'admit', 'sync_host', 'sync_port'].includes(key))
      bad(`unknown key ${JSON.stringify(key)} (peers, admit, sync_host, sync_port)`);
  const strings = (key: string): string[] => {
    const v = obj[key] ?? [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
      bad(`${key} is an array of strings`);
    return v as string[];
  };
  const out: ConfigFile = { peers: strings('peers'), admit: strings('admit') };
  if (obj['sync_host'] !== undefined) {
    if (typeof obj['sync_host'] !== 'string') bad('sync_host is a string');
    out.syncHost = obj['sync_host'] as string;
  }
  if (obj['sync_port'] !== undefined) {
    const p = obj['sync_port'];
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 65_535)
      bad('sync_port is a port number (0..65535)');
    out.syncPort = p as number;
  }
  return out;
}

/**
 * The network part of `start`, from its flags and config file; undefined when none is given.
 * `trusted` is the trusted set (undefined in open mode), `apiHost` the API's `--host`.
 */
export async function networkFlags(
  cmd: string,
  values: NetworkValues,
  trusted: readonly string[] | undefined,
  apiHost: string | undefined,
  governed = false,
): Promise<NetworkFlags | undefined> {
  const config = values.config === undefined ? undefined : await readConfig(values.config);
  const on =
    config !== undefined ||
    (values.peer?.length ?? 0) > 0 ||
    values['sync-port'] !== undefined ||
    values['sync-host'] !== undefined ||
    (values.admit?.length ?? 0) > 0;
  if (!on) return undefined;
  const peers = [...(config?.peers ?? []), ...(values.peer ?? [])].map((p) =>
    parsePeerAddress(cmd, p),
  );
  const admit = parseAdmit(cmd, [...(config?.admit ?? []), ...(values.admit ?? [])]);
  if (governed && admit.length > 0)
    throw new UsageError(
      cmd,
      '--admit excludes --root: a node governed by a trust root admits the validators in force',
    );
  const admitted = new Set(admit.length > 0 ? admit : (trusted ?? []));
  if (admitted.size === 0 && !governed) {
    throw new UsageError(
      cmd,
      'a node with peers admits only the identities it is told: give --admit DIDS (or --trusted); in --open mode anyone could connect',
    );
  }
  const port =
    values['sync-port'] !== undefined
      ? parseIntFlag(cmd, '--sync-port', values['sync-port'], 0, 65_535)
      : (config?.syncPort ?? DEFAULT_SYNC_PORT);
  const host = values['sync-host'] ?? config?.syncHost ?? apiHost ?? '127.0.0.1';
  return { host, port, peers, admitted };
}

export const peersCommand: Command = {
  name: 'peers',
  summary: "show a node's peers: identity, state, score, lag, bytes",
  usage: `Usage: ${BIN} peers --url URL [options]

Prints the peers of a running node (GET /v1/peers): each one's identity, address, state
(ready, dialing, banned...), score, lag (events it held that the node lacked at the last
reconciliation), events accepted from it and bytes each way; then the node's sync set size and
the connections it refused at the handshake.

Options:
  --url URL        the node's API base URL (required)
  --timeout DUR    deadline of the request (default 10s)
  --ca FILE        PEM CA certificate(s) to trust for https
  --cert FILE      PEM client certificate for mutual TLS (with --cert-key)
  --cert-key FILE  PEM key of the client certificate
  --json           print the answer as JSON
  -h, --help       show this help`,
  async run(argv, io) {
    const cmd = 'peers';
    const { values } = parseCommandLine(cmd, {
      args: argv,
      options: {
        url: { type: 'string' },
        ...CLIENT_FLAG_OPTIONS,
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const url = parseUrlFlag(cmd, '--url', required(cmd, '--url', values.url));
    const client = await clientOptionsFromFlags(cmd, values, '10s');
    const answer = await requestJson(apiUrl(url, '/v1/peers'), 'GET', undefined, client);
    if (answer.status !== 200 || answer.json === undefined) {
      const { code, message } = apiError(answer);
      throw new ConfigError(
        'ERR_HTTP_STATUS',
        `GET /v1/peers answered ${answer.status}: ${code} ${message}`,
      );
    }
    const peers = answer.json as PeersJson;
    if (values.json === true) {
      writeLine(io.stdout, JSON.stringify(peers));
      return EXIT_OK;
    }
    writeLine(
      io.stdout,
      `node ${peers.node}, sync on ${peers.listen}, ${peers.sync_set} ids in its sync set`,
    );
    writeLine(io.stdout, formatPeers(peers));
    const refused = Object.entries(peers.refused);
    if (refused.length > 0)
      writeLine(
        io.stdout,
        `refused at the handshake: ${refused.map(([code, n]) => `${code} ${n}`).join(', ')}`,
      );
    if (peers.split_views > 0)
      writeLine(
        io.stdout,
        `split views detected: ${peers.split_views} (evidence in the audit log)`,
      );
    return EXIT_OK;
  },
};

const bytes = (n: number): string =>
  n < 1024
    ? `${n} B`
    : n < 1024 ** 2
      ? `${(n / 1024).toFixed(1)} KiB`
      : `${(n / 1024 ** 2).toFixed(1)} MiB`;

/** One row per peer, in columns. */
export function formatPeers(p: PeersJson): string {
  if (p.peers.length === 0) return '(no peers)';
  const rows = [
    ['PEER', 'ADDRESS', 'STATE', 'SCORE', 'LAG', 'ACCEPTED', 'IN', 'OUT'],
    ...p.peers.map((x) => [
      x.did ?? '(unknown)',
      x.address ?? '-',
      x.last_close !== null && x.state !== 'ready' ? `${x.state} (${x.last_close.code})` : x.state,
      `${x.score} ${x.score_state}`,
      x.lag === null ? '-' : String(x.lag.need),
      String(x.events_accepted),
      bytes(x.bytes_in),
      bytes(x.bytes_out),
    ]),
  ];
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
