/**
 * What the `trust` commands share: signing governance records through the keystore contract
 * (the same steps as the core's `signRecord`, which takes raw seeds), record files, the node's
 * governance routes, and how a proposal's status and a trust explanation are printed.
 */
import { writeFile } from 'node:fs/promises';
import type { Core } from '@commons-sync/bindings';

import { ConfigError } from '../errors.js';
import {
  type DecodedRecord,
  decodeRecord,
  encodeRecord,
  encodeRecordBody,
  GOV_LIMITS,
  type GovernanceRecord,
  type ProposalStatusJson,
  type RecordBody,
  readRecordJson,
  recordSigningInput,
  recordToJson,
  type TrustExplanationJson,
} from '../governance/index.js';
import type { Keystore, Signer } from '../keys/keystore.js';
import { openSigner } from '../keys/open.js';
import type { KeystoreSpec } from '../keys/spec.js';
import { apiError, requestJson } from '../net/client/http-client.js';
import type { EventSignature } from '../protocol/index.js';
import type { GovernanceResult, GovernanceStateJson } from '../service.js';
import { apiUrl, type CliIo, cliSecrets, readFileFlag, writeLine } from './common.js';

const TIMEOUT_MS = 30_000;

/**
 * Signs `body` with each signer, after the signatures it already carries (co-signing keeps the
 * id), and checks the result as a node decodes it. A key that already signed is refused.
 */
export async function signRecordWith(
  core: Core,
  body: RecordBody & { readonly signatures?: readonly EventSignature[] },
  signers: readonly Signer[],
): Promise<DecodedRecord> {
  const { signatures: existing = [], ...rest } = body;
  for (const s of signers) {
    if (existing.some((e) => e.signer === s.did))
      throw new ConfigError('ERR_ALREADY_SIGNED', `${s.did} already signed this record`);
  }
  let bodyBytes: Uint8Array;
  try {
    bodyBytes = encodeRecordBody(rest as RecordBody);
  } catch (error) {
    throw new ConfigError(
      'ERR_BAD_FIELD',
      `the record cannot be encoded: ${(error as Error).message}`,
    );
  }
  const message = recordSigningInput(core.sha256(bodyBytes));
  const added: EventSignature[] = [];
  for (const s of signers) added.push({ signer: s.did, sig: await s.sign(message) });
  const record = { ...rest, signatures: [...existing, ...added] } as GovernanceRecord;
  let encoded: Uint8Array;
  try {
    encoded = encodeRecord(record);
  } catch (error) {
    throw new ConfigError(
      'ERR_BAD_FIELD',
      `the record cannot be encoded: ${(error as Error).message}`,
    );
  }
  const decoded = decodeRecord(core, encoded);
  if (!decoded.ok)
    throw new ConfigError(decoded.reason, `the record is invalid: ${decoded.detail}`);
  return decoded.value;
}

/** Opens each keystore's signer; closes them all if one fails. */
export async function openSigners(
  io: CliIo,
  specs: readonly KeystoreSpec[],
  core: Core,
): Promise<{ signers: Signer[]; close: () => Promise<void> }> {
  const opened: { keystore: Keystore; signer: Signer }[] = [];
  const close = async () => {
    await Promise.allSettled(opened.map((o) => o.keystore.close()));
  };
  try {
    for (const spec of specs)
      opened.push(await openSigner(spec, { core, secrets: cliSecrets(io) }));
  } catch (error) {
    await close();
    throw error;
  }
  return { signers: opened.map((o) => o.signer), close };
}

/** A record file (its JSON text), read by the node's own strict reader. */
export async function readRecordFile(core: Core, path: string): Promise<DecodedRecord> {
  const bytes = await readFileFlag('record file', path);
  if (bytes.length > GOV_LIMITS.maxJsonBytes)
    throw new ConfigError('ERR_GOV_TOO_LARGE', `${path} is larger than a record may be`);
  const d = readRecordJson(core, bytes);
  if (!d.ok) throw new ConfigError(d.reason, `${path}: ${d.detail}`);
  return d.value;
}

export const recordJsonText = (r: DecodedRecord): string => JSON.stringify(recordToJson(r.record));

/** Writes the record to `out`, or prints it on stdout. */
export async function emitRecord(
  io: CliIo,
  r: DecodedRecord,
  out: string | undefined,
): Promise<void> {
  const text = recordJsonText(r);
  if (out === undefined) writeLine(io.stdout, text);
  else await writeFile(out, `${text}\n`);
}

async function call(
  url: URL,
  path: string,
  method: 'GET' | 'POST',
  body?: string,
): Promise<unknown> {
  const answer = await requestJson(apiUrl(url, path), method, body, { timeoutMs: TIMEOUT_MS });
  if (answer.status !== 200 || answer.json === undefined) {
    const e = apiError(answer);
    throw new ConfigError(e.code, `${url.origin}${path}: ${e.message}`);
  }
  return answer.json;
}

