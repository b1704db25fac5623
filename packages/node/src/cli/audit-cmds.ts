/**
 * `audit check-proof` and `audit check-consistency`: a client's own checks of a node's audit
 * log, with nothing but the API's answers, the node's DID and (for a proof) the client's event.
 * Loads no storage: the judging is audit/client-proof.ts.
 */
import { loadCore } from '@commons-sync/bindings';
import {
  checkCheckpointJson,
  checkConsistencyProof,
  checkInclusionProof,
} from '../audit/client-proof.js';
import { ProofError } from '../audit/errors.js';
import { sha256One } from '../audit/hash.js';
import { CommonsSyncError } from '../errors.js';
import {
  apiError,
  type ClientOptions,
  type HttpAnswer,
  requestJson,
  retryAfterMs,
} from '../net/client/http-client.js';
import { readEventJson } from '../protocol/index.js';
import {
  apiUrl,
  BIN,
  type CliIo,
  EXIT_OK,
  parseCommandLine,
  parseDurationFlag,
  parseUrlFlag,
  readFileFlag,
  required,
  UsageError,
  writeLine,
} from './common.js';

const CLIENT_OPTIONS = `  --url URL        the node's base URL (required)
  --node DID       the node's did:key, as 'init' and 'start' print it (required)
  --timeout DUR    deadline of each request (default 10s)
  --ca FILE        PEM CA certificate(s) to trust for https
  --json           print the verdict as JSON
  -h, --help       show this help`;

export const CHECK_PROOF_USAGE = `Usage: ${BIN} audit check-proof --url URL --node DID [options] EVENT.json

Checks that the node logged EVENT (a file with the event's JSON form) as accepted: fetches
GET /v1/audit/proof/<id> and checks, with nothing but the answer and DID, that the leaf is an
accept entry for this event's id and encoding, that the path leads to the root of a checkpoint,
and that the node's key signed that checkpoint (spec/AUDIT.md). When no checkpoint covers the
entry yet, waits as the node asks (at most 5 times). Exits 0 when the proof holds, 1 when it
does not or the node does not have the event.

Options:
${CLIENT_OPTIONS}`;

export const CHECK_CONSISTENCY_USAGE = `Usage: ${BIN} audit check-consistency --url URL --node DID --from FILE [--to FILE] [options]

Checks that the node's log only grew since an earlier checkpoint: FILE holds a checkpoint as
GET /v1/audit/checkpoint gave it (or '${BIN} status --json' printed it). Fetches the current
checkpoint (or takes --to), then GET /v1/audit/consistency, and checks both signatures, their
order and chain, and the RFC 6962 consistency proof. Exits 0 when the log is consistent, 1 when
it is not.

Options:
  --from FILE      the earlier checkpoint (required)
  --to FILE        the later checkpoint (default: the node's current one)
${CLIENT_OPTIONS}`;

const MAX_PENDING_TRIES = 5;
const MAX_PENDING_WAIT_MS = 10_000;

interface Common {
  url: URL;
  did: string;
  client: ClientOptions;
  json: boolean;
}

const COMMON_OPTIONS = {
  url: { type: 'string' },
  node: { type: 'string' },
  timeout: { type: 'string' },
  ca: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function common(
  cmd: string,
  values: { url?: string; node?: string; timeout?: string; ca?: string; json?: boolean },
): Promise<Common> {
  return {
    url: parseUrlFlag(cmd, '--url', required(cmd, '--url', values.url)),
    did: required(cmd, '--node', values.node),
    client: {
      timeoutMs: parseDurationFlag(cmd, '--timeout', values.timeout ?? '10s') * 1000,
      ...(values.ca === undefined ? {} : { ca: await readFileFlag('--ca', values.ca) }),
    },
    json: values.json === true,
  };
}

async function get(c: Common, path: string): Promise<HttpAnswer> {
  return requestJson(apiUrl(c.url, path), 'GET', undefined, c.client);
}

function failed(answer: HttpAnswer, what: string): CommonsSyncError {
  const { code, message } = apiError(answer);
  return new CommonsSyncError(
    'ERR_HTTP_STATUS',
    `${what} answered ${answer.status}: ${code} ${message}`,
  );
}

function parseJsonFile(text: string, flag: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ProofError(`${flag} is not a JSON file`);
  }
}

