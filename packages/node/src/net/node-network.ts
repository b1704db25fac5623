/**
 * A node on the network (spec/SYNC.md §12): the sync engine and its TLS transport run over a
 * node's {@link SyncService}. At start the sync index is filled from storage; the certificate is
 * bound to the node's identity through its keystore (so an HSM works) and renewed before it
 * ends; events from peers go through the node's full pipeline on exactly the bytes received;
 * what clients get accepted is pushed to peers; checkpoints are announced as the node signs
 * them; bans, split views and equivocating authors become critical audit entries.
 *
 * Nothing here decides anything about the protocol: that is the engine's. This file connects
 * the engine's inputs and outputs to the node, and keeps what `peers` and `/metrics` show.
 */
import type { Core } from '@commons-sync/bindings';

import { type Checkpoint, verifyCheckpointSignature } from '../audit/checkpoint.js';
import { type Logger, silentLogger } from '../log.js';
import { toHex } from '../protocol/bytes.js';
import type {
  GovernanceResult,
  KeyEventResult,
  PeerIngestResult,
  PeerJson,
  PeersJson,
  SyncService,
} from '../service.js';
import { evidenceJson, restartJson } from './engine/checkpoints.js';
import { type EngineConfig, engineConfig } from './engine/config.js';
import { SyncEngine } from './engine/engine.js';
import { nodeItems } from './engine/sync-items.js';
import type { EventVerdict, NetAlert, NetAuditRecord } from './engine/types.js';
import { SyncIndex } from './reconcile/sync-index.js';
import { createNodeCertificate } from './transport/binding.js';
import { PeerHost, type ValidateItem } from './transport/peer-host.js';
import type { WireCheckpoint } from './wire/messages.js';

/** A peer address: host and port of its sync listener. */
export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

export interface NetworkOptions {
  /** Identities that may connect (spec/SYNC.md §3.3): today the trusted set or `--admit`. */
  readonly admitted: ReadonlySet<string>;
  /**
   * Under a trust root: whether an identity may connect, asked at every handshake (the root's
   * validators in force); replaces `admitted`. Call `recheckAdmission` when it changes.
   */
  readonly admits?: (did: string) => boolean;
  /** Where to listen for peers (default 127.0.0.1, port 0: a free one). */
  readonly host?: string;
  readonly port?: number;
  /** Peers to keep connected to (redialed with backoff). */
  readonly peers?: readonly PeerAddress[];
  readonly engine?: Partial<EngineConfig>;
  readonly log?: Logger;
  /** How long a certificate is valid; a new one is made at half that (default 24 h). */
  readonly certificateValidityMs?: number;
}

/** The checkpoint as it travels (spec/SYNC.md §4). */
export function wireCheckpoint(cp: Checkpoint): WireCheckpoint {
  const common = {
    treeSize: cp.treeSize,
    root: cp.root,
    time: cp.time,
    publicKey: cp.publicKey,
    signature: cp.signature,
  };
  return cp.version === 2 && cp.prev !== null ? { ...common, seq: cp.seq, prev: cp.prev } : common;
}

/** The checkpoint a wire form claims to be (its signature says whether it is). */
export function checkpointOfWire(cp: WireCheckpoint): Checkpoint {
  return cp.seq === undefined
    ? { ...cp, version: 1, seq: 0, prev: null }
    : { ...cp, version: 2, seq: cp.seq, prev: cp.prev ?? null };
}

/** Set when the pipeline's id of an event differs from the one the engine read (never, by test). */
export const ERR_ID_MISMATCH = 'ERR_ID_MISMATCH';

function verdictOf(r: PeerIngestResult | undefined, id: Uint8Array): EventVerdict {
  if (r === undefined) return { id, outcome: 'rejected', reason: 'ERR_NO_VERDICT' };
  if (r.status === 'rejected') return { id, outcome: 'rejected', reason: r.reason };
  // The engine read the id from the event's top level without decoding it (event-peek.ts); the
  // pipeline decoded it. They agree on every event that decodes (net-event-peek test); should
  // they ever not, the engine must not put an id it does not hold into the sync set.
  if (r.id !== toHex(id)) return { id, outcome: 'rejected', reason: ERR_ID_MISMATCH };
  return { id, outcome: r.status };
}