export async function nodeState(url: URL): Promise<GovernanceStateJson> {
  return (await call(url, '/v1/governance', 'GET')) as GovernanceStateJson;
}

export async function nodeStatus(
  url: URL,
  r: DecodedRecord,
): Promise<ProposalStatusJson | GovernanceResult> {
  return (await call(url, '/v1/governance/status', 'POST', recordJsonText(r))) as
    | ProposalStatusJson
    | GovernanceResult;
}

export async function nodeSubmit(url: URL, r: DecodedRecord): Promise<GovernanceResult> {
  return (
    (await call(url, '/v1/governance', 'POST', recordJsonText(r))) as { result: GovernanceResult }
  ).result;
}

export async function nodeExplain(
  url: URL,
  did: string,
  scope: string,
  at: number,
): Promise<TrustExplanationJson> {
  const q = new URLSearchParams({ did, scope, at: String(at) });
  return (await call(url, `/v1/trust/explain?${q}`, 'GET')) as TrustExplanationJson;
}

export function isStatus(s: ProposalStatusJson | GovernanceResult): s is ProposalStatusJson {
  return 'missing' in s;
}

const SIDE_NAMES = {
  prior: "the root in force's members",
  own: "the new root's own members",
  'in-force': 'the members in force',
} as const;

/** The status as lines: per side, who signed; then how many signatures are still missing. */
export function printStatus(io: CliIo, s: ProposalStatusJson | GovernanceResult): void {
  if (!isStatus(s)) {
    writeLine(
      io.stdout,
      `refused: ${s.status === 'rejected' ? `${s.reason} (${s.detail})` : s.status}`,
    );
    return;
  }
  writeLine(io.stdout, `judged against root ${s.judged_against}`);
  for (const t of s.tallies) {
    const who = t.members.map((m) => `${m.id} ${m.standing}`).join(', ');
    writeLine(
      io.stdout,
      `  ${SIDE_NAMES[t.side]}: ${t.counted} of ${t.threshold} needed signed (${who})`,
    );
  }
  if (s.blocked !== null)
    writeLine(
      io.stdout,
      `blocked: ${s.blocked.reason} (${s.blocked.detail}); no signature can help`,
    );
  else if (s.missing === 0) writeLine(io.stdout, 'ready: the quorum is complete');
  writeLine(io.stdout, `missing: ${s.missing} signature${s.missing === 1 ? '' : 's'}`);
}

/** An explanation as lines (spec/GOVERNANCE.md §8.5). */
export function printExplanation(io: CliIo, e: TrustExplanationJson): void {
  const when = new Date(e.at * 1000).toISOString();
  const verdict = e.trusted ? 'trusted' : 'NOT trusted';
  writeLine(io.stdout, `${e.subject} is ${verdict} for ${e.scope} at ${when} (${e.reason})`);
  if (e.mode === 'open') {
    writeLine(io.stdout, 'the node runs in open mode: no trust root, every author is trusted');
    return;
  }
  if (e.policy !== null)
    writeLine(
      io.stdout,
      `policy: ${e.policy.min_paths} independent path(s) of at most ${e.policy.max_depth} attestation(s) from the root's set`,
    );
  e.paths.forEach((p, i) => {
    const hops = p.map((h) => `${h.issuer} -> ${h.subject} [${h.attestation.slice(0, 16)}]`);
    writeLine(io.stdout, `path ${i + 1}: ${hops.join(', ')}`);
  });
  writeLine(io.stdout, `missing: ${e.missing} path${e.missing === 1 ? '' : 's'}`);
  writeLine(io.stdout, `examined: ${e.examined} attestation(s)`);
  for (const a of e.incoming) {
    writeLine(
      io.stdout,
      `incoming ${a.attestation} from ${a.issuer}: ${a.status}${a.reason === undefined ? '' : ` (${a.reason})`}`,
    );
  }
}

/** One line for a node's verdict on a record; whether it counts now. */
export function printResult(io: CliIo, url: URL, r: GovernanceResult): boolean {
  if (r.status === 'rejected') {
    writeLine(io.stdout, `rejected by ${url.origin}: ${r.reason} (${r.detail})`);
    return false;
  }
  if (r.status === 'duplicate') {
    writeLine(io.stdout, `duplicate at ${url.origin}: ${r.id}`);
    return true;
  }
  const counts = ['in-force', 'chain', 'applied', 'valid'].includes(r.standing);
  writeLine(
    io.stdout,
    `accepted by ${url.origin}: ${r.id} (${r.type}, ${r.standing}${r.reason === undefined ? '' : `: ${r.reason} ${r.detail ?? ''}`})`,
  );
  return counts;
}