export async function checkProof(argv: string[], io: CliIo): Promise<number> {
  const cmd = 'audit check-proof';
  const { values, positionals } = parseCommandLine(cmd, {
    args: argv,
    options: COMMON_OPTIONS,
    allowPositionals: true,
  });
  const c = await common(cmd, values);
  if (positionals.length !== 1) throw new UsageError(cmd, 'exactly one event file is required');
  const file = positionals[0] as string;
  const decoded = readEventJson(await readFileFlag('event file', file));
  if (!decoded.ok)
    throw new CommonsSyncError(
      'ERR_BAD_EVENT',
      `${file} is not an event: ${decoded.reason} (${decoded.detail})`,
    );
  const core = await loadCore();
  const id = Buffer.from(core.sha256(decoded.value.body)).toString('hex');

  let answer = await get(c, `/v1/audit/proof/${id}`);
  for (let i = 0; answer.status === 202 && i < MAX_PENDING_TRIES; i++) {
    const wait = Math.min(retryAfterMs(answer.headers) ?? 1000, MAX_PENDING_WAIT_MS);
    io.log.info('proof pending: no checkpoint covers the entry yet', { wait_ms: wait });
    await new Promise((r) => setTimeout(r, wait));
    answer = await get(c, `/v1/audit/proof/${id}`);
  }
  if (answer.status === 404)
    throw new CommonsSyncError('ERR_NOT_IN_LOG', `the node has no accepted event ${id}`);
  if (answer.status !== 200) throw failed(answer, `GET /v1/audit/proof/${id}`);
  const checked = checkInclusionProof(core, sha256One, decoded.value, answer.json, c.did);
  const cp = checked.checkpoint;
  if (c.json) {
    writeLine(
      io.stdout,
      JSON.stringify({
        ok: true,
        event_id: checked.eventId,
        leaf_index: checked.leafIndex,
        checkpoint: { seq: cp.seq, tree_size: cp.treeSize, time: cp.time },
      }),
    );
  } else {
    writeLine(
      io.stdout,
      `event ${checked.eventId} is entry ${checked.leafIndex} of the audit log of ${c.did}`,
    );
    writeLine(
      io.stdout,
      `proved by checkpoint ${cp.seq} (${cp.treeSize} entries, signed ${new Date(cp.time).toISOString()})`,
    );
  }
  return EXIT_OK;
}

export async function checkConsistency(argv: string[], io: CliIo): Promise<number> {
  const cmd = 'audit check-consistency';
  const { values } = parseCommandLine(cmd, {
    args: argv,
    options: { ...COMMON_OPTIONS, from: { type: 'string' }, to: { type: 'string' } },
  });
  const c = await common(cmd, values);
  const core = await loadCore();
  const checkpointOf = (value: unknown): unknown =>
    typeof value === 'object' && value !== null && 'checkpoint' in value
      ? (value as { checkpoint: unknown }).checkpoint
      : value;
  const fromFile = required(cmd, '--from', values.from);
  const older = checkCheckpointJson(
    core,
    checkpointOf(
      parseJsonFile((await readFileFlag('--from', fromFile)).toString('utf8'), '--from'),
    ),
    c.did,
  );
  let newerJson: unknown;
  if (values.to === undefined) {
    const answer = await get(c, '/v1/audit/checkpoint');
    if (answer.status !== 200) throw failed(answer, 'GET /v1/audit/checkpoint');
    newerJson = answer.json;
  } else {
    newerJson = checkpointOf(
      parseJsonFile((await readFileFlag('--to', values.to)).toString('utf8'), '--to'),
    );
  }
  const newer = checkCheckpointJson(core, newerJson, c.did);
  const path = `/v1/audit/consistency?from=${older.treeSize}&to=${newer.treeSize}`;
  const answer = await get(c, path);
  if (answer.status !== 200) throw failed(answer, `GET ${path}`);
  checkConsistencyProof(sha256One, older, newer, answer.json);
  if (c.json) {
    writeLine(
      io.stdout,
      JSON.stringify({
        ok: true,
        from: { seq: older.seq, tree_size: older.treeSize },
        to: { seq: newer.seq, tree_size: newer.treeSize },
      }),
    );
  } else {
    writeLine(
      io.stdout,
      `the log of ${c.did} at ${newer.treeSize} entries (checkpoint ${newer.seq}) extends the one at ${older.treeSize} (checkpoint ${older.seq})`,
    );
  }
  return EXIT_OK;
}