function keyEventVerdictOf(r: KeyEventResult | undefined, id: Uint8Array): EventVerdict {
  if (r === undefined) return { id, outcome: 'rejected', reason: 'ERR_NO_VERDICT' };
  if (r.status === 'rejected') return { id, outcome: 'rejected', reason: r.reason };
  if (r.status === 'escrowed') return { id, outcome: 'held' };
  return { id, outcome: r.status };
}

/**
 * A governance verdict as the engine scores it: a refusal that depends only on the record's
 * bytes (a bad signature) is `invalid-event`; the others depend on what the node holds or its
 * rate, and cost nothing (spec/SYNC.md §6.6).
 */
function governanceVerdictOf(r: GovernanceResult | undefined, id: Uint8Array): EventVerdict {
  if (r === undefined) return { id, outcome: 'rejected', reason: 'ERR_NO_VERDICT' };
  if (r.status === 'rejected') return { id, outcome: 'rejected', reason: r.reason };
  return { id, outcome: r.status };
}

interface KnownPeer {
  address: string | null;
  lastClose: { code: string; detail: string; at: number } | null;
}

export class NodeNetwork {
  private readonly known = new Map<string, KnownPeer>();
  private readonly unsubscribe: Array<() => void> = [];
  private readonly renewTimer: NodeJS.Timeout;
  private splitViews = 0;
  private logRestarts = 0;
  private closed = false;

  private constructor(
    private readonly node: SyncService,
    readonly host: PeerHost,
    readonly index: SyncIndex,
    private readonly opts: NetworkOptions,
    private readonly log: Logger,
  ) {
    this.unsubscribe.push(
      node.onLocallyAccepted((encoded) => {
        if (this.closed) return;
        try {
          host.localAccepted(encoded);
        } catch (error) {
          // what the node stored is durable whatever the network does with it: never fail
          // the client's request over it (reconciliation offers it to peers later)
          log.error('could not announce what the node accepted', { error: String(error) });
        }
      }),
      node.onLocallyWithdrawn((ids) => {
        if (!this.closed) host.localWithdrawn(ids);
      }),
      node.onCheckpoint((cp) => {
        if (!this.closed) host.ownCheckpoint(wireCheckpoint(cp));
      }),
    );
    const validity = opts.certificateValidityMs ?? 24 * 60 * 60 * 1000;
    this.renewTimer = setInterval(() => void this.renew(validity), validity / 2);
    this.renewTimer.unref();
    for (const p of opts.peers ?? []) host.dial(p.host, p.port);
  }

  /** Fills the sync index from storage, makes the certificate, listens, dials the peers. */
  static async start(node: SyncService, core: Core, opts: NetworkOptions): Promise<NodeNetwork> {
    const log = opts.log ?? silentLogger;
    const index = new SyncIndex(core.sha256);
    const nowSeconds = Math.floor(node.now() / 1000);
    for (const row of node.syncRows(nowSeconds)) {
      index.insert({
        timestamp: row.createdAt,
        id: row.id,
        expiresAt: row.expiresAt,
        kind: row.conflict ? 'conflict' : 'accepted',
      });
    }
    const admitted = opts.admits ?? ((did: string): boolean => opts.admitted.has(did));
    const engine = new SyncEngine({
      self: node.did,
      sha256: core.sha256,
      index,
      events: { get: (id) => node.storedEvent(id) },
      ownLog: {
        latest: () => {
          const cp = node.latestCheckpoint();
          return cp === undefined ? null : wireCheckpoint(cp);
        },
        consistencyProof: (from, to) => node.consistencyHashes(from, to),
      },
      items: nodeItems(core.sha256),
      admitted,
      checkCheckpoint: (cp) => verifyCheckpointSignature(core, checkpointOfWire(cp)),
      partials: {
        sha256: core.sha256,
        ed25519Verify: core.ed25519Verify,
        trust: node.trust,
        timeRules: node.timeRules,
      },
      config: engineConfig(opts.engine ?? {}),
    });
    const validity = opts.certificateValidityMs ?? 24 * 60 * 60 * 1000;
    const certificate = await createNodeCertificate(node.identity, {
      nowMs: node.now(),
      validityMs: validity,
    });
    let network: NodeNetwork | undefined;
    const host = await PeerHost.start({
      self: node.did,
      engine,
      certificate,
      admitted,
      verify: core.ed25519Verify,
      validate: (items) => (network as NodeNetwork).validate(items),
      onAlert: (alert) => network?.alert(alert),
      onAudit: (record) => network?.audit(record),
      onRefused: (r) => log.warn('peer refused at the handshake', { ...r }),
      onClosed: (peer, code, detail) => network?.closedPeer(peer, code, detail),
      onConnected: (peer, address) => network?.connectedPeer(peer, address),
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 0,
      clock: node.now,
    });
    network = new NodeNetwork(node, host, index, opts, log);
    log.info('sync listening', {
      address: network.listenAddress,
      sync_set: index.size,
      peers: (opts.peers ?? []).map((p) => `${p.host}:${p.port}`),
      admitted: opts.admitted.size,
    });
    return network;
  }

