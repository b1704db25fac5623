/**
 * `audit verify`'s checking, pure: it reads the stored rows through `AuditData` (SQLite's
 * are storage/verify-audit-data.ts's) and judges them; it opens nothing and writes nothing.
 */
import type { Core } from '@commons-sync/bindings';

import type { Checkpoint } from './checkpoint.js';
import { type AuditEntry, encodeAuditEntry, isEntryType, typeInFormat } from './entry.js';
import {
  indexKey,
  indexPartition,
  packEventRows,
  packReplayKeyInputs,
  parseAcceptDetail,
} from './event-row.js';
import { makeHasher } from './hash.js';
import { CompactRange, emptyRoot, hashLeaf, STORED_NODE_LEVEL, type TreeNode } from './merkle.js';
import {
  keyForTreeSize,
  NODE_KEY_ROTATED,
  type NodeKeyRotation,
  parseNodeKeyRotation,
  verifyNodeKeyRotation,
} from './node-key.js';
import {
  type AuditData,
  type BadRow,
  Found,
  fail,
  hex,
  isBlob,
  isCount,
  type Row,
  same,
} from './verify-common.js';
import { verifyStoredEvents } from './verify-events.js';
import { HeldEntries, verifyGovernance } from './verify-governance.js';
import { AttachedEntries, verifyIdentities } from './verify-identity.js';
import { checkCheckpointSequence, EntryRules, toCheckpoint } from './verify-rules.js';

export type { AuditData, BadRow, Row } from './verify-common.js';

export type AuditVerification =
  | {
      readonly ok: true;
      readonly entries: number;
      readonly checkpoints: number;
      readonly events: number;
    }
  | { readonly ok: false; readonly firstBad: BadRow };

export interface VerifyOptions {
  /**
   * The node's public key: every checkpoint must be signed by it or, across rotations of the
   * node key (node-key.ts), by the key in force at its tree size, the last of them this one.
   */
  readonly publicKey?: Uint8Array;
  /**
   * Also hold the stored events to the protocol (verify-events.ts): each decodes and its
   * signatures and policy verify, (author, nonce) pairs are never live twice, live events
   * have their replay records. `now` is Unix seconds.
   */
  readonly protocol?: { readonly now: number };
}

/**
 * Re-derives everything the audit log commits to and reports the first row that does not
 * match (in log order), or `ok` with the counts:
 *
 * - audit_entries: seqs 0..n-1 without gaps, every leaf hash recomputed from the canonical
 *   entry encoding, every chain hash from the previous one;
 * - audit_nodes: every stored subtree recomputed from the leaves, no extra rows;
 * - checkpoints: each signature (and, with `publicKey` or after a rotation of the node key, the
 *   signer: the key in force at its tree size), each root recomputed at its tree size;
 * - node key rotations (node-key.ts): both signatures, the position and the root they name,
 *   each starting from the key the previous one ended at, the last ending at `publicKey`;
 * - events: merged with the accept entries in order — each accept entry's event row exists,
 *   has its id, SHA-256(encoded) = encoded_hash = the entry's encodedHash, and its row digest
 *   (every other column) equals the entry's rowHash; no event row lacks an accept entry;
 * - replay: every record names a stored event of its partition whose author and nonce hash to
 *   its key and whose expiry it carries;
 * - event_ids: every event has its row, and every row names a stored event of its partition
 *   whose id starts with its key;
 * - checkpoints: numbered 1, 2, 3... (version 2 signs its number and chains to the one before),
 *   and each version 2 checkpoint recorded by the log's checkpoint entry (verify-rules.ts);
 * - format 2 entries: the bounded-rejection rules of spec/AUDIT.md (verify-rules.ts);
 * - with `protocol`, the events against the protocol itself (verify-events.ts): decoding,
 *   signatures and policy, (author, nonce) never live twice, live events' replay records (a
 *   record of an expired event may be pruned); and the identities (verify-identity.ts): stored
 *   key events against their audit entries and their logs, the standing of unexpired events by
 *   identities against those logs.
 *
 * Entries appended after the last checkpoint are protected by the chain only: someone who
 * rewrites the tail and recomputes every hash after it is caught by the next checkpoint, or by
 * a peer holding a later one, not by this function alone.
 *
 * Throws only what reading `data` throws; storage/verify-audit-data.ts maps a damaged database
 * to a finding.
 */
