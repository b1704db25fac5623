/**
 * Helpers of the tests that run governance through a whole node: record JSON texts, ordinary
 * events by test keys, and the governance routes over HTTP.
 */
import {
  type DecodedRecord,
  type RecordBody,
  recordToJson,
  type VerifiedRecord,
} from '../src/governance/index.js';
import { eventToJson, signEvent } from '../src/protocol/index.js';
import { core, type TestKey } from './governance-fixtures.js';

/** The JSON text of a record, as `trust root init` writes it and a node reads it. */
export const recordText = (r: DecodedRecord | VerifiedRecord): string =>
  JSON.stringify(recordToJson(r.record));
export const recordBytes = (r: DecodedRecord | VerifiedRecord): Uint8Array =>
  new TextEncoder().encode(recordText(r));

let nonces = 0;

/** An ordinary did:key event by `key`, of `kind`, dated `createdAt`. */
export function keyEvent(
  key: TestKey,
  createdAt: number,
  kind = 'note',
  label = '',
): Record<string, unknown> {
  const r = signEvent(
    core,
    {
      v: 1,
      kind,
      author: key.did,
      createdAt,
      expiresAt: createdAt + 6 * 86_400,
      nonce: core
        .sha256(new TextEncoder().encode(`governance-event/${label}/${nonces++}`))
        .slice(0, 16),
      payload: { text: label } as never,
    },
    [key.seed],
  );
  if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
  return eventToJson(r.value.event) as unknown as Record<string, unknown>;
}

export interface Answer {
  status: string;
  id?: string;
  reason?: string;
  standing?: string;
  [key: string]: unknown;
}

async function json(res: Response, what: string): Promise<unknown> {
  const body = (await res.json()) as unknown;
  if (res.status !== 200) throw new Error(`${what}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** POST /v1/governance with one record (or raw text). */
export async function postRecord(url: string, record: VerifiedRecord | DecodedRecord | string) {
  const body = typeof record === 'string' ? record : recordText(record);
  const res = await fetch(`${url}/v1/governance`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  return ((await json(res, 'POST /v1/governance')) as { result: Answer }).result;
}

export async function postStatus(url: string, record: VerifiedRecord | DecodedRecord) {
  const res = await fetch(`${url}/v1/governance/status`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: recordText(record),
  });
  return (await json(res, 'POST /v1/governance/status')) as Record<string, unknown>;
}

export async function getGovernance(url: string) {
  return (await json(await fetch(`${url}/v1/governance`), 'GET /v1/governance')) as Record<
    string,
    unknown
  > & { mode: string };
}

export async function explain(url: string, did: string, scope: string, at: number) {
  const q = new URLSearchParams({ did, scope, at: String(at) });
  return (await json(await fetch(`${url}/v1/trust/explain?${q}`), 'explain')) as {
    trusted: boolean;
    reason: string;
    paths: unknown[][];
    mode: string;
  };
}

export async function postEvents(url: string, events: readonly unknown[]): Promise<Answer[]> {
  const res = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(events),
  });
  return ((await json(res, 'POST /v1/events')) as { results: Answer[] }).results;
}

export const verdictOf = (a: Answer): string =>
  a.status === 'rejected' ? (a.reason as string) : a.status;

/** A record body signed by `signers` (a shorthand of the fixtures' `signed`). */
export type Body = RecordBody;
