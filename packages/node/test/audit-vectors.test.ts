/**
 * The audit vectors of spec/vectors/audit hold for the node's code (encodings, leaf and chain
 * hashes, roots and proofs, checkpoint messages and hashes, the rules, the client's proof
 * check), and for the independent implementation `crosscheck.mjs`, run as a child process.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import {
  checkCheckpointJson,
  checkInclusionProof,
  decodeAuditEntry,
} from '../src/audit/client-proof.js';
import { ProofError } from '../src/audit/errors.js';
import { sha256One } from '../src/audit/hash.js';
import {
  type AuditEntry,
  checkpointHash,
  checkpointMessage,
  consistencyProof,
  encodeAuditEntry,
  hashLeaf,
  inclusionProof,
  rootOfLeaves,
  subtreeOfLeaves,
} from '../src/audit/index.js';
import { Found } from '../src/audit/verify-common.js';
import { EntryRules } from '../src/audit/verify-rules.js';
import { decodeEvent, fromHex, toHex } from '../src/protocol/index.js';
import { nativeCore as core } from './node-fixtures.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const load = <T>(file: string): T =>
  JSON.parse(readFileSync(`${ROOT}spec/vectors/audit/${file}`, 'utf8')) as T;
const unhex = (h: string): Uint8Array => fromHex(h) ?? new Uint8Array();
const H = sha256One;

interface EntryJson {
  format: 1 | 2;
  seq: number;
  time: number;
  type: AuditEntry['type'];
  event_id: string | null;
  reason: string | null;
  detail: string;
}
const entryOf = ({ event_id, ...e }: EntryJson): AuditEntry => ({
  ...e,
  eventId: event_id === null ? null : unhex(event_id),
});

describe('spec/vectors/audit against the node code', () => {
  it('entries: encodings, leaf hashes, and encodings a reader refuses', () => {
    const v = load<{
      cases: { entry: EntryJson; encoding: string; leaf_hash: string }[];
      invalid: { name: string; encoding: string }[];
    }>('entries.json');
    for (const c of v.cases) {
      const enc = encodeAuditEntry(entryOf(c.entry));
      expect(toHex(enc)).toBe(c.encoding);
      expect(toHex(hashLeaf(H, enc))).toBe(c.leaf_hash);
      const back = decodeAuditEntry(enc);
      expect({ ...back, eventId: back.eventId === null ? null : toHex(back.eventId) }).toEqual({
        ...entryOf(c.entry),
        eventId: c.entry.event_id,
      });
    }
    for (const c of v.invalid)
      expect(() => decodeAuditEntry(unhex(c.encoding)), c.name).toThrow(ProofError);
  });

  it('tree: chain hashes, roots at every size, inclusion and consistency proofs', () => {
    const v = load<{
      entries: EntryJson[];
      leaf_hashes: string[];
      chain_hashes: string[];
      roots: string[];
      inclusion: { index: number; size: number; path: string[] }[];
      consistency: { from: number; to: number; proof: string[] }[];
    }>('tree.json');
    const leaves = v.entries.map((e) => hashLeaf(H, encodeAuditEntry(entryOf(e))));
    expect(leaves.map(toHex)).toEqual(v.leaf_hashes);
    let chain: Uint8Array = new Uint8Array(32);
    const chained = leaves.map((l) => {
      chain = H(Buffer.concat([chain, l]));
      return toHex(chain);
    });
    expect(chained).toEqual(v.chain_hashes);
    expect(v.roots.map((_, n) => toHex(rootOfLeaves(H, leaves.slice(0, n))))).toEqual(v.roots);
    for (const c of v.inclusion)
      expect(inclusionProof(c.index, c.size, subtreeOfLeaves(H, leaves)).map(toHex)).toEqual(
        c.path,
      );
    for (const c of v.consistency)
      expect(consistencyProof(c.from, c.to, subtreeOfLeaves(H, leaves)).map(toHex)).toEqual(
        c.proof,
      );
  });

  it('checkpoints: messages, hashes and signatures; altered ones refused', () => {
    const v = load<{
      node: { did: string };
      checkpoints: (Record<string, unknown> & { message: string; hash: string })[];
      invalid: { name: string; checkpoint: unknown }[];
    }>('checkpoints.json');
    for (const c of v.checkpoints) {
      const cp = checkCheckpointJson(core, c, v.node.did);
      expect(toHex(checkpointMessage(cp))).toBe(c.message);
      expect(toHex(checkpointHash(H, cp))).toBe(c.hash);
    }
    for (const c of v.invalid)
      expect(() => checkCheckpointJson(core, c.checkpoint, v.node.did), c.name).toThrow(ProofError);
  });

  it('rules: the first entry that breaks them', () => {
    const v = load<{
      sequences: {
        name: string;
        entries: (Omit<EntryJson, 'format' | 'seq'> & { event_id: string | null })[];
        first_bad: number | null;
      }[];
    }>('rules.json');
    for (const s of v.sequences) {
      const rules = new EntryRules(new Map(), H);
      let bad: number | null = null;
      for (let i = 0; i < s.entries.length && bad === null; i++) {
        try {
          rules.check(entryOf({ ...(s.entries[i] as EntryJson), format: 2, seq: i }));
        } catch (error) {
          if (!(error instanceof Found)) throw error;
          bad = i;
        }
      }
      expect(bad, s.name).toBe(s.first_bad);
    }
  });

  it('proof: the served proof holds for the event; every tampered one is refused', () => {
    const v = load<{
      node: { did: string };
      event: { cbor: string };
      proof: unknown;
      tampered: { name: string; proof: unknown }[];
    }>('proof.json');
    const decoded = decodeEvent(unhex(v.event.cbor));
    if (!decoded.ok) throw new Error(decoded.detail);
    expect(checkInclusionProof(core, H, decoded.value, v.proof, v.node.did).eventId).toBe(
      toHex(core.sha256(decoded.value.body)),
    );
    for (const t of v.tampered)
      expect(
        () => checkInclusionProof(core, H, decoded.value, t.proof, v.node.did),
        t.name,
      ).toThrow(ProofError);
  });
});

describe('spec/vectors/audit/crosscheck.mjs', () => {
  it('an implementation written from spec/AUDIT.md alone agrees with every vector', () => {
    const run = spawnSync(process.execPath, ['spec/vectors/audit/crosscheck.mjs'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/^audit vectors: \d+ checks agree with spec\/AUDIT\.md$/m);
  });
});