export function verifyAuditRows(
  data: AuditData,
  core: Core,
  options: VerifyOptions = {},
): AuditVerification {
  try {
    return verifyRows(data, core, options);
  } catch (error) {
    if (error instanceof Found) return { ok: false, firstBad: error.bad };
    throw error;
  }
}

function toEntry(
  row: Row,
  expected: number,
): AuditEntry & { leafHash: Uint8Array; chainHash: Uint8Array } {
  const { format, seq, time, type, event_id, reason, detail, leaf_hash, chain_hash } = row;
  if (!isCount(seq)) fail('audit_entries', expected, `malformed seq ${String(seq)}`);
  if (seq !== expected)
    fail('audit_entries', expected, `missing (the next stored entry is ${seq})`);
  if (format !== 1 && format !== 2) fail('audit_entries', seq, 'malformed format');
  if (!isCount(time)) fail('audit_entries', seq, 'malformed time');
  if (!isEntryType(type) || !typeInFormat(type, format))
    fail('audit_entries', seq, 'malformed type');
  if (event_id !== null && !isBlob(event_id, 32)) fail('audit_entries', seq, 'malformed event_id');
  if (reason !== null && (typeof reason !== 'string' || Buffer.byteLength(reason) > 0xffff)) {
    fail('audit_entries', seq, 'malformed reason');
  }
  if (typeof detail !== 'string') fail('audit_entries', seq, 'malformed detail');
  if (!isBlob(leaf_hash, 32) || !isBlob(chain_hash, 32))
    fail('audit_entries', seq, 'malformed hash column');
  return {
    format,
    seq,
    time,
    type,
    eventId: event_id,
    reason,
    detail,
    leafHash: leaf_hash,
    chainHash: chain_hash,
  };
}

/**
 * The log's rotations of the node key, checked on their own: critical entries, well formed,
 * at the position they name, both signatures valid, each from the key the one before ended at,
 * the last ending at `publicKey` when given. Their roots are checked in the walk.
 */
function nodeKeyRotations(
  data: AuditData,
  core: Core,
  publicKey: Uint8Array | undefined,
): { index: number; rotation: NodeKeyRotation }[] {
  const out: { index: number; rotation: NodeKeyRotation }[] = [];
  for (const row of data.entriesWithReason(NODE_KEY_ROTATED)) {
    const seq = row['seq'] as number;
    const rotation =
      row['type'] === 'critical' && typeof row['detail'] === 'string'
        ? parseNodeKeyRotation(row['detail'])
        : undefined;
    if (rotation === undefined) fail('audit_entries', seq, 'malformed node key rotation');
    if (rotation.treeSize !== seq)
      fail('audit_entries', seq, `node key rotation names position ${rotation.treeSize}`);
    if (!verifyNodeKeyRotation(core, rotation))
      fail('audit_entries', seq, 'node key rotation signatures do not verify');
    const before = out[out.length - 1];
    if (before !== undefined && !same(before.rotation.to, rotation.from))
      fail('audit_entries', seq, 'node key rotation does not start from the key in force');
    out.push({ index: seq, rotation });
  }
  const last = out[out.length - 1];
  if (last !== undefined && publicKey !== undefined && !same(last.rotation.to, publicKey))
    fail('audit_entries', last.index, 'the node key rotations do not end at the node key');
  return out;
}

