/**
 * The routes of the HTTP API and their handlers. Handlers return a {@link Reply} or throw an
 * {@link HttpError}; the server turns both into responses. Handlers depend only on
 * {@link NodeService}.
 */
import type { IncomingMessage } from 'node:http';
import {
  BadRangeError,
  InvalidatedEventError,
  OverloadedError,
  ShuttingDownError,
} from '../errors.js';
import { isIdentifier } from '../identity/index.js';
import { batchSize, type EventTextBatch } from '../protocol/json-batch.js';
import type { IdentityService, IngestResult, KeyEventResult } from '../service.js';
import { clientKey, overloaded } from './admission.js';
import { ApiCode, HttpError } from './errors.js';
import { GOVERNANCE_ROUTES } from './governance-routes.js';
import { checkDeclaredLength, checkJsonContentType, eventBatchOfBody, readBody } from './limits.js';
import type { Reply, Route, RouteContext } from './route-types.js';

export { RETRY_AFTER_OVERLOADED_S } from './admission.js';
/** Seconds a client should wait before retrying a 503. */
export const RETRY_AFTER_SHUTTING_DOWN_S = 5;

export type { Reply, Route, RouteContext, RouteLimits } from './route-types.js';

const ID = /^[0-9a-fA-F]{64}$/;

/**
 * Key events in one POST /v1/key-events: they are read and verified on the main thread (the
 * node judges them where the logs are), so a request holds it for a bounded time.
 */
export const MAX_KEY_EVENTS_PER_REQUEST = 256;

export const ROUTES: readonly Route[] = [
  { pattern: '/v1/events', regex: /^\/v1\/events$/, methods: { POST: postEvents } },
  { pattern: '/v1/events/:id', regex: /^\/v1\/events\/([^/]*)$/, methods: { GET: getEvent } },
  { pattern: '/v1/key-events', regex: /^\/v1\/key-events$/, methods: { POST: postKeyEvents } },
  {
    pattern: '/v1/identities/:did',
    regex: /^\/v1\/identities\/([^/]*)$/,
    methods: { GET: getIdentity },
  },
  {
    pattern: '/v1/identities/:did/key-events',
    regex: /^\/v1\/identities\/([^/]*)\/key-events$/,
    methods: { GET: getKeyEventLog },
  },
  {
    pattern: '/v1/audit/checkpoint',
    regex: /^\/v1\/audit\/checkpoint$/,
    methods: { GET: getCheckpoint },
  },
  {
    pattern: '/v1/audit/proof/:id',
    regex: /^\/v1\/audit\/proof\/([^/]*)$/,
    methods: { GET: getProof },
  },
  {
    pattern: '/v1/audit/consistency',
    regex: /^\/v1\/audit\/consistency$/,
    methods: { GET: getConsistency },
  },
  ...GOVERNANCE_ROUTES,
  { pattern: '/v1/peers', regex: /^\/v1\/peers$/, methods: { GET: getPeers } },
  { pattern: '/healthz', regex: /^\/healthz$/, methods: { GET: getHealth } },
  { pattern: '/metrics', regex: /^\/metrics$/, methods: { GET: getMetrics } },
];

export function matchRoute(path: string): { route: Route; params: string[] } | undefined {
  for (const route of ROUTES) {
    const m = route.regex.exec(path);
    if (m !== null) return { route, params: m.slice(1) };
  }
  return undefined;
}

/** The methods a route answers, for the Allow header of a 405. */
export function allowedMethods(route: Route): string[] {
  const out: string[] = [];
  if (route.methods.GET !== undefined) out.push('GET', 'HEAD');
  if (route.methods.POST !== undefined) out.push('POST');
  return out;
}

/**
 * The HttpError for an error a service call threw: overloaded → 429, stopping → 503,
 * anything else → undefined (the server answers 500 and logs it).
 */
export function serviceErrorToHttp(error: unknown): HttpError | undefined {
  if (error instanceof OverloadedError) return overloaded('the node is overloaded; retry later');
  if (error instanceof ShuttingDownError) return shuttingDown();
  return undefined;
}

export function shuttingDown(): HttpError {
  return new HttpError(503, ApiCode.SHUTTING_DOWN, 'the node is shutting down', {
    'Retry-After': String(RETRY_AFTER_SHUTTING_DOWN_S),
  });
}

