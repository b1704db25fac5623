/**
 * The engine's part of the split-view defence (spec/SYNC.md §7): what to do with a checkpoint
 * a peer sent, whom to relay it to, which consistency proofs to ask of whom, and what a split
 * view sets off (alert, audit record, the evidence passed on, the signer banned). The verdicts
 * themselves are `CheckpointWatch`'s.
 */
import type { Sha256 } from '../../audit/merkle.js';
import { didKeyFromPublicKey } from '../../protocol/did.js';
import type { Message, WireCheckpoint } from '../wire/messages.js';
import {
  type CheckpointSignatureCheck,
  CheckpointWatch,
  evidenceJson,
  restartJson,
  type SplitViewEvidence,
} from './checkpoints.js';
import type { Offence } from './config.js';
import type { PeerConn, PeerId } from './peer.js';
import type { EngineAction } from './types.js';

/** What this part needs from the engine. */
export interface CheckpointHooks {
  now(): number;
  readyPeers(): PeerConn[];
  peer(id: PeerId): PeerConn | undefined;
  send(conn: PeerConn, message: Message, control: boolean): void;
  offend(conn: PeerConn, offence: Offence, sample: string, times?: number): void;
  /** Scores a peer that is not connected. */
  penalize(peer: PeerId, offence: Offence, sample: string): void;
  emit(action: EngineAction): void;
}

export class CheckpointGossip {
  readonly watch: CheckpointWatch;
  private readonly requests = new Map<number, { peer: PeerId; from: number; to: number }>();
  private nextRequest = 1;

  constructor(
    deps: {
      checkCheckpoint: CheckpointSignatureCheck;
      sha256: Sha256;
      admitted: (did: string) => boolean;
      self: string;
    },
    private readonly proofTimeoutMs: number,
    private readonly hooks: CheckpointHooks,
  ) {
    this.watch = new CheckpointWatch(deps.checkCheckpoint, deps.sha256, deps.admitted, deps.self);
  }

  /** A checkpoint from `conn` (its own, or relayed). */
  observe(conn: PeerConn, cp: WireCheckpoint): void {
    const seen = this.watch.observe(cp, this.hooks.now());
    switch (seen.status) {
      case 'invalid': {
        this.hooks.offend(conn, 'invalid-checkpoint', 'a checkpoint signature does not verify');
        return;
      }
      case 'ignored':
      case 'known':
        return;
      case 'split-view': {
        this.splitView(seen.evidence);
        return;
      }
      case 'restarted': {
        // one alert and one audit record per restart (at most MAX_LOG_RESTARTS per node)
        this.hooks.emit({ type: 'alert', alert: { kind: 'log-restart', evidence: seen.evidence } });
        this.hooks.emit({
          type: 'audit',
          record: { kind: 'log-restart', evidence: restartJson(seen.evidence) },
        });
        const node = seen.evidence.node;
        for (const peer of this.hooks.readyPeers()) {
          peer.relayed.delete(node); // the new log's sizes start small again
          if (peer !== conn && peer.id !== node) this.relayTo(peer, node, cp);
        }
        return;
      }
      case 'new-head':
      case 'pending': {
        const node = didKeyFromPublicKey(cp.publicKey);
        for (const peer of this.hooks.readyPeers())
          if (peer !== conn && peer.id !== node) this.relayTo(peer, node, cp);
        const owner = this.hooks.peer(node);
        if (owner !== undefined && owner.phase === 'ready') this.askProofs(owner);
        return;
      }
    }
  }

  /** A peer that just said HELLO gets every head we know. */
  relayHeadsTo(conn: PeerConn): void {
    for (const { node, checkpoint } of this.watch.heads()) this.relayTo(conn, node, checkpoint);
  }

  private relayTo(conn: PeerConn, node: string, cp: WireCheckpoint): void {
    if (node === conn.id) return;
    const last = conn.relayed.get(node);
    if (last !== undefined && last >= cp.treeSize) return;
    conn.relayed.set(node, cp.treeSize);
    this.hooks.send(conn, { type: 'checkpoint', checkpoint: cp }, false);
  }

  /** Asks `owner` for the proofs its unproven checkpoints need (again, when unanswered). */
  askProofs(owner: PeerConn): void {
    const { requests, timedOut } = this.watch.due(owner.id, this.hooks.now(), this.proofTimeoutMs);
    if (timedOut > 0)
      this.hooks.offend(
        owner,
        'proof-timeout',
        `${timedOut} consistency proofs unanswered`,
        timedOut,
      );
    for (const r of requests) {
      const request = this.nextRequest++;
      this.requests.set(request, { peer: owner.id, from: r.from, to: r.to });
      this.hooks.send(owner, { type: 'proof-request', request, from: r.from, to: r.to }, true);
    }
  }

  /** A PROOF from `conn`; only answers to what we asked of it count. */
  proof(
    conn: PeerConn,
    request: number,
    from: number,
    to: number,
    hashes: readonly Uint8Array[],
  ): void {
    const asked = this.requests.get(request);
    if (asked === undefined || asked.peer !== conn.id || asked.from !== from || asked.to !== to)
      return;
    this.requests.delete(request);
    const result = this.watch.proof(conn.id, from, to, hashes, this.hooks.now());
    if (result.status === 'split-view') this.splitView(result.evidence);
  }

  /** The connection to `peer` is gone: its unanswered requests go (they are asked again later). */
  forget(peer: PeerId): void {
    for (const [k, v] of this.requests) if (v.peer === peer) this.requests.delete(k);
  }

  private splitView(evidence: SplitViewEvidence): void {
    this.hooks.emit({ type: 'alert', alert: { kind: 'split-view', evidence } });
    // Pass both signed checkpoints on: every peer can check the contradiction for itself.
    for (const peer of this.hooks.readyPeers()) {
      if (peer.id === evidence.node) continue;
      this.hooks.send(peer, { type: 'checkpoint', checkpoint: evidence.first }, false);
      this.hooks.send(peer, { type: 'checkpoint', checkpoint: evidence.second }, false);
    }
    this.hooks.emit({
      type: 'audit',
      record: { kind: 'split-view', evidence: evidenceJson(evidence) },
    });
    const conn = this.hooks.peer(evidence.node);
    if (conn !== undefined)
      this.hooks.offend(conn, 'equivocation', `split view: ${evidence.reason}`);
    else this.hooks.penalize(evidence.node, 'equivocation', `split view: ${evidence.reason}`);
  }
}
