/**
 * The split-view defence (spec/SYNC.md §7), as Certificate Transparency gossips signed tree
 * heads: every node's signed audit checkpoints travel between peers; for each node we keep the
 * largest checkpoint proven consistent with everything seen before (its head) and ask the node
 * itself for RFC 6962 consistency proofs against any other checkpoint it signed. Two signed
 * checkpoints of one size with different roots, or a proof that does not verify, are a split
 * view: both checkpoints are kept as evidence and an alert is raised. Pure: time is passed in.
 */

import { type Sha256, verifyConsistency } from '../../audit/merkle.js';
import { toHex } from '../../protocol/bytes.js';
import { didKeyFromPublicKey } from '../../protocol/did.js';
import type { WireCheckpoint } from '../wire/messages.js';

export type CheckpointSignatureCheck = (cp: WireCheckpoint) => boolean;

export interface SplitViewEvidence {
  /** did:key of the node that signed both checkpoints. */
  readonly node: string;
  readonly reason: 'same-size-different-roots' | 'inconsistent-proof' | 'restarted-again';
  readonly first: WireCheckpoint;
  readonly second: WireCheckpoint;
  /** The proof the node gave, when the verdict rests on one. */
  readonly proof: readonly Uint8Array[] | null;
  readonly detectedMs: number;
}

export interface ProofRequest {
  readonly node: string;
  readonly from: number;
  readonly to: number;
}

export type ObserveResult =
  | { readonly status: 'invalid' }
  | { readonly status: 'ignored' }
  | { readonly status: 'known' }
  | { readonly status: 'new-head' }
  | { readonly status: 'pending' }
  | { readonly status: 'split-view'; readonly evidence: SplitViewEvidence }
  | { readonly status: 'restarted'; readonly evidence: RestartEvidence };

/**
 * A node's audit log started over (spec/SYNC.md §7.1): a version 2 checkpoint signed later than
 * the head but with a smaller number. An honest node does this once, when its data directory
 * was lost and it was restored with its key; both checkpoints are kept as evidence.
 */
export interface RestartEvidence {
  readonly node: string;
  /** The head of the log before the restart. */
  readonly previous: WireCheckpoint;
  /** The first checkpoint seen of the new log. */
  readonly restart: WireCheckpoint;
  readonly detectedMs: number;
}

/** Restarts of one node's log accepted while this node runs; another one is a split view. */
export const MAX_LOG_RESTARTS = 1;

const MAX_CANDIDATES = 4;
const MAX_EVIDENCE = 64;

interface NodeState {
  head: WireCheckpoint;
  candidates: WireCheckpoint[];
  /** "from/to" of proof requests sent and not answered, with when they were sent. */
  readonly asked: Map<string, number>;
  split: boolean;
  restarts: number;
  /** After a restart: checkpoints signed before this time belong to the old log (ignored). */
  restartedAt: number;
}

