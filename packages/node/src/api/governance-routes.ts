/**
 * The governance routes (spec/GOVERNANCE.md): records in, the governed state, trust
 * explanations and the status of drafts. A record's JSON text reaches the node's strict reader
 * byte for byte, as events do; bodies are bounded by the record's JSON limit (§4).
 */
import type { IncomingMessage } from 'node:http';

import { GovernanceRateError } from '../errors.js';
import { GOV_LIMITS } from '../governance/record-types.js';
import type { GovernanceService } from '../service.js';
import { clientKey } from './admission.js';
import { ApiCode, HttpError } from './errors.js';
import { checkDeclaredLength, checkJsonContentType, readBody } from './limits.js';
import type { Reply, Route, RouteContext } from './route-types.js';

/** Longest scope a trust question may name (a kind: 64 bytes in the protocol). */
const MAX_SCOPE_CHARS = 64;
const MAX_DID_CHARS = 256;

export const GOVERNANCE_ROUTES: readonly Route[] = [
  {
    pattern: '/v1/governance',
    regex: /^\/v1\/governance$/,
    methods: { GET: getGovernance, POST: postRecord },
  },
  {
    pattern: '/v1/governance/records/:id',
    regex: /^\/v1\/governance\/records\/([^/]*)$/,
    methods: { GET: getRecord },
  },
  {
    pattern: '/v1/governance/status',
    regex: /^\/v1\/governance\/status$/,
    methods: { POST: postStatus },
  },
  { pattern: '/v1/trust/explain', regex: /^\/v1\/trust\/explain$/, methods: { GET: getExplain } },
];

function governanceService(ctx: RouteContext): GovernanceService {
  if (ctx.service.governance === undefined)
    throw new HttpError(404, ApiCode.NOT_FOUND, 'this node keeps no governance');
  return ctx.service.governance;
}

/** One record's JSON text, within the record's limit and the client's budgets. */
async function recordBody(req: IncomingMessage, ctx: RouteContext): Promise<Buffer> {
  checkJsonContentType(req);
  const max = Math.min(ctx.limits.maxBodyBytes, GOV_LIMITS.maxJsonBytes);
  const declared = checkDeclaredLength(req, max);
  const ticket = ctx.admission.startBody(clientKey(req.socket.remoteAddress), declared, Date.now());
  try {
    return await readBody(req, max, ticket);
  } finally {
    ticket.release();
  }
}

/** POST /v1/governance: one record (root, action, attestation or revocation) as JSON. */
async function postRecord(
  req: IncomingMessage,
  _params: readonly string[],
  ctx: RouteContext,
): Promise<Reply> {
  const governance = governanceService(ctx);
  const body = await recordBody(req, ctx);
  try {
    return { status: 200, json: { result: await governance.submit(body) } };
  } catch (error) {
    if (error instanceof GovernanceRateError) {
      throw new HttpError(429, ApiCode.OVERLOADED, error.message, {
        'Retry-After': String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))),
      });
    }
    throw error;
  }
}

/** GET /v1/governance: `{mode: "open"}`, or the governed state (§6.6) with `mode: "governed"`. */
function getGovernance(
  _req: IncomingMessage,
  _params: readonly string[],
  ctx: RouteContext,
): Reply {
  return { status: 200, json: governanceService(ctx).state() };
}

/** GET /v1/governance/records/:id: the held copies of a record (a co-signer fetches the draft). */
function getRecord(_req: IncomingMessage, params: readonly string[], ctx: RouteContext): Reply {
  const id = params[0] ?? '';
  if (!/^[0-9a-f]{64}$/.test(id))
    throw new HttpError(400, ApiCode.BAD_ID, 'a record id is 64 lowercase hex digits');
  const copies = governanceService(ctx).record(id);
  if (copies === undefined) throw new HttpError(404, ApiCode.NOT_FOUND, `no record ${id} is held`);
  return { status: 200, json: { id, copies } };
}

/** POST /v1/governance/status: a draft root or action → who signed, how many are missing. */
async function postStatus(
  req: IncomingMessage,
  _params: readonly string[],
  ctx: RouteContext,
): Promise<Reply> {
  const governance = governanceService(ctx);
  const body = await recordBody(req, ctx);
  return { status: 200, json: governance.proposalStatus(body) };
}

/** GET /v1/trust/explain?did=DID&scope=KIND&at=SECONDS (scope default `*`, at default now). */
function getExplain(req: IncomingMessage, _params: readonly string[], ctx: RouteContext): Reply {
  const governance = governanceService(ctx);
  const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
  const did = query.get('did') ?? '';
  if (!/^did:(key|cs):[1-9A-HJ-NP-Za-km-z]+$/.test(did) || did.length > MAX_DID_CHARS)
    throw new HttpError(400, ApiCode.BAD_DID, 'did must be a did:key or a did:cs');
  const scope = query.get('scope') ?? '*';
  if (scope.length === 0 || scope.length > MAX_SCOPE_CHARS || !/^[\x21-\x7e]+$/.test(scope))
    throw new HttpError(400, ApiCode.BAD_QUERY, 'scope must be 1..64 printable ASCII characters');
  const atText = query.get('at');
  let at = Math.floor(Date.now() / 1000);
  if (atText !== null) {
    if (!/^\d{1,15}$/.test(atText))
      throw new HttpError(400, ApiCode.BAD_QUERY, 'at must be Unix seconds (a whole number)');
    at = Number(atText);
  }
  return { status: 200, json: governance.explain(did, scope, at) };
}
