/**
 * The audit log over a real store: the canonical entry encoding (byte layout pinned), accept
 * entries written by commit, proofs served from stored subtrees that verify and agree with the
 * in-memory reference, and checkpoints that are signed, verifiable, and caught when forged.
 */
import { join } from 'node:path';

import { type Core, loadCore } from '@commons-sync/bindings';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sha256One } from '../src/audit/hash.js';
import {
  type AuditEntry,
  type AuditRecord,
  CHECKPOINT_DOMAIN,
  CHECKPOINT_DOMAIN_V2,
  type Checkpoint,
  type CheckpointSigner,
  CheckpointSignerError,
  checkpointHash,
  checkpointMessage,
  encodeAuditEntry,
  hashLeaf,
  inclusionProof,
  rootOfLeaves,
  subtreeOfLeaves,
  verifyCheckpointSignature,
  verifyConsistency,
  verifyInclusion,
} from '../src/audit/index.js';
import { CheckpointOutdatedError, DB_FILE, Store, verifyAuditData } from '../src/storage/index.js';
import { fakeEvents, manualClock, tempDir } from './storage-fixtures.js';

let core: Core;
beforeAll(async () => {
  core = await loadCore();
});

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
function dir(): string {
  const t = tempDir('cs-audit-');
  cleanups.push(t.cleanup);
  return t.dir;
}
function open(d: string, now?: () => number): Store {
  const store = Store.open(d, core, now === undefined ? {} : { now });
  cleanups.unshift(() => store.close());
  return store;
}
function signer(seedByte: number): CheckpointSigner {
  const seed = new Uint8Array(32).fill(seedByte);
  return { publicKey: core.ed25519PublicKey(seed), sign: (m) => core.ed25519Sign(seed, m) };
}
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const H = sha256One;

describe('entry encoding', () => {
  it('follows the documented byte layout', () => {
    const id = new Uint8Array(32).map((_, i) => i);
    const entry: AuditEntry = {
      format: 1,
      seq: 2 ** 32 + 5,
      time: 1_750_000_000_123,
      type: 'reject',
      eventId: id,
      reason: 'ERR_SIG',
      detail: '{"k":"é"}',
    };
    const expected = Buffer.concat([
      Buffer.from([0x01]),
      Buffer.from('0000000100000005', 'hex'),
      Buffer.from((1_750_000_000_123).toString(16).padStart(16, '0'), 'hex'),
      Buffer.from([0x02, 32]),
      Buffer.from(id),
      Buffer.from([0x01, 0x00, 0x07]),
      Buffer.from('ERR_SIG'),
      Buffer.from([0, 0, 0, 10]),
      Buffer.from('{"k":"é"}', 'utf8'),
    ]);
    expect(hex(encodeAuditEntry(entry))).toBe(expected.toString('hex'));
    const nulls = encodeAuditEntry({
      ...entry,
      type: 'critical',
      eventId: null,
      reason: null,
      detail: '',
    });
    expect(hex(nulls)).toBe(
      `01${'0000000100000005'}${(1_750_000_000_123).toString(16).padStart(16, '0')}03000000000000`,
    );
    // Format 2: the same layout with version byte 0x02, and the summary (0x04) and checkpoint (0x05) types.
    const summary = encodeAuditEntry({
      ...entry,
      format: 2,
      type: 'summary',
      eventId: null,
      reason: null,
      detail: '{}',
    });
    expect(hex(summary)).toBe(
      `02${'0000000100000005'}${(1_750_000_000_123).toString(16).padStart(16, '0')}04000000000002${hex(Buffer.from('{}'))}`,
    );
    expect(
      encodeAuditEntry({
        ...entry,
        format: 2,
        type: 'checkpoint',
        eventId: null,
        reason: null,
        detail: '',
      })[17],
    ).toBe(0x05);
    expect(() => encodeAuditEntry({ ...entry, format: 1, type: 'summary' })).toThrow(RangeError);
  });

  it('gives distinct entries distinct encodings', () => {
    const entryArb = fc.record({
      format: fc.constantFrom(1 as const, 2 as const),
      seq: fc.nat(),
      time: fc.nat(),
      type: fc.constantFrom('accept' as const, 'reject' as const, 'critical' as const),
      eventId: fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 }), { nil: null }),
      reason: fc.option(fc.string({ maxLength: 8 }), { nil: null }),
      detail: fc.string({ maxLength: 12 }),
    });
    fc.assert(
      fc.property(entryArb, entryArb, (a, b) => {
        const same = hex(encodeAuditEntry(a)) === hex(encodeAuditEntry(b));
        const equal =
          a.format === b.format &&
          a.seq === b.seq &&
          a.time === b.time &&
          a.type === b.type &&
          (a.eventId === null
            ? b.eventId === null
            : b.eventId !== null && hex(a.eventId) === hex(b.eventId)) &&
          a.reason === b.reason &&
          Buffer.from(a.detail).equals(Buffer.from(b.detail));
        expect(same).toBe(equal);
      }),
      { numRuns: 300 },
    );
  });
});