async function postEvents(
  req: IncomingMessage,
  _params: readonly string[],
  ctx: RouteContext,
): Promise<Reply> {
  return postBatch(req, ctx, ctx.limits.maxEventsPerRequest, (batch) => ctx.service.ingest(batch));
}

/** POST /v1/key-events: one key event (a JSON object) or a JSON array of them (§3.5 framing). */
async function postKeyEvents(
  req: IncomingMessage,
  _params: readonly string[],
  ctx: RouteContext,
): Promise<Reply> {
  const identities = identityService(ctx);
  const max = Math.min(ctx.limits.maxEventsPerRequest, MAX_KEY_EVENTS_PER_REQUEST);
  return postBatch(req, ctx, max, (batch) => identities.ingestKeyEvents(batch));
}

async function postBatch(
  req: IncomingMessage,
  ctx: RouteContext,
  maxEventsPerRequest: number,
  ingest: (batch: EventTextBatch) => Promise<readonly (IngestResult | KeyEventResult)[]>,
): Promise<Reply> {
  const { maxBodyBytes } = ctx.limits;
  checkJsonContentType(req);
  const declared = checkDeclaredLength(req, maxBodyBytes);
  // The body's bytes count against its client's and the server's budgets while it is read and
  // until it is answered; an ingest slot is taken only once it has arrived (admission.ts).
  const ticket = ctx.admission.startBody(clientKey(req.socket.remoteAddress), declared, Date.now());
  try {
    const body = await readBody(req, maxBodyBytes, ticket);
    if (!ctx.admission.tryStartIngest()) {
      throw overloaded(
        `more than ${ctx.admission.limits.maxIngestInFlight} requests are being ingested`,
      );
    }
    try {
      return await ingestBody(body, maxEventsPerRequest, ctx, ingest);
    } finally {
      ctx.admission.endIngest();
    }
  } finally {
    ticket.release();
  }
}

async function ingestBody(
  body: Buffer,
  maxEventsPerRequest: number,
  ctx: RouteContext,
  ingest: (batch: EventTextBatch) => Promise<readonly (IngestResult | KeyEventResult)[]>,
): Promise<Reply> {
  ctx.metrics.ingestStarted();
  let count = 0;
  try {
    // The body is split into the events' JSON texts, never parsed here: each text reaches the
    // node's strict reader byte for byte (spec/PROTOCOL.md §3.4, §3.5).
    const { batch, single } = eventBatchOfBody(body, maxEventsPerRequest);
    count = batchSize(batch);
    let results: readonly (IngestResult | KeyEventResult)[];
    try {
      results = await ingest(batch);
    } catch (error) {
      throw serviceErrorToHttp(error) ?? error;
    }
    if (!Array.isArray(results) || results.length !== count) {
      throw new Error(
        `ingest gave ${Array.isArray(results) ? results.length : 'no'} results for ${count} events`,
      );
    }
    return { status: 200, json: single ? { result: results[0] } : { results } };
  } finally {
    ctx.metrics.ingestEnded(count);
  }
}

function eventId(params: readonly string[]): string {
  const id = params[0] ?? '';
  if (!ID.test(id)) throw new HttpError(400, ApiCode.BAD_ID, 'an event id is 64 hex digits');
  return id.toLowerCase();
}

async function getEvent(
  _req: IncomingMessage,
  params: readonly string[],
  ctx: RouteContext,
): Promise<Reply> {
  const id = eventId(params);
  await ctx.service.settled?.(); // nothing shown before it is durable
  let event: unknown;
  try {
    event = ctx.service.getEvent(id);
  } catch (error) {
    if (error instanceof InvalidatedEventError)
      throw new HttpError(410, ApiCode.EVENT_INVALIDATED, error.message);
    throw error;
  }
  if (event === undefined) throw new HttpError(404, ApiCode.NOT_FOUND, `no event ${id}`);
  return { status: 200, json: event };
}

function identityService(ctx: RouteContext): IdentityService {
  if (ctx.service.identities === undefined)
    throw new HttpError(404, ApiCode.NOT_FOUND, 'this node keeps no identities');
  return ctx.service.identities;
}

