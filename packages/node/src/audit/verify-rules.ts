/**
 * The rules of spec/AUDIT.md that are not hashes: the checkpoint sequence (numbered without
 * gaps, version 2 rows chained and each recorded in the log) and what format 2 entries may
 * say (bounded rejections, summaries at most once per interval, times never decreasing).
 */
import type { Core } from '@commons-sync/bindings';
import {
  type Checkpoint,
  checkpointHash,
  parseCheckpointEntryDetail,
  verifyCheckpointSignature,
  ZERO_HASH,
} from './checkpoint.js';
import type { AuditEntry } from './entry.js';
import type { Sha256 } from './merkle.js';
import { AUDIT_RULES, LOGGED_REJECT_REASONS } from './rules.js';
import { fail, hex, isBlob, isCount, type Row, same } from './verify-common.js';

export function toCheckpoint(row: Row): Checkpoint {
  const { seq, version, tree_size, root, time, public_key, signature, prev_hash } = row;
  if (!isCount(seq)) fail('checkpoints', String(seq), 'malformed seq');
  if (version !== 1 && version !== 2) fail('checkpoints', seq, 'malformed version');
  if (
    !isCount(tree_size) ||
    !isBlob(root, 32) ||
    !isCount(time) ||
    !isBlob(public_key, 32) ||
    !isBlob(signature, 64)
  ) {
    fail('checkpoints', seq, 'malformed column');
  }
  if (version === 2 ? !isBlob(prev_hash, 32) : prev_hash !== null)
    fail('checkpoints', seq, 'malformed prev_hash');
  return {
    version,
    seq,
    treeSize: tree_size,
    root,
    time,
    publicKey: public_key,
    signature,
    prev: prev_hash as Uint8Array | null,
  };
}

/**
 * Checks the checkpoint rows in seq order: numbered 1, 2, 3... without gaps (a deleted row
 * leaves one), version 1 rows before version 2 ones, each signature (version 2 signs its own
 * number, so a renumbered row fails), the signer, each version 2 row's `prev` (the hash of
 * the row before), tree sizes never decreasing. Returns the version 2 rows by number.
 */
export function checkCheckpointSequence(
  cps: readonly Checkpoint[],
  core: Core,
  H: Sha256,
  /** The node key that must have signed a checkpoint of this tree size, if known. */
  keyAt: (treeSize: number) => Uint8Array | undefined,
): Map<number, Checkpoint> {
  const v2 = new Map<number, Checkpoint>();
  let before: Checkpoint | undefined;
  cps.forEach((cp, i) => {
    if (cp.seq !== i + 1)
      fail('checkpoints', i + 1, `missing (the next stored checkpoint is ${cp.seq})`);
    if (!verifyCheckpointSignature(core, cp))
      fail('checkpoints', cp.seq, 'signature does not verify');
    const key = keyAt(cp.treeSize);
    if (key !== undefined && !same(cp.publicKey, key)) {
      fail('checkpoints', cp.seq, 'signed by a key other than the node key');
    }
    if (before !== undefined && cp.treeSize < before.treeSize) {
      fail(
        'checkpoints',
        cp.seq,
        `tree_size ${cp.treeSize} is smaller than checkpoint ${before.seq}'s`,
      );
    }
    if (cp.version === 2) {
      const prev = before === undefined ? ZERO_HASH : checkpointHash(H, before);
      if (!same(cp.prev as Uint8Array, prev))
        fail('checkpoints', cp.seq, 'prev is not the hash of the checkpoint before');
      v2.set(cp.seq, cp);
    } else if (before?.version === 2) {
      fail('checkpoints', cp.seq, 'a version 1 checkpoint after a version 2 one');
    }
    before = cp;
  });
  return v2;
}

/** Holds format 2 entries to the rules, one entry at a time in log order. */
export class EntryRules {
  #format = 1;
  #lastTime = 0;
  #second = -1;
  #rejectsInSecond = 0;
  #lastSummary = -Infinity;
  readonly #entered = new Set<number>();