  get engine(): SyncEngine {
    return this.host.engine;
  }

  /** Cuts connected peers that are no longer admitted (a validator removed by quorum). */
  recheckAdmission(): string[] {
    const admits = this.opts.admits ?? ((did: string) => this.opts.admitted.has(did));
    const cut = this.host.connectedPeers().filter((did) => !admits(did));
    for (const did of cut) {
      this.host.cut(did, 'no longer admitted: removed from the validators in force');
      this.log.warn('peer cut: no longer admitted', { peer: did });
    }
    return cut;
  }

  /** host:port of the sync listener. */
  get listenAddress(): string {
    return `${this.opts.host ?? '127.0.0.1'}:${this.host.port}`;
  }

  /** Adds a peer to keep connected to. */
  dial(peer: PeerAddress): void {
    this.host.dial(peer.host, peer.port);
  }

  /** Every peer this node is, was or tries to be connected to. */
  peers(): PeersJson {
    const engine = this.engine;
    const views = new Map(engine.peerViews().map((v) => [v.peer, v]));
    const dids = new Set<string>([...views.keys(), ...this.known.keys()]);
    const dials = this.host.dialStates();
    for (const d of dials) if (d.did !== null) dids.add(d.did);
    const out: PeerJson[] = [];
    const now = this.node.now();
    for (const did of [...dids].sort()) {
      const v = views.get(did);
      const summary = engine.scoreSummary(did);
      const known = this.known.get(did);
      const dial = dials.find((d) => d.did === did);
      const state =
        v?.phase ??
        (engine.isBanned(did, now) ? 'banned' : dial !== undefined ? 'dialing' : 'disconnected');
      out.push({
        did,
        address: this.host.addressOf(did) ?? dial?.address ?? known?.address ?? null,
        state,
        score: summary.score,
        score_state: summary.state,
        bytes_in: v?.stats.bytesIn ?? 0,
        bytes_out: v?.stats.bytesOut ?? 0,
        messages_in: v?.stats.messagesIn ?? 0,
        events_in: v?.stats.eventsIn ?? 0,
        events_accepted: v?.stats.eventsAccepted ?? 0,
        reconciliations: v?.stats.reconciliations ?? 0,
        lag: v?.stats.lastDiff ?? null,
        last_reconcile_ms: v?.stats.lastReconcileMs ?? null,
        queued_bytes: v?.queuedBytes ?? 0,
        pending_validation: v?.pendingValidation ?? 0,
        outstanding_wants: v?.outstandingWants ?? 0,
        last_close: known?.lastClose ?? null,
      });
    }
    for (const d of dials) {
      if (d.did !== null) continue; // never reached yet: no identity
      out.push({
        did: null,
        address: d.address,
        state: 'dialing',
        score: 0,
        score_state: 'ok',
        bytes_in: 0,
        bytes_out: 0,
        messages_in: 0,
        events_in: 0,
        events_accepted: 0,
        reconciliations: 0,
        lag: null,
        last_reconcile_ms: null,
        queued_bytes: 0,
        pending_validation: 0,
        outstanding_wants: 0,
        last_close: null,
      });
    }
    return {
      node: this.node.did,
      listen: this.listenAddress,
      sync_set: this.index.size,
      refused: { ...this.host.stats.refusedByCode },
      split_views: this.splitViews,
      log_restarts: this.logRestarts,
      peers: out,
    };
  }