describe('audit log', () => {
  it('writes one accept entry per committed event, carrying its hashes', () => {
    const clock = manualClock();
    const s = open(dir(), clock.now);
    s.commit([], [{ type: 'critical', reason: 'NODE_START' }]);
    const evs = fakeEvents(3);
    s.commit(evs);
    evs.forEach((e, i) => {
      expect(s.acceptEntrySeq(e.idHex)).toBe(i + 1);
      expect(s.getEvent(e.idHex)?.auditSeq).toBe(i + 1);
      const entry = s.audit.entry(i + 1);
      expect(entry?.type).toBe('accept');
      expect(entry?.time).toBe(clock.now());
      expect(hex(entry?.eventId ?? new Uint8Array())).toBe(e.idHex);
      const detail = JSON.parse(entry?.detail ?? '') as { eventSeq: number; encodedHash: string };
      expect(detail.eventSeq).toBe(i + 1);
      expect(detail.encodedHash).toBe(hex(core.sha256(e.encoded)));
      expect(hex(entry?.leafHash ?? new Uint8Array())).toBe(
        hex(hashLeaf(H, encodeAuditEntry(entry as AuditEntry))),
      );
    });
    expect(s.acceptEntrySeq('00'.repeat(32))).toBeUndefined();
    // Chain: each chain hash is SHA-256(previous chain || leaf), from 32 zero bytes.
    let chain: Uint8Array = new Uint8Array(32);
    for (let i = 0; i < 4; i++) {
      const e = s.audit.entry(i);
      chain = H(Buffer.concat([chain, e?.leafHash ?? new Uint8Array()]));
      expect(hex(e?.chainHash ?? new Uint8Array())).toBe(hex(chain));
    }
    expect(hex(s.audit.chainHead)).toBe(hex(chain));
  });

  it('serves proofs from stored subtrees that verify and match the reference, before and after reopening', () => {
    const d = dir();
    let s = open(d);
    // 140 entries in uneven batches, so subtrees close inside and across commits.
    for (const n of [1, 16, 33, 7, 50, 13]) {
      const records: AuditRecord[] = [
        { type: 'reject', reason: 'ERR_R' },
        { type: 'critical', reason: 'C' },
      ];
      s.commit(fakeEvents(n), records.slice(0, n % 3));
    }
    const size = s.audit.size;
    const leaves = Array.from({ length: size }, (_, i) => s.audit.entry(i)?.leafHash as Uint8Array);
    const check = (store: Store): void => {
      expect(hex(store.audit.root())).toBe(hex(rootOfLeaves(H, leaves)));
      fc.assert(
        fc.property(fc.nat({ max: size - 1 }), fc.nat({ max: size - 1 }), (a, b) => {
          const n = Math.max(a, b) + 1;
          const m = Math.min(a, b) + 1;
          const index = Math.min(a, b);
          const rootN = store.audit.rootAt(n);
          expect(hex(rootN)).toBe(hex(rootOfLeaves(H, leaves.slice(0, n))));
          const proof = store.audit.inclusionProof(index, n);
          expect(proof.map(hex)).toEqual(
            inclusionProof(index, n, subtreeOfLeaves(H, leaves.slice(0, n))).map(hex),
          );
          expect(verifyInclusion(H, index, n, leaves[index] as Uint8Array, proof, rootN)).toBe(
            true,
          );
          const cons = store.audit.consistencyProof(m, n);
          expect(verifyConsistency(H, m, n, store.audit.rootAt(m), rootN, cons)).toBe(true);
        }),
        { numRuns: 80 },
      );
    };
    check(s);
    s.close();
    s = open(d);
    expect(s.audit.size).toBe(size);
    check(s);
    expect(() => s.audit.inclusionProof(size, size)).toThrow(RangeError);
    expect(() => s.audit.rootAt(size + 1)).toThrow(RangeError);
  });
});

