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

import {
  type AuditEntry,
  type AuditRecord,
  CHECKPOINT_DOMAIN,
  checkpointMessage,
  CheckpointSignerError,
  type CheckpointSigner,
  encodeAuditEntry,
  hashLeaf,
  rootOfLeaves,
  subtreeOfLeaves,
  inclusionProof,
  verifyAuditData,
  verifyCheckpointSignature,
  verifyConsistency,
  verifyInclusion,
} from '../src/audit/index.js';
import { sha256One } from '../src/audit/hash.js';
import { DB_FILE, Store } from '../src/storage/index.js';
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
    const nulls = encodeAuditEntry({ ...entry, type: 'critical', eventId: null, reason: null, detail: '' });
    expect(hex(nulls)).toBe(
      `01${'0000000100000005'}${(1_750_000_000_123).toString(16).padStart(16, '0')}03000000000000`,
    );
  });

  it('gives distinct entries distinct encodings', () => {
    const entryArb = fc.record({
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
          a.seq === b.seq &&
          a.time === b.time &&
          a.type === b.type &&
          (a.eventId === null ? b.eventId === null : b.eventId !== null && hex(a.eventId) === hex(b.eventId)) &&
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
      expect(hex(entry?.leafHash ?? new Uint8Array())).toBe(hex(hashLeaf(H, encodeAuditEntry(entry as AuditEntry))));
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
          expect(proof.map(hex)).toEqual(inclusionProof(index, n, subtreeOfLeaves(H, leaves.slice(0, n))).map(hex));
          expect(verifyInclusion(H, index, n, leaves[index] as Uint8Array, proof, rootN)).toBe(true);
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
  it('are signed over the documented 112-byte message and verify', () => {
    const clock = manualClock();
    const d = dir();
    const s = open(d, clock.now);
    const key = signer(1);
    const empty = s.audit.checkpoint(key);
    expect(empty.treeSize).toBe(0);
    s.commit(fakeEvents(20), [{ type: 'reject', reason: 'ERR_X' }]);
    clock.advance(5_000);
    const cp = s.audit.checkpoint(key);
    expect(cp.treeSize).toBe(21);
    expect(hex(cp.root)).toBe(hex(s.audit.root()));
    expect(cp.time).toBe(clock.now());
    expect(hex(cp.publicKey)).toBe(hex(key.publicKey));
    const msg = checkpointMessage(cp);
    expect(msg.length).toBe(112);
    expect(Buffer.from(msg.subarray(0, 32)).toString('ascii')).toBe(CHECKPOINT_DOMAIN);
    expect(hex(msg.subarray(32, 40))).toBe('0000000000000015');
    expect(hex(msg.subarray(40, 72))).toBe(hex(cp.root));
    expect(hex(msg.subarray(72, 80))).toBe(clock.now().toString(16).padStart(16, '0'));
    expect(hex(msg.subarray(80, 112))).toBe(hex(key.publicKey));
    expect(core.ed25519Verify(key.publicKey, msg, cp.signature)).toBe(true);
    expect(verifyCheckpointSignature(core, cp)).toBe(true);
    expect(verifyCheckpointSignature(core, { ...cp, treeSize: 22 })).toBe(false);
    expect(verifyCheckpointSignature(core, { ...cp, time: cp.time + 1 })).toBe(false);
    expect(s.audit.latestCheckpoint()).toEqual(cp);
    expect(s.audit.checkpoints().map((c) => c.treeSize)).toEqual([0, 21]);
    s.close();
    expect(verifyAuditData(d, core, { publicKey: key.publicKey })).toEqual({
      ok: true,
      entries: 21,
      checkpoints: 2,
      events: 20,
    });
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
    const row = (seq: number): { tree_size: number; root: Buffer; time: number; public_key: Buffer; signature: Buffer } => {
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

    // 2. A well-formed checkpoint of the right root, signed by someone else.
    const other = signer(9);
    const forged = { treeSize: original.tree_size, root: original.root, time: original.time, publicKey: other.publicKey };
    edit(
      'UPDATE checkpoints SET public_key = ?, signature = ? WHERE seq = 2',
      other.publicKey,
      other.sign(checkpointMessage(forged)),
    );
    expect(verifyAuditData(d, core).ok).toBe(true); // self-consistent ...
    expect(verifyAuditData(d, core, { publicKey: key.publicKey })).toMatchObject({
      ok: false,
      firstBad: { table: 'checkpoints', row: 2, what: 'signed by a key other than the node key' },
    }); // ... but not the node's

    // 3. A validly signed checkpoint (the attacker holds a key) of a root the log never had.
    const fakeRoot = new Uint8Array(32).fill(0xee);
    const lie = { ...forged, root: fakeRoot };
    edit('UPDATE checkpoints SET root = ?, signature = ? WHERE seq = 2', fakeRoot, other.sign(checkpointMessage(lie)));
    expect(verifyAuditData(d, core)).toMatchObject({ ok: false, firstBad: { table: 'checkpoints', row: 2 } });

    // 4. A checkpoint beyond the end of the log.
    edit('DELETE FROM checkpoints WHERE seq = 2');
    const beyond = { treeSize: 999, root: fakeRoot, time: 1, publicKey: key.publicKey };
    edit(
      'INSERT INTO checkpoints (tree_size, root, time, public_key, signature) VALUES (?, ?, ?, ?, ?)',
      999,
      fakeRoot,
      1,
      key.publicKey,
      key.sign(checkpointMessage(beyond)),
    );
    expect(verifyAuditData(d, core)).toMatchObject({
      ok: false,
      firstBad: { table: 'checkpoints', what: 'tree_size 999 exceeds the log (20 entries)' },
    });
  });
});