function didOf(params: readonly string[]): string {
  const did = decodeURIComponent(params[0] ?? '');
  if (!isIdentifier(did))
    throw new HttpError(
      400,
      ApiCode.BAD_DID,
      'an identity is a did:cs (did:cs:z + 46 base58btc digits)',
    );
  return did;
}

/** GET /v1/identities/:did: the resolved state (spec/IDENTITY.md §7.3) and what is held of it. */
function getIdentity(_req: IncomingMessage, params: readonly string[], ctx: RouteContext): Reply {
  const did = didOf(params);
  const identity = identityService(ctx).identity(did);
  if (identity === undefined)
    throw new HttpError(404, ApiCode.NOT_FOUND, `no inception of ${did} is held`);
  return { status: 200, json: identity };
}

/** GET /v1/identities/:did/key-events: the attached key events, each after what it refers to. */
function getKeyEventLog(
  _req: IncomingMessage,
  params: readonly string[],
  ctx: RouteContext,
): Reply {
  const did = didOf(params);
  const log = identityService(ctx).keyEventLog(did);
  if (log === undefined)
    throw new HttpError(404, ApiCode.NOT_FOUND, `no inception of ${did} is held`);
  return { status: 200, json: { identity: did, key_events: log.map((e) => e.json) } };
}

async function getCheckpoint(
  _req: IncomingMessage,
  _params: readonly string[],
  ctx: RouteContext,
): Promise<Reply> {
  return { status: 200, json: await ctx.service.checkpoint() };
}

/**
 * 200 with the proof; 202 with `pending: true` and Retry-After when no checkpoint covers the
 * entry yet and the node signs at most one per interval (spec/AUDIT.md §7).
 */
async function getProof(
  _req: IncomingMessage,
  params: readonly string[],
  ctx: RouteContext,
): Promise<Reply> {
  const id = eventId(params);
  const proof = await ctx.service.auditProof(id);
  if (proof === undefined) throw new HttpError(404, ApiCode.NOT_FOUND, `no accepted event ${id}`);
  if ('pending' in proof) {
    return {
      status: 202,
      json: proof,
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(proof.retry_after_ms / 1000))) },
    };
  }
  return { status: 200, json: proof };
}

/** `?from=M&to=N`: the RFC 6962 consistency proof between the log's sizes M ≤ N. */
async function getConsistency(
  req: IncomingMessage,
  _params: readonly string[],
  ctx: RouteContext,
): Promise<Reply> {
  const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
  const size = (name: string): number => {
    const text = query.get(name) ?? '';
    if (!/^\d{1,15}$/.test(text))
      throw new HttpError(400, ApiCode.BAD_QUERY, `${name} must be a tree size (a whole number)`);
    return Number(text);
  };
  const from = size('from');
  const to = size('to');
  if (ctx.service.consistencyProof === undefined)
    throw new HttpError(404, ApiCode.NOT_FOUND, 'this node serves no consistency proofs');
  await ctx.service.settled?.(); // a proof over entries not yet durable could be contradicted
  try {
    return { status: 200, json: ctx.service.consistencyProof(from, to) };
  } catch (error) {
    if (error instanceof BadRangeError) throw new HttpError(400, ApiCode.BAD_QUERY, error.message);
    throw error;
  }
}

/** The node's peers: identity, state, score, lag, bytes (spec/SYNC.md §12). */
function getPeers(_req: IncomingMessage, _params: readonly string[], ctx: RouteContext): Reply {
  if (ctx.service.peers === undefined)
    throw new HttpError(404, ApiCode.NOT_FOUND, 'this node runs without peers (start --peer)');
  return { status: 200, json: ctx.service.peers() };
}

function getHealth(_req: IncomingMessage, _params: readonly string[], ctx: RouteContext): Reply {
  return { status: 200, json: ctx.service.health() };
}

function getMetrics(_req: IncomingMessage, _params: readonly string[], ctx: RouteContext): Reply {
  const node = ctx.service.metrics();
  const own = ctx.metrics.render();
  const text = node === '' ? own : `${node}${node.endsWith('\n') ? '' : '\n'}${own}`;
  return { status: 200, text, contentType: 'text/plain; version=0.0.4; charset=utf-8' };
}