describe('checkpoints', () => {
  it('are numbered, chained, signed over the documented 152-byte message, and recorded in the log', () => {
    const clock = manualClock();
    const d = dir();
    const s = open(d, clock.now);
    const key = signer(1);
    const empty = s.audit.checkpoint(key);
    expect([empty.version, empty.seq, empty.treeSize]).toEqual([2, 1, 0]);
    expect(hex(empty.prev as Uint8Array)).toBe('00'.repeat(32));
    expect(s.audit.entry(0)).toMatchObject({
      format: 2,
      type: 'checkpoint',
      detail: `{"checkpoint":1,"hash":"${hex(checkpointHash(H, empty))}"}`,
    });
    s.commit(fakeEvents(20), [{ type: 'reject', reason: 'ERR_X' }]);
    clock.advance(5_000);
    const size = s.audit.size;
    const cp = s.audit.checkpoint(key);
    expect([cp.seq, cp.treeSize]).toEqual([2, size]);
    expect(hex(cp.prev as Uint8Array)).toBe(hex(checkpointHash(H, empty)));
    expect(hex(cp.root)).toBe(hex(s.audit.rootAt(size)));
    expect(cp.time).toBe(clock.now());
    expect(hex(cp.publicKey)).toBe(hex(key.publicKey));
    const msg = checkpointMessage(cp);
    expect(msg.length).toBe(152);
    expect(Buffer.from(msg.subarray(0, 32)).toString('ascii')).toBe(CHECKPOINT_DOMAIN_V2);
    expect(hex(msg.subarray(32, 40))).toBe('0000000000000002');
    expect(hex(msg.subarray(40, 48))).toBe(size.toString(16).padStart(16, '0'));
    expect(hex(msg.subarray(48, 80))).toBe(hex(cp.root));
    expect(hex(msg.subarray(80, 88))).toBe(clock.now().toString(16).padStart(16, '0'));
    expect(hex(msg.subarray(88, 120))).toBe(hex(key.publicKey));
    expect(hex(msg.subarray(120, 152))).toBe(hex(cp.prev as Uint8Array));
    expect(core.ed25519Verify(key.publicKey, msg, cp.signature)).toBe(true);
    expect(verifyCheckpointSignature(core, cp)).toBe(true);
    expect(verifyCheckpointSignature(core, { ...cp, seq: 3 })).toBe(false);
    expect(verifyCheckpointSignature(core, { ...cp, treeSize: size + 1 })).toBe(false);
    expect(verifyCheckpointSignature(core, { ...cp, time: cp.time + 1 })).toBe(false);
    expect(verifyCheckpointSignature(core, { ...cp, prev: new Uint8Array(32) })).toBe(false);
    expect(s.audit.latestCheckpoint()).toEqual(cp);
    expect(s.audit.checkpoints().map((c) => c.treeSize)).toEqual([0, size]);
    expect(s.audit.entry(size)?.type).toBe('checkpoint');
    // Version 1 (the first release's checkpoints, still verified): 112 bytes, no number or chain.
    const v1 = checkpointMessage({ ...cp, version: 1 });
    expect(v1.length).toBe(112);
    expect(Buffer.from(v1.subarray(0, 32)).toString('ascii')).toBe(CHECKPOINT_DOMAIN);
    expect(hex(v1.subarray(32, 40))).toBe(size.toString(16).padStart(16, '0'));
    s.close();
    expect(verifyAuditData(d, core, { publicKey: key.publicKey })).toEqual({
      ok: true,
      entries: size + 1,
      checkpoints: 2,
      events: 20,
    });
  });

  it('are signed again when batches commit while an asynchronous signer signs: the entry is always entry tree_size', async () => {
    const d = dir();
    const store = open(d);
    store.commit(fakeEvents(5));
    const key = signer(9);
    let release: () => void = () => undefined;
    const slow = {
      publicKey: key.publicKey,
      sign: async (m: Uint8Array) => {
        await new Promise<void>((r) => {
          release = r;
        });
        return key.sign(m);
      },
    };
    const signing = store.audit.checkpointAsync(slow);
    await new Promise((r) => setImmediate(r));
    store.commit(fakeEvents(3)); // a batch commits while the keystore signs
    const sizeWhileSigning = store.audit.size;
    release();
    await expect(signing).rejects.toThrow(CheckpointOutdatedError);
    expect(store.audit.size).toBe(sizeWhileSigning); // nothing written
    expect(store.audit.latestCheckpoint()).toBeUndefined();
    // signed again, at the new size: its entry is entry tree_size, so the start-up check and
    // audit verify accept the log
    const cp = await store.audit.checkpointAsync({
      publicKey: key.publicKey,
      sign: async (m) => key.sign(m),
    });
    expect(cp.treeSize).toBe(sizeWhileSigning);
    expect(store.audit.entry(cp.treeSize)?.type).toBe('checkpoint');
    expect(() => store.checkTail({ now: 0, skewSeconds: 0 })).not.toThrow();
    store.close();
    expect(verifyAuditData(d, core, { publicKey: key.publicKey }).ok).toBe(true);
  });

  it('refuses a signer whose signatures do not match its public key', () => {
    const s = open(dir());
    const liar: CheckpointSigner = { publicKey: signer(1).publicKey, sign: signer(2).sign };
    expect(() => s.audit.checkpoint(liar)).toThrow(CheckpointSignerError);
    expect(s.audit.latestCheckpoint()).toBeUndefined();
  });

  it('detects a forged checkpoint signature, a foreign signer and a forged root', () => {
    const d = dir();
    const s = open(d);
    const key = signer(1);
    s.commit(fakeEvents(10));
    s.audit.checkpoint(key);
    s.commit(fakeEvents(10));
    s.audit.checkpoint(key);
    s.close();
    expect(verifyAuditData(d, core, { publicKey: key.publicKey }).ok).toBe(true);

    const edit = (sql: string, ...params: unknown[]): void => {
      const db = new Database(join(d, DB_FILE));
      db.prepare(sql).run(...params);
      db.close();
    };
    type CheckpointRow = {
      seq: number;
      tree_size: number;
      root: Buffer;
      time: number;
      public_key: Buffer;
      signature: Buffer;
      prev_hash: Buffer;
    };
    const rowCheckpoint = (r: CheckpointRow): Checkpoint => ({
      version: 2,
      seq: r.seq,
      treeSize: r.tree_size,
      root: r.root,
      time: r.time,
      publicKey: r.public_key,
      prev: r.prev_hash,
      signature: r.signature,
    });
    const row = (seq: number): CheckpointRow => {
      const db = new Database(join(d, DB_FILE), { readonly: true });
      const r = db.prepare('SELECT * FROM checkpoints WHERE seq = ?').get(seq);
      db.close();
      return r as never;
    };

    // 1. One flipped signature bit.
    const original = row(2);
    const sig = Buffer.from(original.signature);
    sig[10] = (sig[10] as number) ^ 0x01;
    edit('UPDATE checkpoints SET signature = ? WHERE seq = 2', sig);
    expect(verifyAuditData(d, core)).toEqual({
      ok: false,
      firstBad: { table: 'checkpoints', row: 2, what: 'signature does not verify' },
    });
    edit('UPDATE checkpoints SET signature = ? WHERE seq = 2', original.signature);

    // 2. A well-formed checkpoint of the right root, signed by someone else: the log's entry for
    // checkpoint 2 recorded another hash, and the signer is not the node.
    const other = signer(9);
    const forged = { ...rowCheckpoint(original), publicKey: other.publicKey };
    edit(
      'UPDATE checkpoints SET public_key = ?, signature = ? WHERE seq = 2',
      other.publicKey,
      other.sign(checkpointMessage(forged)),
    );
    expect(verifyAuditData(d, core)).toMatchObject({
      ok: false,
      firstBad: {
        table: 'checkpoints',
        row: 2,
        what: 'differs from what its checkpoint entry recorded',
      },
    });
    expect(verifyAuditData(d, core, { publicKey: key.publicKey })).toMatchObject({
      ok: false,
      firstBad: { table: 'checkpoints', row: 2, what: 'signed by a key other than the node key' },
    });

    // 3. A validly signed checkpoint (the attacker holds a key) of a root the log never had.
    const fakeRoot = new Uint8Array(32).fill(0xee);
    const lie = { ...forged, root: fakeRoot };
    edit(
      'UPDATE checkpoints SET root = ?, signature = ? WHERE seq = 2',
      fakeRoot,
      other.sign(checkpointMessage(lie)),
    );
    expect(verifyAuditData(d, core)).toMatchObject({
      ok: false,
      firstBad: { table: 'checkpoints', row: 2 },
    });

    // 4. A checkpoint beyond the end of the log, well signed and chained.
    edit(
      'UPDATE checkpoints SET root = ?, public_key = ?, signature = ? WHERE seq = 2',
      original.root,
      original.public_key,
      original.signature,
    );
    const beyond = {
      version: 2 as const,
      seq: 3,
      treeSize: 999,
      root: fakeRoot,
      time: original.time,
      publicKey: key.publicKey,
      prev: checkpointHash(H, rowCheckpoint(original)),
    };
    edit(
      'INSERT INTO checkpoints (seq, version, tree_size, root, time, public_key, signature, prev_hash) VALUES (3, 2, ?, ?, ?, ?, ?, ?)',
      999,
      fakeRoot,
      original.time,
      key.publicKey,
      key.sign(checkpointMessage(beyond)),
      beyond.prev,
    );
    expect(verifyAuditData(d, core)).toMatchObject({
      ok: false,
      firstBad: { table: 'checkpoints', row: 3 },
    });
  });
});
