/**
 * What a client checks with nothing but the API's answers, the node's DID and its own event
 * (spec/AUDIT.md §7): that the event is an accept entry of the node's audit log, inside a
 * checkpoint the node signed; and that a later checkpoint extends an earlier one. Pure: the
 * CLI (`commons-sync audit check-proof`, `check-consistency`) fetches, this judges.
 */
import type { Core } from '@commons-sync/bindings';

import { type DecodedEvent, parseDidKey } from '../protocol/index.js';
import { type Checkpoint, checkpointHash, verifyCheckpointSignature } from './checkpoint.js';
import {
  type AuditEntry,
  type AuditEntryType,
  isEntryType,
  TYPE_CODES,
  typeInFormat,
} from './entry.js';
import { ProofError } from './errors.js';
import { parseAcceptDetail } from './event-row.js';
import { hashLeaf, type Sha256, verifyConsistency, verifyInclusion } from './merkle.js';

const HEX = /^(?:[0-9a-f]{2})*$/;

function bytes(value: unknown, what: string, length?: number): Uint8Array {
  if (
    typeof value !== 'string' ||
    !HEX.test(value) ||
    (length !== undefined && value.length !== 2 * length)
  ) {
    throw new ProofError(
      `${what} is not ${length === undefined ? '' : `${length} bytes of `}lowercase hex`,
    );
  }
  return Uint8Array.from(Buffer.from(value, 'hex'));
}

function count(value: unknown, what: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0)
    throw new ProofError(`${what} is not a whole number`);
  return value as number;
}

const hex = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const same = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && Buffer.compare(a, b) === 0;

/**
 * A checkpoint as the API serves it, checked against the node's DID: the `node` field is the
 * DID, and the signature verifies under the DID's key over the message of its version.
 */
export function checkCheckpointJson(core: Core, value: unknown, nodeDid: string): Checkpoint {
  if (typeof value !== 'object' || value === null)
    throw new ProofError('the checkpoint is not an object');
  const v = value as Record<string, unknown>;
  const key = parseDidKey(nodeDid);
  if (!key.ok) throw new ProofError(`the node DID is not a did:key: ${key.detail}`);
  if (v['node'] !== nodeDid)
    throw new ProofError(`the checkpoint names node ${String(v['node'])}, not ${nodeDid}`);
  const version =
    v['version'] === 2 ? 2 : v['version'] === undefined || v['version'] === 1 ? 1 : undefined;
  if (version === undefined)
    throw new ProofError(`unknown checkpoint version ${String(v['version'])}`);
  const cp: Checkpoint = {
    version,
    seq: version === 2 ? count(v['seq'], 'checkpoint seq') : 0,
    treeSize: count(v['tree_size'], 'checkpoint tree_size'),
    root: bytes(v['root'], 'checkpoint root', 32),
    time: count(v['time'], 'checkpoint time'),
    publicKey: key.value,
    prev: version === 2 ? bytes(v['prev'], 'checkpoint prev', 32) : null,
    signature: bytes(v['signature'], 'checkpoint signature', 64),
  };
  if (!verifyCheckpointSignature(core, cp))
    throw new ProofError(`the checkpoint signature does not verify under ${nodeDid}`);
  return cp;
}

/** Decodes an entry's canonical encoding (spec/AUDIT.md §2); throws for anything else. */
export function decodeAuditEntry(leaf: Uint8Array): AuditEntry {
  const view = new DataView(leaf.buffer, leaf.byteOffset, leaf.byteLength);
  let o = 0;
  const need = (n: number): void => {
    if (o + n > leaf.length) throw new ProofError('the leaf is truncated');
  };
  const u64 = (): number => {
    need(8);
    const hi = view.getUint32(o);
    const lo = view.getUint32(o + 4);
    o += 8;
    if (hi >= 2 ** 21) throw new ProofError('a leaf integer is beyond 2^53');
    return hi * 2 ** 32 + lo;
  };
  need(1);
  const format = leaf[o++];
  if (format !== 1 && format !== 2) throw new ProofError(`unknown entry format ${String(format)}`);
  const seq = u64();
  const time = u64();
  need(1);
  const code = leaf[o++];
  const type = (Object.keys(TYPE_CODES) as AuditEntryType[]).find((t) => TYPE_CODES[t] === code);
  if (type === undefined || !isEntryType(type) || !typeInFormat(type, format))
    throw new ProofError(`unknown entry type ${String(code)}`);
  need(1);
  const idLength = leaf[o++];
  if (idLength !== 0 && idLength !== 32) throw new ProofError('an entry event id is 0 or 32 bytes');
  need(idLength);
  const eventId = idLength === 0 ? null : leaf.slice(o, o + 32);
  o += idLength;
  need(1);
  const hasReason = leaf[o++];
  if (hasReason !== 0 && hasReason !== 1) throw new ProofError('malformed reason flag');
  let reason: string | null = null;
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  if (hasReason === 1) {
    need(2);
    const n = view.getUint16(o);
    o += 2;
    need(n);
    reason = utf8.decode(leaf.subarray(o, o + n));
    o += n;
  }
  need(4);
  const n = view.getUint32(o);
  o += 4;
  need(n);
  const detail = utf8.decode(leaf.subarray(o, o + n));
  o += n;
  if (o !== leaf.length) throw new ProofError('bytes after the end of the leaf');
  return { format, seq, time, type, eventId, reason, detail };
}

