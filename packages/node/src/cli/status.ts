/** `status`: a node's health and its latest checkpoint, over the HTTP API. */
import { CommonsSyncError } from '../errors.js';
import { apiError, type ClientOptions, requestJson } from '../net/client/http-client.js';
import type { CheckpointJson, HealthJson } from '../service.js';
import { CLIENT_FLAG_OPTIONS, clientOptionsFromFlags } from './client-flags.js';
import {
  apiUrl,
  BIN,
  type Command,
  EXIT_FAILURE,
  EXIT_OK,
  parseCommandLine,
  parseUrlFlag,
  required,
  writeLine,
} from './common.js';

export const statusCommand: Command = {
  name: 'status',
  summary: "show a node's health and latest checkpoint",
  usage: `Usage: ${BIN} status --url URL [options]

Prints the node's health (GET /healthz) and its latest audit checkpoint
(GET /v1/audit/checkpoint). Exits 1 if the node cannot be reached or is not healthy.

Options:
  --url URL        the node's base URL (required)
  --timeout DUR    deadline of each request (default 10s)
  --ca FILE        PEM CA certificate(s) to trust for https
  --cert FILE      PEM client certificate for mutual TLS (with --cert-key)
  --cert-key FILE  PEM key of the client certificate
  --json           print { health, checkpoint } as JSON
  -h, --help       show this help`,
  async run(argv, io) {
    const cmd = 'status';
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
    const health = (await getJson(apiUrl(url, '/healthz'), client)) as HealthJson;
    const checkpoint = (await getJson(
      apiUrl(url, '/v1/audit/checkpoint'),
      client,
    )) as CheckpointJson;
    if (values.json === true) {
      writeLine(io.stdout, JSON.stringify({ health, checkpoint }));
    } else {
      const out = io.stdout;
      writeLine(out, `node:       ${health.did}`);
      writeLine(out, `status:     ${health.status}`);
      writeLine(out, `events:     ${health.events}`);
      writeLine(out, `audit size: ${health.audit_size}`);
      writeLine(out, `uptime:     ${formatSeconds(health.uptime_s)}`);
      writeLine(out, `backend:    ${health.backend}`);
      if (health.trust !== undefined) {
        const t = health.trust;
        const alerts =
          (t.alerts ?? []).length > 0 ? ` (ALERT: ${(t.alerts ?? []).join(', ')})` : '';
        writeLine(
          out,
          `trust:      ${t.mode === 'governed' ? `governed by root ${t.root ?? '?'}${alerts}` : t.mode === 'open' ? 'open (any author; no trust root)' : 'allow-list'}`,
        );
      }
      writeLine(out, `checkpoint: size ${checkpoint.tree_size}, root ${checkpoint.root}`);
      writeLine(out, `            at ${formatTime(checkpoint.time)}, signed by ${checkpoint.node}`);
      writeLine(out, `            signature ${checkpoint.signature}`);
    }
    return health.status === 'ok' ? EXIT_OK : EXIT_FAILURE;
  },
};

async function getJson(url: URL, client: ClientOptions): Promise<unknown> {
  const answer = await requestJson(url, 'GET', undefined, client);
  if (answer.status !== 200 || answer.json === undefined) {
    const { code, message } = apiError(answer);
    throw new CommonsSyncError(
      'ERR_HTTP_STATUS',
      `GET ${url.pathname} answered ${answer.status}: ${code} ${message}`,
    );
  }
  return answer.json;
}

function formatSeconds(total: number): string {
  if (!Number.isFinite(total)) return String(total);
  const s = Math.floor(total);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return [d > 0 ? `${d}d` : '', h > 0 ? `${h}h` : '', m > 0 ? `${m}m` : '', `${s % 60}s`].join('');
}

/** `time` is Unix seconds (or milliseconds, if it is that large). */
function formatTime(time: number): string {
  const ms = time > 1e11 ? time : time * 1000;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(time) : date.toISOString();
}