  constructor(
    private readonly checkpoints: ReadonlyMap<number, Checkpoint>,
    private readonly H: Sha256,
  ) {}

  check(e: AuditEntry): void {
    if (e.format < this.#format)
      fail('audit_entries', e.seq, `format ${e.format} after format ${this.#format}`);
    this.#format = e.format;
    if (e.format !== 2) return;
    if (e.time < this.#lastTime) fail('audit_entries', e.seq, 'time goes back');
    this.#lastTime = e.time;
    if (e.type === 'reject') this.#reject(e);
    else if (e.type === 'summary') this.#summary(e);
    else if (e.type === 'checkpoint') this.#checkpoint(e);
  }

  /** After the last entry: every version 2 checkpoint row has its entry. */
  end(): void {
    for (const seq of this.checkpoints.keys()) {
      if (!this.#entered.has(seq))
        fail('checkpoints', seq, 'the log has no checkpoint entry for it');
    }
  }

  #reject(e: AuditEntry): void {
    if (e.reason === null || !LOGGED_REJECT_REASONS.includes(e.reason) || e.eventId === null) {
      fail(
        'audit_entries',
        e.seq,
        `a reject entry for ${e.reason ?? 'no reason'}: only rejections of verified events are logged one by one`,
      );
    }
    if (Buffer.byteLength(e.detail) > AUDIT_RULES.maxRejectDetailBytes)
      fail('audit_entries', e.seq, 'reject detail too long');
    const second = Math.floor(e.time / 1000);
    this.#rejectsInSecond = second === this.#second ? this.#rejectsInSecond + 1 : 1;
    this.#second = second;
    if (this.#rejectsInSecond > AUDIT_RULES.maxRejectEntriesPerSecond) {
      fail(
        'audit_entries',
        e.seq,
        `more than ${AUDIT_RULES.maxRejectEntriesPerSecond} reject entries in one second`,
      );
    }
  }

  #summary(e: AuditEntry): void {
    if (e.time < this.#lastSummary + AUDIT_RULES.summaryIntervalMs) {
      fail(
        'audit_entries',
        e.seq,
        `a summary less than ${AUDIT_RULES.summaryIntervalMs} ms after the previous one`,
      );
    }
    this.#lastSummary = e.time;
    if (e.eventId !== null || e.reason !== null || !isSummaryDetail(e.detail, e.time)) {
      fail('audit_entries', e.seq, 'malformed summary');
    }
  }

  #checkpoint(e: AuditEntry): void {
    const d = parseCheckpointEntryDetail(e.detail);
    if (d === undefined || e.eventId !== null || e.reason !== null)
      fail('audit_entries', e.seq, 'malformed checkpoint entry');
    const cp = this.checkpoints.get(d.seq);
    if (cp === undefined) fail('checkpoints', d.seq, `missing (audit entry ${e.seq} records it)`);
    if (cp.treeSize !== e.seq)
      fail('checkpoints', cp.seq, `tree_size ${cp.treeSize}, but its entry is ${e.seq}`);
    if (hex(checkpointHash(this.H, cp)) !== d.hash)
      fail('checkpoints', cp.seq, 'differs from what its checkpoint entry recorded');
    this.#entered.add(d.seq);
  }
}

/** A summary's detail: `{"from","to","counts","samples"}` within the size bound. */
function isSummaryDetail(detail: string, time: number): boolean {
  if (Buffer.byteLength(detail) > AUDIT_RULES.maxSummaryDetailBytes) return false;
  let v: unknown;
  try {
    v = JSON.parse(detail);
  } catch {
    return false;
  }
  if (typeof v !== 'object' || v === null) return false;
  const { from, to, counts, samples } = v as Record<string, unknown>;
  if (!isCount(from) || to !== time || from > time) return false;
  if (typeof counts !== 'object' || counts === null || Array.isArray(counts)) return false;
  const values = Object.values(counts);
  if (values.length === 0 || !values.every((n) => isCount(n) && n > 0)) return false;
  return Array.isArray(samples) && samples.length <= AUDIT_RULES.maxSamples;
}