  /** Prometheus lines for the network, one series per peer. */
  metrics(): string {
    const p = this.peers();
    const connected = p.peers.filter((x) => x.did !== null && x.state === 'ready');
    const label = (did: string | null) => `peer="${did ?? 'unknown'}"`;
    const lines = [
      '# HELP commons_sync_sync_set_ids Ids in the sync set (accepted and evidence, unexpired).',
      '# TYPE commons_sync_sync_set_ids gauge',
      `commons_sync_sync_set_ids ${p.sync_set}`,
      '# HELP commons_sync_peers_connected Peers with a connection past the HELLO exchange.',
      '# TYPE commons_sync_peers_connected gauge',
      `commons_sync_peers_connected ${connected.length}`,
      '# HELP commons_sync_peers_refused_total Connections refused at the handshake, by code.',
      '# TYPE commons_sync_peers_refused_total counter',
      ...Object.entries(p.refused).map(
        ([code, n]) => `commons_sync_peers_refused_total{code="${code}"} ${n}`,
      ),
      '# HELP commons_sync_split_views_total Split views detected (evidence in the audit log).',
      '# TYPE commons_sync_split_views_total counter',
      `commons_sync_split_views_total ${p.split_views}`,
      '# HELP commons_sync_log_restarts_total Peers seen restarting their audit log (evidence in the audit log).',
      '# TYPE commons_sync_log_restarts_total counter',
      `commons_sync_log_restarts_total ${p.log_restarts}`,
    ];
    const series: Array<[string, string, string, (x: PeerJson) => number | string]> = [
      [
        'peer_up',
        'gauge',
        'Whether the peer is connected past the HELLO exchange.',
        (x) => (x.state === 'ready' ? 1 : 0),
      ],
      ['peer_score', 'gauge', 'The peer score (spec/SYNC.md §8).', (x) => x.score],
      [
        'peer_bytes_in_total',
        'counter',
        'Bytes received from the peer (this connection).',
        (x) => x.bytes_in,
      ],
      [
        'peer_bytes_out_total',
        'counter',
        'Bytes sent to the peer (this connection).',
        (x) => x.bytes_out,
      ],
      [
        'peer_events_in_total',
        'counter',
        'Events the peer sent (this connection).',
        (x) => x.events_in,
      ],
      [
        'peer_events_accepted_total',
        'counter',
        'Events from the peer accepted here.',
        (x) => x.events_accepted,
      ],
      [
        'peer_reconciliations_total',
        'counter',
        'Reconciliations finished with the peer.',
        (x) => x.reconciliations,
      ],
      [
        'peer_lag_events',
        'gauge',
        'Events the peer held that this node lacked at the last reconciliation.',
        (x) => x.lag?.need ?? 0,
      ],
      ['peer_queued_bytes', 'gauge', 'Bytes queued for the peer.', (x) => x.queued_bytes],
      [
        'peer_pending_validation',
        'gauge',
        'Events from the peer waiting for validation.',
        (x) => x.pending_validation,
      ],
    ];
    for (const [name, type, help, value] of series) {
      lines.push(`# HELP commons_sync_${name} ${help}`, `# TYPE commons_sync_${name} ${type}`);
      for (const x of p.peers)
        if (x.did !== null) lines.push(`commons_sync_${name}{${label(x.did)}} ${value(x)}`);
    }
    return `${lines.join('\n')}\n`;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.renewTimer);
    for (const u of this.unsubscribe) u();
    await this.host.close();
  }

  // -------------------------------------------------------------------------------------------

  /**
   * Items from peers, on exactly these bytes: key events through the node's identity path
   * first, then governance records through its governance path, then events through its
   * pipeline, so that what arrives together is judged in the order of its dependencies: a
   * record's did:cs issuer or member needs key events, an event's trust needs records
   * (spec/SYNC.md §6.5, §6.6).
   */
  private async validate(items: readonly ValidateItem[]): Promise<EventVerdict[]> {
    const verdicts: EventVerdict[] = new Array(items.length);
    const of = (kind: ValidateItem['kind']) =>
      items.flatMap((item, i) => (item.kind === kind ? [i] : []));
    const keyEvents = of('key-event');
    const records = of('governance-record');
    const events = of('event');
    if (keyEvents.length > 0) {
      const results = await this.node.ingestKeyEventsFromPeers(
        keyEvents.map((i) => (items[i] as ValidateItem).event),
      );
      keyEvents.forEach((at, k) => {
        verdicts[at] = keyEventVerdictOf(results[k], (items[at] as ValidateItem).id);
      });
    }
    if (records.length > 0) {
      const results = await this.node.ingestGovernanceFromPeers(
        records.map((i) => (items[i] as ValidateItem).event),
      );
      records.forEach((at, k) => {
        verdicts[at] = governanceVerdictOf(results[k], (items[at] as ValidateItem).id);
      });
    }
    if (events.length > 0) {
      const results = await this.node.ingestFromPeers(
        events.map((i) => ({
          event: (items[i] as ValidateItem).event,
          peer: items[i]?.peer ?? null,
        })),
      );
      events.forEach((at, k) => {
        const verdict = verdictOf(results[k], (items[at] as ValidateItem).id);
        if (verdict.reason === ERR_ID_MISMATCH)
          this.log.error('the pipeline found another id than the engine read', {
            code: ERR_ID_MISMATCH,
            engine: toHex(verdict.id),
            pipeline: (results[k] as { id?: string }).id,
          });
        verdicts[at] = verdict;
      });
    }
    return verdicts;
  }

  private alert(alert: NetAlert): void {
    if (alert.kind === 'log-restart') {
      this.logRestarts++;
      this.log.warn('a peer restarted its audit log (its data was lost); evidence kept', {
        peer: alert.evidence.node,
        evidence: restartJson(alert.evidence),
      });
      return;
    }
    this.splitViews++;
    this.log.error('split view: a node signed two checkpoints that cannot both be true', {
      code: 'ERR_SPLIT_VIEW',
      evidence: evidenceJson(alert.evidence),
    });
  }

  /** Bounded by construction: one record per ban, per split view, per equivocating author. */
  private audit(record: NetAuditRecord): void {
    const detail: Record<string, unknown> =
      record.kind === 'peer-banned'
        ? {
            peer: record.peer,
            until_ms: record.untilMs,
            score: record.score,
            offences: record.offences,
          }
        : record.kind === 'split-view' || record.kind === 'log-restart'
          ? record.evidence
          : { event: record.id, from: record.from };
    if (record.kind === 'peer-banned')
      this.log.warn('peer banned', { peer: record.peer, score: record.score });
    if (record.kind === 'author-equivocation')
      this.log.warn('an author signed two events with one nonce; both kept', { event: record.id });
    try {
      this.node.recordNetworkEvent(record.kind, detail);
    } catch (error) {
      this.log.error('could not write a network audit record', {
        kind: record.kind,
        error: String(error),
      });
    }
  }

  private connectedPeer(peer: string, address: string): void {
    const k = this.known.get(peer) ?? { address: null, lastClose: null };
    k.address = address;
    this.known.set(peer, k);
    this.log.info('peer connected', { peer, address });
  }

  private closedPeer(peer: string, code: string, detail: string): void {
    const k = this.known.get(peer) ?? { address: null, lastClose: null };
    k.lastClose = { code, detail, at: this.node.now() };
    this.known.set(peer, k);
    this.log.info('peer disconnected', { peer, code, detail });
  }

  private async renew(validityMs: number): Promise<void> {
    if (this.closed) return;
    try {
      this.host.renewCertificate(
        await createNodeCertificate(this.node.identity, { nowMs: this.node.now(), validityMs }),
      );
      this.log.info('sync certificate renewed');
    } catch (error) {
      // an HSM briefly away: the current certificate is valid for half its life still
      this.log.warn('could not renew the sync certificate', { error: String(error) });
    }
  }

  /** The peer that first delivered a stored event (for tests and `peers`). */
  sourceOf(id: Uint8Array): string | undefined {
    return this.node.eventSource(id) ?? this.engine.sourceOf(id);
  }

  /** Hex of every id in the sync set, sorted (tests compare nodes with it). */
  syncSetHex(): string[] {
    return [...this.index.entries()].map((e) => e.key).sort();
  }
}