function verifyRows(data: AuditData, core: Core, options: VerifyOptions): AuditVerification {
  const H = makeHasher(core).one;

  const cps = data.checkpoints().map(toCheckpoint);
  const rotations = nodeKeyRotations(data, core, options.publicKey);
  const rotationAt = new Map(rotations.map((r) => [r.index, r.rotation]));
  const keyAt = (size: number) => keyForTreeSize(rotations, options.publicKey, size);
  const rules = new EntryRules(checkCheckpointSequence(cps, core, H, keyAt), H);
  cps.sort((a, b) => a.treeSize - b.treeSize || a.seq - b.seq);
  let cpNext = 0;
  const checkCheckpoints = (size: number, root: () => Uint8Array): void => {
    for (; cpNext < cps.length && (cps[cpNext] as Checkpoint).treeSize === size; cpNext++) {
      const cp = cps[cpNext] as Checkpoint;
      if (!same(cp.root, root()))
        fail('checkpoints', cp.seq, `root differs from the log's root at size ${size}`);
    }
  };
  checkCheckpoints(0, () => emptyRoot(H));

  const eventIter = data.events();
  let nextEvent: Row | undefined = eventIter.next().value as Row | undefined;
  let events = 0;
  let storedNodes = 0;
  let nodeBad: BadRow | undefined;
  const checkNode = (node: TreeNode): void => {
    if (node.level < STORED_NODE_LEVEL) return;
    storedNodes++;
    const stored = data.storedNode(node.level, node.index);
    if (nodeBad === undefined && (!isBlob(stored, 32) || !same(stored, node.hash))) {
      nodeBad = {
        table: 'audit_nodes',
        row: `${node.level}/${node.index}`,
        what: stored === undefined ? 'missing' : 'hash differs from the subtree of the leaves',
      };
    }
  };

  const attached = new AttachedEntries();
  const held = new HeldEntries();
  let n = 0;
  try {
    const range = new CompactRange(H);
    const chainInput = new Uint8Array(64);
    let chain: Uint8Array = new Uint8Array(32);
    for (const row of data.entries()) {
      const e = toEntry(row, n);
      const leaf = hashLeaf(H, encodeAuditEntry(e));
      if (!same(leaf, e.leafHash)) {
        fail(
          'audit_entries',
          e.seq,
          'leaf_hash does not match the entry (a field or the hash was changed)',
        );
      }
      chainInput.set(chain, 0);
      chainInput.set(leaf, 32);
      chain = H(chainInput);
      if (!same(chain, e.chainHash))
        fail('audit_entries', e.seq, 'chain_hash does not follow from the previous entry');
      if (e.type === 'critical' && e.reason === NODE_KEY_ROTATED) {
        const r = rotationAt.get(e.seq);
        if (r === undefined) fail('audit_entries', e.seq, 'malformed node key rotation');
        if (!same(r.root, range.root()))
          fail('audit_entries', e.seq, 'node key rotation names a root the log did not have');
      }
      range.append(leaf, checkNode);
      if (nodeBad !== undefined) throw new Found(nodeBad);
      rules.check(e);
      attached.note(e);
      held.note(e);
      if (e.type === 'accept') {
        const d = parseAcceptDetail(e.detail);
        if (d === undefined || e.eventId === null)
          fail('audit_entries', e.seq, 'accept entry without event reference');
        if (nextEvent !== undefined && isCount(nextEvent['seq']) && nextEvent['seq'] < d.eventSeq) {
          fail('events', nextEvent['seq'], 'no accept entry refers to this event');
        }
        if (nextEvent === undefined || nextEvent['seq'] !== d.eventSeq) {
          fail('events', d.eventSeq, `missing (accept entry ${e.seq} refers to it)`);
        }
        checkEvent(H, nextEvent, e.seq, e.eventId, d.encodedHash, d.rowHash);
        const idRow = [indexPartition(d.eventSeq), indexKey(e.eventId), d.eventSeq] as const;
        if (!data.hasEventIdRow(...idRow)) fail('event_ids', idRow.join('/'), 'missing');
        events++;
        nextEvent = eventIter.next().value as Row | undefined;
      }
      n++;
      checkCheckpoints(n, () => range.root());
    }
    if (nextEvent !== undefined) {
      fail('events', String(nextEvent['seq']), 'no accept entry refers to this event');
    }
    rules.end();
    const late = cps[cpNext];
    if (late !== undefined)
      fail('checkpoints', late.seq, `tree_size ${late.treeSize} exceeds the log (${n} entries)`);
    if (data.storedNodeCount() !== storedNodes) {
      // more rows than the log's subtrees: name one that is not a stored subtree of this log
      const size = n;
      const isSubtree = (level: unknown, idx: unknown): boolean =>
        isCount(level) &&
        level >= STORED_NODE_LEVEL &&
        level < 53 &&
        isCount(idx) &&
        (idx + 1) * 2 ** level <= size;
      let extra = '?';
      for (const { level, idx } of data.storedNodeKeys()) {
        if (!isSubtree(level, idx)) {
          extra = `${String(level)}/${String(idx)}`;
          break;
        }
      }
      fail('audit_nodes', extra, 'not a subtree of the log');
    }
  } finally {
    eventIter.return?.();
  }
  checkReplay(data, H);
  checkEventIds(data);
  if (options.protocol !== undefined) {
    verifyStoredEvents(data, core, H, options.protocol.now);
    verifyIdentities(data, core, attached, options.protocol.now);
    verifyGovernance(data, core, held);
  }
  return { ok: true, entries: n, checkpoints: cps.length, events };
}