/** Signed later, numbered lower: a log that started over (both must be version 2). */
function isRestart(head: WireCheckpoint, cp: WireCheckpoint): boolean {
  return head.seq !== undefined && cp.seq !== undefined && cp.seq < head.seq && cp.time > head.time;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export class CheckpointWatch {
  private readonly nodes = new Map<string, NodeState>();
  readonly evidence: SplitViewEvidence[] = [];

  constructor(
    private readonly checkSignature: CheckpointSignatureCheck,
    private readonly sha256: Sha256,
    /** Only checkpoints of admitted nodes are kept (anyone else's would be free memory). */
    private readonly admitted: (did: string) => boolean,
    private readonly self: string,
  ) {}

  /** The head of a node, if any. */
  head(node: string): WireCheckpoint | undefined {
    return this.nodes.get(node)?.head;
  }

  heads(): Array<{ node: string; checkpoint: WireCheckpoint }> {
    return [...this.nodes]
      .filter(([, s]) => !s.split)
      .map(([node, s]) => ({ node, checkpoint: s.head }));
  }

  isSplit(node: string): boolean {
    return this.nodes.get(node)?.split === true;
  }

  observe(cp: WireCheckpoint, nowMs: number): ObserveResult {
    if (!this.checkSignature(cp)) return { status: 'invalid' };
    const node = didKeyFromPublicKey(cp.publicKey);
    if (node === this.self || !this.admitted(node)) return { status: 'ignored' };
    const state = this.nodes.get(node);
    if (state === undefined) {
      this.nodes.set(node, {
        head: cp,
        candidates: [],
        asked: new Map(),
        split: false,
        restarts: 0,
        restartedAt: 0,
      });
      return { status: 'new-head' };
    }
    if (state.split) return { status: 'known' };
    if (cp.time < state.restartedAt) return { status: 'known' }; // the log before its restart
    if (isRestart(state.head, cp)) {
      if (state.restarts >= MAX_LOG_RESTARTS)
        return this.split(node, state, 'restarted-again', state.head, cp, null, nowMs);
      const evidence: RestartEvidence = {
        node,
        previous: state.head,
        restart: cp,
        detectedMs: nowMs,
      };
      state.head = cp;
      state.candidates = [];
      state.asked.clear();
      state.restarts++;
      state.restartedAt = cp.time;
      return { status: 'restarted', evidence };
    }
    for (const known of [state.head, ...state.candidates]) {
      if (known.treeSize === cp.treeSize) {
        if (sameBytes(known.root, cp.root)) return { status: 'known' };
        return this.split(node, state, 'same-size-different-roots', known, cp, null, nowMs);
      }
    }
    if (cp.treeSize === 0 || state.head.treeSize === 0) {
      // every log extends the empty one: nothing to prove
      if (cp.treeSize > state.head.treeSize) {
        state.head = cp;
        return { status: 'new-head' };
      }
      return { status: 'known' };
    }
    if (state.candidates.length >= MAX_CANDIDATES) state.candidates.shift();
    state.candidates.push(cp);
    return { status: 'pending' };
  }

  /**
   * The proofs to ask `node` for now: those not asked yet, and those asked more than
   * `timeoutMs` ago (`timedOut` counts those, for the score).
   */
  due(
    node: string,
    nowMs: number,
    timeoutMs: number,
  ): { requests: ProofRequest[]; timedOut: number } {
    const state = this.nodes.get(node);
    if (state === undefined || state.split) return { requests: [], timedOut: 0 };
    const requests: ProofRequest[] = [];
    let timedOut = 0;
    for (const c of state.candidates) {
      const from = Math.min(c.treeSize, state.head.treeSize);
      const to = Math.max(c.treeSize, state.head.treeSize);
      const key = `${from}/${to}`;
      const askedAt = state.asked.get(key);
      if (askedAt !== undefined && nowMs - askedAt < timeoutMs) continue;
      if (askedAt !== undefined) timedOut++;
      state.asked.set(key, nowMs);
      requests.push({ node, from, to });
    }
    return { requests, timedOut };
  }

  /** A consistency proof `node` gave for sizes `from` → `to`. */
  proof(
    node: string,
    from: number,
    to: number,
    hashes: readonly Uint8Array[],
    nowMs: number,
  ):
    | { status: 'consistent' | 'unexpected' }
    | { status: 'split-view'; evidence: SplitViewEvidence } {
    const state = this.nodes.get(node);
    if (state === undefined || state.split || !state.asked.has(`${from}/${to}`))
      return { status: 'unexpected' };
    state.asked.delete(`${from}/${to}`);
    const pair = this.pairFor(state, from, to);
    if (pair === undefined) return { status: 'unexpected' };
    const [older, newer, candidate] = pair;
    if (!verifyConsistency(this.sha256, from, to, older.root, newer.root, hashes)) {
      const result = this.split(node, state, 'inconsistent-proof', older, newer, hashes, nowMs);
      return result;
    }
    state.candidates = state.candidates.filter((c) => c !== candidate);
    if (candidate.treeSize > state.head.treeSize) state.head = candidate;
    return { status: 'consistent' };
  }

  private pairFor(
    state: NodeState,
    from: number,
    to: number,
  ): [WireCheckpoint, WireCheckpoint, WireCheckpoint] | undefined {
    for (const c of state.candidates) {
      if (c.treeSize === to && state.head.treeSize === from) return [state.head, c, c];
      if (c.treeSize === from && state.head.treeSize === to) return [c, state.head, c];
    }
    return undefined;
  }

  private split(
    node: string,
    state: NodeState,
    reason: SplitViewEvidence['reason'],
    first: WireCheckpoint,
    second: WireCheckpoint,
    proof: readonly Uint8Array[] | null,
    nowMs: number,
  ): ObserveResult & { status: 'split-view'; evidence: SplitViewEvidence } {
    state.split = true;
    state.candidates = [];
    const evidence: SplitViewEvidence = { node, reason, first, second, proof, detectedMs: nowMs };
    if (this.evidence.length < MAX_EVIDENCE) this.evidence.push(evidence);
    return { status: 'split-view', evidence };
  }
}

/** A printable form of a checkpoint for alerts and the audit log. */
export function checkpointJson(c: WireCheckpoint): Record<string, unknown> {
  return {
    tree_size: c.treeSize,
    root: toHex(c.root),
    time: c.time,
    node: toHex(c.publicKey),
    signature: toHex(c.signature),
    ...(c.seq === undefined ? {} : { version: 2, seq: c.seq, prev: toHex(c.prev as Uint8Array) }),
  };
}

/** A printable form of a restart's evidence. */
export function restartJson(e: RestartEvidence): Record<string, unknown> {
  return {
    node: e.node,
    previous: checkpointJson(e.previous),
    restart: checkpointJson(e.restart),
    detected_ms: e.detectedMs,
  };
}

/** A printable form of evidence for alerts and the audit log. */
export function evidenceJson(e: SplitViewEvidence): Record<string, unknown> {
  const cp = (c: WireCheckpoint) => ({
    tree_size: c.treeSize,
    root: toHex(c.root),
    time: c.time,
    node: toHex(c.publicKey),
    signature: toHex(c.signature),
    ...(c.seq === undefined ? {} : { version: 2, seq: c.seq, prev: toHex(c.prev as Uint8Array) }),
  });
  return {
    node: e.node,
    reason: e.reason,
    first: cp(e.first),
    second: cp(e.second),
    proof: e.proof === null ? null : e.proof.map(toHex),
    detected_ms: e.detectedMs,
  };
}