export interface CheckedInclusion {
  readonly eventId: string;
  readonly leafIndex: number;
  readonly checkpoint: Checkpoint;
}

/**
 * Checks an answer of `GET /v1/audit/proof/:id` for `event` (the client's own event, decoded
 * from its JSON form): the leaf hashes to `leaf_hash`, decodes to an accept entry at
 * `leaf_index` for the event's id whose `encodedHash` is the SHA-256 of the event's canonical
 * encoding; the path leads to the root of a checkpoint of `tree_size` entries signed by the
 * node.
 */
export function checkInclusionProof(
  core: Core,
  H: Sha256,
  event: DecodedEvent,
  proof: unknown,
  nodeDid: string,
): CheckedInclusion {
  if (typeof proof !== 'object' || proof === null)
    throw new ProofError('the proof is not an object');
  const p = proof as Record<string, unknown>;
  const id = core.sha256(event.body);
  if (p['event_id'] !== hex(id))
    throw new ProofError(`the proof is for event ${String(p['event_id'])}, not ${hex(id)}`);
  const leafIndex = count(p['leaf_index'], 'leaf_index');
  const treeSize = count(p['tree_size'], 'tree_size');
  const leaf = bytes(p['leaf'], 'leaf');
  const leafHash = bytes(p['leaf_hash'], 'leaf_hash', 32);
  if (!Array.isArray(p['path'])) throw new ProofError('path is not a list');
  const path = (p['path'] as unknown[]).map((h, i) => bytes(h, `path[${i}]`, 32));
  const cp = checkCheckpointJson(core, p['checkpoint'], nodeDid);
  if (cp.treeSize !== treeSize)
    throw new ProofError(`tree_size ${treeSize} is not the checkpoint's ${cp.treeSize}`);
  if (!same(hashLeaf(H, leaf), leafHash))
    throw new ProofError('leaf_hash is not the hash of the leaf');
  const entry = decodeAuditEntry(leaf);
  if (entry.seq !== leafIndex)
    throw new ProofError(`the leaf is entry ${entry.seq}, not ${leafIndex}`);
  if (entry.type !== 'accept')
    throw new ProofError(`the leaf is a ${entry.type} entry, not an accept entry`);
  if (entry.eventId === null || !same(entry.eventId, id))
    throw new ProofError('the leaf accepts another event');
  const detail = parseAcceptDetail(entry.detail);
  if (detail === undefined) throw new ProofError('the leaf has no accept detail');
  if (detail.encodedHash !== hex(core.sha256(event.encoded)))
    throw new ProofError("the leaf's encodedHash is not the hash of this event's encoding");
  if (!verifyInclusion(H, leafIndex, treeSize, leafHash, path, cp.root)) {
    throw new ProofError(`the path does not lead from leaf ${leafIndex} to the checkpoint's root`);
  }
  return { eventId: hex(id), leafIndex, checkpoint: cp };
}

/**
 * Checks that `newer` extends `older` (both signed by the node) with the answer of
 * `GET /v1/audit/consistency?from=older.tree_size&to=newer.tree_size`; when they are
 * consecutive version 2 checkpoints, also that `newer.prev` is `older`'s hash.
 */
export function checkConsistencyProof(
  H: Sha256,
  older: Checkpoint,
  newer: Checkpoint,
  answer: unknown,
): void {
  if (typeof answer !== 'object' || answer === null)
    throw new ProofError('the consistency proof is not an object');
  const a = answer as Record<string, unknown>;
  if (a['from'] !== older.treeSize || a['to'] !== newer.treeSize) {
    throw new ProofError(
      `the proof is from ${String(a['from'])} to ${String(a['to'])}, not ${older.treeSize} to ${newer.treeSize}`,
    );
  }
  if (older.treeSize > newer.treeSize)
    throw new ProofError('the older checkpoint is larger than the newer one');
  if (older.version === 2 && newer.version === 2) {
    if (newer.seq < older.seq)
      throw new ProofError(`checkpoint ${newer.seq} comes before ${older.seq}`);
    if (newer.seq === older.seq + 1 && !same(newer.prev as Uint8Array, checkpointHash(H, older))) {
      throw new ProofError(`checkpoint ${newer.seq} does not chain to checkpoint ${older.seq}`);
    }
  }
  if (!Array.isArray(a['proof'])) throw new ProofError('proof is not a list');
  const proof = (a['proof'] as unknown[]).map((h, i) => bytes(h, `proof[${i}]`, 32));
  if (!verifyConsistency(H, older.treeSize, newer.treeSize, older.root, newer.root, proof)) {
    throw new ProofError(
      `the log of ${newer.treeSize} entries does not extend the checkpoint of ${older.treeSize}`,
    );
  }
}