function checkEvent(
  H: (d: Uint8Array) => Uint8Array,
  row: Row,
  entrySeq: number,
  eventId: Uint8Array,
  encodedHashHex: string,
  rowHashHex: string,
): void {
  const {
    seq,
    audit_seq,
    id,
    author,
    kind,
    nonce,
    created_at,
    expires_at,
    received_at,
    encoded,
    encoded_hash,
  } = row;
  const s = seq as number;
  if (!isCount(audit_seq)) fail('events', s, 'malformed audit_seq');
  if (!isBlob(id, 32) || typeof author !== 'string' || typeof kind !== 'string' || !isBlob(nonce)) {
    fail('events', s, 'malformed column');
  }
  if (
    !Number.isSafeInteger(created_at) ||
    !Number.isSafeInteger(expires_at) ||
    !isCount(received_at)
  ) {
    fail('events', s, 'malformed time column');
  }
  if (!isBlob(encoded) || !isBlob(encoded_hash, 32)) fail('events', s, 'malformed encoded column');
  if (!same(id, eventId)) fail('events', s, `id differs from accept entry ${entrySeq}`);
  const storedHashOk = hex(encoded_hash) === encodedHashHex;
  if (!same(H(encoded), encoded_hash)) {
    fail('events', s, storedHashOk ? 'encoded bytes were changed' : 'encoded_hash was changed');
  }
  if (!storedHashOk)
    fail('events', s, `encoded and encoded_hash differ from accept entry ${entrySeq}`);
  const packed = packEventRows([
    {
      seq: s,
      auditSeq: audit_seq,
      id,
      author,
      kind,
      nonce,
      createdAt: created_at as number,
      expiresAt: expires_at as number,
      receivedAt: received_at,
      encodedHash: encoded_hash,
    },
  ]);
  if (hex(H(packed.data)) !== rowHashHex) {
    fail('events', s, `a column differs from the row digest in accept entry ${entrySeq}`);
  }
}

/** The name of a row of a partitioned index in a finding. */
const indexRowName = (row: Row): string =>
  `${String(row['part'])}/${String(row['key'])}/${String(row['seq'])}`;

function checkReplay(data: AuditData, H: (d: Uint8Array) => Uint8Array): void {
  for (const row of data.replayRecords()) {
    const { part, key, seq, expires_at } = row;
    const name = indexRowName(row);
    const ev = isCount(seq) ? data.eventBySeq(seq) : undefined;
    if (ev === undefined || typeof ev['author'] !== 'string' || !isBlob(ev['nonce'])) {
      fail('replay', name, 'names no stored event');
    }
    if (part !== indexPartition(seq as number))
      fail('replay', name, "is not in its event's partition");
    const digest = H(packReplayKeyInputs([{ author: ev['author'], nonce: ev['nonce'] }]).data);
    if (key !== indexKey(digest)) {
      fail('replay', name, "key is not the digest of its event's author and nonce");
    }
    if (ev['expires_at'] !== expires_at)
      fail('replay', name, "expires_at differs from its event's");
  }
}

function checkEventIds(data: AuditData): void {
  for (const row of data.eventIdRows()) {
    const { part, key, seq } = row;
    const name = indexRowName(row);
    const ev = isCount(seq) ? data.eventBySeq(seq) : undefined;
    if (ev === undefined || !isBlob(ev['id'], 32)) fail('event_ids', name, 'names no stored event');
    if (part !== indexPartition(seq as number))
      fail('event_ids', name, "is not in its event's partition");
    if (key !== indexKey(ev['id'])) fail('event_ids', name, "key is not its event's id");
  }
}
