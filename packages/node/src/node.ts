/**
 * A Commons Sync validator node: identity, storage, audit log, validation pipeline and worker
 * pool put together behind the {@link NodeService} contract that the HTTP API serves.
 *
 * Data directory layout: the node identity (`node.key`, an encrypted key file, or
 * `node.keystore`, a record of where the key is: see `keys/node-identity.ts`) and the SQLite
 * database of `storage/` (events, replay records, audit log, checkpoints). The node signs its
 * checkpoints through the keystore contract, so its key may live in a vault, an HSM or a KMS.
 */
import { mkdirSync } from 'node:fs';

import { type Core, loadCore } from '@commons-sync/bindings';
import { encodeAuditEntry } from './audit/entry.js';
import { AUDIT_RULES, type AuditVerification, type Checkpoint } from './audit/index.js';
import {
  BadRangeError,
  ConfigError,
  CorruptEventError,
  InvalidatedEventError,
  NoDataDirError,
  OverloadedError,
  ShuttingDownError,
} from './errors.js';
import { fixedSecrets, type Keystore, type SecretSource, type Signer } from './keys/keystore.js';
import {
  createNodeIdentity,
  NODE_KEY_FILE,
  openNodeSigner,
  readNodeIdentity,
} from './keys/node-identity.js';
import { type KeystoreSpec, parseKeystoreSpec } from './keys/spec.js';
import { NodeGovernance } from './node-governance.js';
import { NodeIdentities } from './node-identities.js';
import { finishNodeKeyRotation } from './node-key-rotation.js';
import { IdentityStage, type IdentityStageOptions } from './pipeline/identity-stage.js';
import { Pipeline } from './pipeline/pipeline.js';
import { TrustStage, type TrustStageBounds } from './pipeline/trust-stage.js';
import { VerifyPool } from './pipeline/verify-pool.js';
import {
  batchSize,
  DEFAULT_TIME_RULES,
  decodeEvent,
  type EventTextBatch,
  eventToJson,
  looksLikeDidCs,
  OPEN_TRUST,
  parseDidCs,
  parseDidKey,
  type TimeRules,
  type TrustPolicy,
  toHex,
} from './protocol/index.js';
import type {
  AuditProofJson,
  AuditProofPending,
  CheckpointJson,
  ConsistencyProofJson,
  GovernanceResult,
  HealthJson,
  IngestResult,
  KeyEventResult,
  NodeService,
  PeerEventItem,
  PeerIngestResult,
  SyncService,
} from './service.js';
import {
  type CheckpointerOptions,
  CheckpointOutdatedError,
  type DataSync,
  Store,
  type SyncRow,
  verifyAuditData,
} from './storage/index.js';
import type { TailCheckReport } from './storage/tail-check.js';

export const KEY_FILE = NODE_KEY_FILE;

/** Signings of one checkpoint before giving up until the next trigger (the log kept moving). */
const CHECKPOINT_ATTEMPTS = 5;

export interface NodeOptions {
  readonly dataDir: string;
  /** The passphrase of a vault identity (or give `secrets`). */
  readonly passphrase?: string;
  /** The PIN of a PKCS#11 identity (or give `secrets`). */
  readonly pin?: string;
  /** Asked for a passphrase or PIN when the identity's keystore needs one. */
  readonly secrets?: SecretSource;
  /** The identity's keystore when not the one recorded in the data directory (same key). */
  readonly keystore?: KeystoreSpec | string;
  /** DIDs (did:key or did:cs) whose events are accepted, or 'open' for any author (the default). */
  readonly trusted?: readonly string[] | 'open';
  /** Verification threads (default `defaultWorkerThreads`: the core count less one, the core count on 1-2 cores; 0 verifies on the main thread). */
  readonly workers?: number;
  /** A checkpoint is signed once the log grew by this many entries (default 10,000)... */
  readonly checkpointEvery?: number;
  /**
   * ...or this long after the last one, if anything was logged since (default 10 s; at least
   * 1 s). A proof request for an entry no checkpoint covers yet may make one sooner, but never
   * within a second of the last.
   */
  readonly checkpointIntervalMs?: number;
  /** Events being validated at once before new requests are refused (default 50,000). */
  readonly maxPendingEvents?: number;
  readonly timeRules?: TimeRules;
  /** How many of the newest events the start-up check holds against their replay records (default 10,000). */
  readonly startupCheckEvents?: number;
  /** Unix milliseconds (default `Date.now`); tests move time. */
  readonly now?: () => number;
  /**
   * How the store syncs its WAL after a commit (default fs.fdatasync): tests make it fail or
   * hold it (storage/wal-sync.ts).
   */
  readonly storeSync?: DataSync;
  /**
   * The WAL's checkpoint thread (storage/checkpointer.ts): on by default; its thresholds (tests
   * make them small), or false for SQLite's automatic checkpoint on the main thread alone.
   */
  readonly walCheckpoint?: CheckpointerOptions | false;
  /**
   * How many staged identity events a commit folds into runs (storage/identity-tables.ts;
   * default 16,384): tests make it small to store runs.
   */
  readonly identityFoldAt?: number;
  /** The crypto core (default: `loadCore()`); the verify workers load the same backend. */
  readonly core?: Core;
  /** Local bounds of events held back by the identity verdict, and the re-evaluation page. */
  readonly identityBounds?: IdentityStageOptions['bounds'];
  /**
   * The JSON text of the trust root this node is governed by (spec/GOVERNANCE.md; `start --root
   * FILE`). Its trust policy replaces `trusted`, which must then be absent. Without it the node
   * runs in open mode (or with the `trusted` allow-list) and says so.
   */
  readonly trustRoot?: Uint8Array;
  /** Governance records taken per second (default 100). */
  readonly governanceRate?: number;
  /** Local bounds of events held back by the trust policy, and the re-evaluation page. */
  readonly trustBounds?: Partial<TrustStageBounds>;
}

function checkpointJson(cp: Checkpoint, did: string): CheckpointJson {
  const common = { tree_size: cp.treeSize, root: toHex(cp.root), time: cp.time, node: did };
  if (cp.version !== 2)
    return { version: 1, seq: cp.seq, ...common, signature: toHex(cp.signature) };
  return {
    version: 2,
    seq: cp.seq,
    ...common,
    prev: toHex(cp.prev as Uint8Array),
    signature: toHex(cp.signature),
  };
}

function trustPolicy(trusted: NodeOptions['trusted']): TrustPolicy {
  if (trusted === undefined || trusted === 'open') return OPEN_TRUST;
  for (const did of trusted) {
    const parsed = looksLikeDidCs(did) ? parseDidCs(did) : parseDidKey(did);
    if (!parsed.ok)
      throw new ConfigError('ERR_BAD_TRUSTED_DID', `trusted author ${did}: ${parsed.detail}`);
  }
  return { mode: 'allowlist', authors: new Set(trusted) };
}

function asSpec(spec: KeystoreSpec | string | undefined): KeystoreSpec | undefined {
  return typeof spec === 'string' ? parseKeystoreSpec(spec) : spec;
}

function secretsOf(secrets: SecretSource | string | undefined, pin?: string): SecretSource {
  if (typeof secrets === 'object') return secrets;
  return fixedSecrets({
    ...(secrets === undefined ? {} : { passphrase: secrets }),
    ...(pin === undefined ? {} : { pin }),
  });
}

export interface InitOptions {
  readonly core?: Core;
  /** Where to make (or find) the identity key; default `node.key` in the directory. */
  readonly keystore?: KeystoreSpec | string;
  /** scrypt cost of a new vault key file (tests lower it). */
  readonly scryptN?: number;
}

/**
 * Creates a data directory with a node identity; does nothing if one is there already.
 * `secrets` is the passphrase of a new vault key, or a source of passphrases and PINs.
 */
export async function initDataDir(
  dir: string,
  secrets: string | SecretSource,
  opts: Core | InitOptions = {},
): Promise<{ did: string; created: boolean }> {
  const o: InitOptions = 'backend' in opts ? { core: opts } : opts;
  const c = o.core ?? (await loadCore());
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { identity, created } = await createNodeIdentity(dir, asSpec(o.keystore), {
    core: c,
    secrets: secretsOf(secrets),
    ...(o.scryptN === undefined ? {} : { scryptN: o.scryptN }),
  });
  Store.open(dir, c).close(); // creates and migrates the database
  return { did: identity.did, created };
}

/** Checks a data directory's audit log, events and checkpoints (see `audit/verify.ts`). */
export async function verifyAudit(dir: string, core?: Core): Promise<AuditVerification> {
  const c = core ?? (await loadCore());
  if ((await readNodeIdentity(dir)) === undefined) {
    throw new NoDataDirError(`${dir} is not a Commons Sync data directory (no ${KEY_FILE})`);
  }
  await finishNodeKeyRotation(dir, c); // the key a crashed rotation handed over, if any
  const identity = (await readNodeIdentity(dir)) as NonNullable<
    Awaited<ReturnType<typeof readNodeIdentity>>
  >;
  return verifyAuditData(dir, c, {
    publicKey: identity.publicKey,
    protocol: { now: Math.floor(Date.now() / 1000) },
  });
}

/**
 * When each event stored in a data directory was committed there (Unix ms), by id in hex: the
 * demo and the network bench compare these between nodes for propagation latency. Open it
 * while no node runs on the directory.
 */
export async function readEventReceipts(dir: string, core?: Core): Promise<Map<string, number>> {
  const store = Store.open(dir, core ?? (await loadCore()));
  try {
    return new Map(store.receipts());
  } finally {
    store.close();
  }
}

/** Opens a data directory (initialized by {@link initDataDir}) and starts the node. */
export async function openNode(opts: NodeOptions): Promise<CommonsNode> {
  if (opts.trustRoot !== undefined && opts.trusted !== undefined && opts.trusted !== 'open')
    throw new ConfigError(
      'ERR_TRUST_CONFLICT',
      'a node governed by a trust root takes its trust policy from it: give no trusted list',
    );
  const trust = trustPolicy(opts.trusted);
  const core = opts.core ?? (await loadCore());
  await finishNodeKeyRotation(opts.dataDir, core); // a rotation a crash interrupted
  const { keystore, signer } = await openNodeSigner(opts.dataDir, asSpec(opts.keystore), {
    core,
    secrets: secretsOf(opts.secrets ?? opts.passphrase, opts.pin),
  });
  const now = opts.now ?? Date.now;
  let store: Store | undefined;
  try {
    store = Store.open(opts.dataDir, core, {
      now,
      ...(opts.storeSync === undefined ? {} : { dataSync: opts.storeSync }),
      ...(opts.walCheckpoint === false ? {} : { backgroundCheckpoint: opts.walCheckpoint ?? {} }),
      ...(opts.identityFoldAt === undefined ? {} : { identityFoldAt: opts.identityFoldAt }),
    });
    // Derived state at the end of the log, before any event is taken (storage/tail-check.ts).
    const report = store.checkTail({
      now: Math.floor(now() / 1000),
      skewSeconds: (opts.timeRules ?? DEFAULT_TIME_RULES).clockSkewSeconds,
      ...(opts.startupCheckEvents === undefined ? {} : { events: opts.startupCheckEvents }),
    });
    // The key event logs, rebuilt from the store; unexpired events of identities judged again.
    const identity = new IdentityStage({
      core,
      store,
      now,
      ...(opts.identityBounds === undefined ? {} : { bounds: opts.identityBounds }),
    });
    const skewSeconds = (opts.timeRules ?? DEFAULT_TIME_RULES).clockSkewSeconds;
    // The trust root and what the store holds of governance; refuses to start on a bad root.
    let trustStage: TrustStage | undefined;
    const governance = new NodeGovernance({
      core,
      store,
      anchor: opts.trustRoot,
      lookup: (did) => identity.state(did),
      now,
      skewSeconds,
      ...(opts.governanceRate === undefined ? {} : { maxRecordsPerSecond: opts.governanceRate }),
      // stored and held events judged again when governance changed
      onChange: (cause) => trustStage?.reevaluate(cause),
    });
    if (governance.mode === 'governed')
      trustStage = new TrustStage({
        store,
        governed: governance,
        identity,
        now,
        ...(opts.trustBounds === undefined ? {} : { bounds: opts.trustBounds }),
      });
    const pool = await VerifyPool.create({
      ...(opts.workers === undefined ? {} : { threads: opts.workers }),
      backend: core.backend, // the workers use the node's crypto backend
    });
    const node = new CommonsNode(
      core,
      signer,
      keystore,
      store,
      pool,
      trust,
      opts,
      now,
      report,
      identity,
      governance,
      trustStage,
    );
    // A checkpoint covering the log as it was opened, before the node serves.
    try {
      await node.opened;
    } catch (error) {
      await pool.close();
      throw error;
    }
    return node;
  } catch (error) {
    await store?.stopCheckpointer().catch(() => undefined);
    store?.close();
    await keystore.close();
    throw error;
  }
}

export class CommonsNode implements NodeService, SyncService {
  readonly did: string;
  readonly identities: NodeIdentities;
  /** Whose events are accepted: anyone, an allow-list, or a trust root's policy. */
  readonly trustMode: 'open' | 'allowlist' | 'governed';
  readonly trust: TrustPolicy;
  readonly timeRules: TimeRules;
  private readonly acceptedListeners = new Set<(encoded: readonly Uint8Array[]) => void>();
  private readonly withdrawnListeners = new Set<(ids: readonly Uint8Array[]) => void>();
  /**
   * Ids withdrawn while commits made before the withdrawal may still wait for their sync: a
   * client's events are announced only once their commit is synced, so an event that a key
   * event invalidated meanwhile must not be announced then (it would rejoin the sync set).
   */
  private readonly withdrawnBeforeSync = new Set<string>();
  private readonly checkpointListeners = new Set<(checkpoint: Checkpoint) => void>();
  private readonly pipeline: Pipeline;
  private readonly started = Date.now();
  private readonly checkpointEvery: number;
  private readonly maxPending: number;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private pending = 0;
  private closing = false;
  /** Size of the log right after the last checkpoint (with its own entry, for version 2), and when it was signed. */
  private coveredSize: number;
  private lastCheckpointAt = 0;
  private readonly counts = { accepted: 0, duplicate: 0, rejected: 0, conflict: 0, overloaded: 0 };
  private storeClosed = false;
  /** The checkpoint being signed, if any: checkpoints are made one at a time, in order. */
  private signing: Promise<Checkpoint> | undefined;
  private readonly reasons = new Map<string, number>();
  /** @internal The checkpoint made when the node opened (awaited by `openNode`). */
  readonly opened: Promise<void>;

  constructor(
    /** The crypto core the node validates with (its network part uses the same). */
    readonly core: Core,
    private readonly key: Signer,
    private readonly keystore: Keystore,
    private readonly store: Store,
    private readonly pool: VerifyPool,
    trust: TrustPolicy,
    opts: NodeOptions,
    /** The node's clock, Unix milliseconds. */
    readonly now: () => number,
    /** What the start-up check covered and repaired. */
    readonly startupCheck: TailCheckReport,
    private readonly identityStage: IdentityStage,
    readonly governance: NodeGovernance,
    private readonly trustStage: TrustStage | undefined,
  ) {
    this.did = key.did;
    this.trust = trust;
    this.timeRules = opts.timeRules ?? DEFAULT_TIME_RULES;
    this.trustMode = governance.mode === 'governed' ? 'governed' : trust.mode;
    this.pipeline = new Pipeline({
      store,
      pool,
      trust,
      timeRules: this.timeRules,
      now,
      identity: identityStage,
      ...(trustStage === undefined ? {} : { governed: trustStage }),
      onCommitted: (events, sources) => {
        if (sources !== undefined) return; // peers' events: the sync engine has their verdicts
        const live =
          this.withdrawnBeforeSync.size === 0
            ? events
            : events.filter((e) => !this.withdrawnBeforeSync.has(e.idHex));
        this.announce(live.map((e) => e.encoded));
      },
    });
    // Governance records travel like key events (spec/SYNC.md §6.6): copies that joined the
    // stored set are announced, copies that left it leave the sync set.
    governance.onJoined = (encoded) => this.announce(encoded);
    governance.onLeft = (ids) => this.withdraw(ids);
    // Held events a key event made valid join the sync set without a verdict of the engine's.
    identityStage.onAccepted = (encoded) => this.announce(encoded);
    // Events a key event invalidated leave the sync set; those valid again come back.
    identityStage.onTurned = ({ invalidated, revalidated }) => {
      this.withdraw(invalidated);
      this.announce(revalidated);
    };
    if (trustStage !== undefined) {
      // the same for events a governance record made trusted, or no longer trusted
      trustStage.onAccepted = (encoded) => this.announce(encoded);
      trustStage.onTurned = ({ invalidated, revalidated }) => {
        this.withdraw(invalidated);
        this.announce(revalidated);
      };
    }
    this.identities = new NodeIdentities({
      core,
      store,
      stage: identityStage,
      now,
      skewSeconds: (opts.timeRules ?? DEFAULT_TIME_RULES).clockSkewSeconds,
      admit: (count, work) => this.admit(count, work),
      // verdicts on did:cs members and issuers may turn when key events join
      afterKeyEvents: () => governance.refresh(),
      // key events that joined, from anyone: the engine carries them (spec/SYNC.md §6.5)
      onAttached: (encoded) => this.announce(encoded),
    });
    this.checkpointEvery = opts.checkpointEvery ?? 10_000;
    this.maxPending = opts.maxPendingEvents ?? 50_000;
    const latest = store.audit.latestCheckpoint();
    this.coveredSize = latest === undefined ? -1 : latest.treeSize + (latest.version === 2 ? 1 : 0);
    this.opened = this.maybeCheckpoint(1);
    const interval = Math.max(
      opts.checkpointIntervalMs ?? 10_000,
      AUDIT_RULES.checkpointMinIntervalMs,
    );
    // A failed timed checkpoint (an HSM briefly away) is retried at the next tick.
    this.timers.push(
      setInterval(() => void this.maybeCheckpoint(1).catch(() => undefined), interval).unref(),
    );
    // Rejections counted for the audit log are written as a summary once one is due.
    this.timers.push(
      setInterval(() => this.flushSummary(), AUDIT_RULES.summaryIntervalMs / 4).unref(),
    );
    // Replay records outlive their event's expiry by the clock-skew allowance, then go.
    const skew = (opts.timeRules ?? DEFAULT_TIME_RULES).clockSkewSeconds;
    const prune = () => {
      this.store.pruneReplay(Math.floor(this.now() / 1000) - skew);
      this.identityStage.pruneHeld(Math.floor(this.now() / 1000));
      this.trustStage?.pruneHeld(Math.floor(this.now() / 1000));
    };
    this.timers.push(setInterval(prune, 60_000).unref());
  }

  ingest(batch: EventTextBatch): Promise<IngestResult[]> {
    return this.admit(batchSize(batch), () => this.counted(this.pipeline.process(batch)));
  }

  /** Events from peers (canonical CBOR, exactly as received): see {@link SyncService}. */
  ingestFromPeers(items: readonly PeerEventItem[]): Promise<PeerIngestResult[]> {
    let total = 0;
    for (const item of items) total += item.event.length;
    const bytes = new Uint8Array(total);
    const spans = new Uint32Array(2 * items.length);
    let at = 0;
    items.forEach((item, i) => {
      bytes.set(item.event, at);
      spans[2 * i] = at;
      at += item.event.length;
      spans[2 * i + 1] = at;
    });
    return this.admit(items.length, () =>
      this.counted(
        this.pipeline.processFromPeers(
          { bytes, spans },
          items.map((i) => i.peer),
        ),
      ),
    );
  }

  /** Key events from peers (canonical CBOR, exactly as received): see {@link SyncService}. */
  ingestKeyEventsFromPeers(items: readonly Uint8Array[]): Promise<KeyEventResult[]> {
    return this.identities.ingestKeyEventsCbor(items);
  }

  async ingestGovernanceFromPeers(items: readonly Uint8Array[]): Promise<GovernanceResult[]> {
    if (this.closing) throw new ShuttingDownError('the node is shutting down');
    const results: GovernanceResult[] = [];
    // one at a time, in the commit block's order: each verdict reads what the last one stored
    for (const bytes of items) results.push(await this.governance.submitFromPeer(bytes));
    return results;
  }

  /** Tells the listeners (the network) what joined the sync set without a peer's verdict. */
  private announce(encoded: readonly Uint8Array[]): void {
    if (encoded.length === 0) return;
    for (const listener of this.acceptedListeners) listener(encoded);
  }

  /**
   * Items that left the stored valid set. The pipeline announces a commit's events after its
   * sync, in a callback registered then; the ids are kept until every commit made so far is
   * synced (a callback registered now runs after those), so none of them announces an id
   * withdrawn meanwhile. Later commits cannot accept these ids again: they are stored.
   */
  private withdraw(ids: readonly Uint8Array[]): void {
    if (ids.length === 0) return;
    for (const listener of this.withdrawnListeners) listener(ids);
    const hex = ids.map((id) => toHex(id));
    for (const h of hex) this.withdrawnBeforeSync.add(h);
    const forget = (): void => {
      for (const h of hex) this.withdrawnBeforeSync.delete(h);
    };
    this.store.synced().then(forget, forget);
  }

  /** Counts the verdicts of a batch for /metrics. */
  private async counted<R extends PeerIngestResult>(work: Promise<R[]>): Promise<R[]> {
    const results = await work;
    for (const r of results) {
      this.counts[r.status] += 1;
      if (r.status === 'rejected')
        this.reasons.set(r.reason, (this.reasons.get(r.reason) ?? 0) + 1);
    }
    return results;
  }

  /**
   * Runs `work` (for `count` events or key events) as the node's: refused while stopping or
   * saturated, awaited at close, followed by a checkpoint once the log grew enough.
   */
  private async admit<T>(count: number, run: () => Promise<T>): Promise<T> {
    if (this.closing) throw new ShuttingDownError('the node is shutting down');
    if (this.pending > 0 && this.pending + count > this.maxPending) {
      this.counts.overloaded += 1;
      throw new OverloadedError(`${this.pending} events are being validated; retry later`);
    }
    this.pending += count;
    const work = run();
    this.inFlight.add(work);
    try {
      const results = await work;
      await this.maybeCheckpoint(this.checkpointEvery);
      return results;
    } finally {
      this.pending -= count;
      this.inFlight.delete(work);
    }
  }

  // -------------------------------------------------------------------------------------------
  // What the network part needs (SyncService, spec/SYNC.md §12)

  get identity(): SyncService['identity'] {
    return this.key;
  }

  *syncRows(nowSeconds: number): Iterable<SyncRow> {
    yield* this.store.syncRows(nowSeconds);
    // key events never expire (spec/IDENTITY.md §3): they stay in the sync set
    for (const k of this.store.identity.keyEventItems())
      yield {
        id: k.id,
        createdAt: k.createdAt,
        expiresAt: Number.MAX_SAFE_INTEGER,
        conflict: false,
      };
    // nor do governance records (spec/SYNC.md §6.6)
    for (const g of this.governance.syncItems())
      yield {
        id: g.id,
        createdAt: g.createdAt,
        expiresAt: Number.MAX_SAFE_INTEGER,
        conflict: false,
      };
  }

  storedEvent(id: Uint8Array): Uint8Array | undefined {
    return (
      this.store.encodedEvent(id) ??
      this.store.identity.encodedKeyEvent(id) ??
      this.governance.encodedItem(id)
    );
  }

  eventSource(id: Uint8Array): string | undefined {
    return this.store.eventSource(id);
  }

  latestCheckpoint(): Checkpoint | undefined {
    return this.store.audit.latestCheckpoint();
  }

  consistencyHashes(from: number, to: number): Uint8Array[] | null {
    const size = this.store.audit.size;
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) return null;
    if (from < 0 || from > to || to > size) return null;
    return this.store.audit.consistencyProof(from, to);
  }

  recordNetworkEvent(reason: string, detail: Readonly<Record<string, unknown>>): void {
    if (this.storeClosed) return; // a late report from a closing network
    this.store.commit([], [{ type: 'critical', reason, detail }]);
  }

  onLocallyAccepted(listener: (encoded: readonly Uint8Array[]) => void): () => void {
    this.acceptedListeners.add(listener);
    return () => this.acceptedListeners.delete(listener);
  }

  onLocallyWithdrawn(listener: (ids: readonly Uint8Array[]) => void): () => void {
    this.withdrawnListeners.add(listener);
    return () => this.withdrawnListeners.delete(listener);
  }

  onCheckpoint(listener: (checkpoint: Checkpoint) => void): () => void {
    this.checkpointListeners.add(listener);
    return () => this.checkpointListeners.delete(listener);
  }

  settled(): Promise<void> {
    return this.store.synced();
  }

  getEvent(idHex: string): unknown {
    const stored = this.store.getEvent(idHex.toLowerCase());
    if (stored === undefined) return undefined;
    const standing = this.store.identity.standing(stored.id);
    if (standing?.invalidReason != null) {
      throw new InvalidatedEventError(
        `event ${stored.idHex} was invalidated (${standing.invalidReason}) by key event ${standing.invalidBy}`,
        standing.invalidReason,
        standing.invalidBy,
      );
    }
    const trust =
      this.trustStage === undefined ? undefined : this.store.governance.standing(stored.seq);
    if (trust?.invalidReason != null) {
      throw new InvalidatedEventError(
        `event ${stored.idHex} is no longer trusted (${trust.invalidReason}) since governance record ${trust.invalidBy}`,
        trust.invalidReason,
        trust.invalidBy ?? '',
      );
    }
    const decoded = decodeEvent(stored.encoded);
    if (!decoded.ok) throw new CorruptEventError(`stored event ${idHex}: ${decoded.detail}`);
    return eventToJson(decoded.value.event);
  }

  /** The latest checkpoint; checkpoints are signed on a schedule, never for a request. */
  async checkpoint(): Promise<CheckpointJson> {
    const latest = this.store.audit.latestCheckpoint() ?? (await this.signCheckpoint());
    return checkpointJson(latest, this.did);
  }

  async auditProof(idHex: string): Promise<AuditProofJson | AuditProofPending | undefined> {
    const id = idHex.toLowerCase();
    const seq = this.store.acceptEntrySeq(id);
    if (seq === undefined) return undefined;
    let cp = this.store.audit.latestCheckpoint();
    if (cp === undefined || cp.treeSize <= seq) {
      // One checkpoint sooner than scheduled is fine, but not more often than the minimum interval.
      const wait = this.lastCheckpointAt + AUDIT_RULES.checkpointMinIntervalMs - Date.now();
      if (wait > 0 && cp !== undefined) {
        return {
          pending: true,
          event_id: id,
          leaf_index: seq,
          retry_after_ms: wait,
          checkpoint: checkpointJson(cp, this.did),
        };
      }
      cp = await this.signCheckpoint();
    }
    const entry = this.store.audit.entry(seq);
    if (entry === undefined) return undefined;
    return {
      event_id: id,
      leaf_index: seq,
      tree_size: cp.treeSize,
      leaf: toHex(encodeAuditEntry(entry)),
      leaf_hash: toHex(entry.leafHash),
      path: this.store.audit.inclusionProof(seq, cp.treeSize).map(toHex),
      checkpoint: checkpointJson(cp, this.did),
    };
  }

  consistencyProof(from: number, to: number): ConsistencyProofJson {
    const size = this.store.audit.size;
    if (
      !Number.isSafeInteger(from) ||
      !Number.isSafeInteger(to) ||
      from < 0 ||
      from > to ||
      to > size
    ) {
      throw new BadRangeError(
        `a consistency proof needs 0 ≤ from ≤ to ≤ ${size}, got from=${from} to=${to}`,
      );
    }
    return { from, to, proof: this.store.audit.consistencyProof(from, to).map(toHex) };
  }

  health(): HealthJson {
    return {
      status: this.closing ? 'degraded' : 'ok',
      did: this.did,
      events: this.store.countEvents(),
      audit_size: this.store.audit.size,
      uptime_s: Math.round((Date.now() - this.started) / 1000),
      backend: this.core.backend,
      trust: {
        mode: this.trustMode,
        ...(this.governance.rootId === undefined
          ? {}
          : {
              root: this.governance.rootId,
              alerts: this.governance.alerts(Math.floor(this.now() / 1000)),
            }),
      },
    };
  }

  metrics(): string {
    const t = this.pipeline.times;
    const lines = [
      '# HELP commons_sync_events_total Events processed, by outcome (conflict: from a peer, kept as evidence of an equivocating author).',
      '# TYPE commons_sync_events_total counter',
      ...(['accepted', 'duplicate', 'rejected', 'conflict'] as const).map(
        (s) => `commons_sync_events_total{outcome="${s}"} ${this.counts[s]}`,
      ),
      '# HELP commons_sync_rejections_total Rejected events, by reason code.',
      '# TYPE commons_sync_rejections_total counter',
      ...[...this.reasons].map(
        ([reason, n]) => `commons_sync_rejections_total{reason="${reason}"} ${n}`,
      ),
      '# HELP commons_sync_overloaded_total Ingest calls refused because the node was saturated.',
      '# TYPE commons_sync_overloaded_total counter',
      `commons_sync_overloaded_total ${this.counts.overloaded}`,
      '# HELP commons_sync_stage_seconds_total Time spent in each pipeline stage.',
      '# TYPE commons_sync_stage_seconds_total counter',
      ...(
        [
          ['parse', t.parse],
          ['verify', t.verify],
          ['prepare_wall', t.prepareWall],
          ['commit', t.commit],
        ] as const
      ).map(
        ([stage, ms]) =>
          `commons_sync_stage_seconds_total{stage="${stage}"} ${(ms / 1000).toFixed(6)}`,
      ),
      '# HELP commons_sync_batches_total Batches through the pipeline.',
      '# TYPE commons_sync_batches_total counter',
      `commons_sync_batches_total ${t.batches}`,
      '# HELP commons_sync_stored_events Events in the store.',
      '# TYPE commons_sync_stored_events gauge',
      `commons_sync_stored_events ${this.store.countEvents()}`,
      '# HELP commons_sync_audit_entries Entries in the audit log.',
      '# TYPE commons_sync_audit_entries gauge',
      `commons_sync_audit_entries ${this.store.audit.size}`,
      '# HELP commons_sync_audit_summarized_total Rejections counted into audit summary entries instead of logged one by one, by reason.',
      '# TYPE commons_sync_audit_summarized_total counter',
      ...[...this.store.audit.summarized].map(
        ([reason, n]) => `commons_sync_audit_summarized_total{reason="${reason}"} ${n}`,
      ),
      '# HELP commons_sync_pending_events Events being validated now.',
      '# TYPE commons_sync_pending_events gauge',
      `commons_sync_pending_events ${this.pending}`,
      '# HELP commons_sync_identity_held_events Events by identities held back by the identity verdict.',
      '# TYPE commons_sync_identity_held_events gauge',
      `commons_sync_identity_held_events ${this.identityStage.heldCount}`,
      '# HELP commons_sync_key_events Key events attached to the logs of identities.',
      '# TYPE commons_sync_key_events gauge',
      `commons_sync_key_events ${this.store.identity.keyEventCount}`,
      '# HELP commons_sync_trust_mode Whose events the node accepts (1 for the mode in use).',
      '# TYPE commons_sync_trust_mode gauge',
      ...(['open', 'allowlist', 'governed'] as const).map(
        (m) => `commons_sync_trust_mode{mode="${m}"} ${this.trustMode === m ? 1 : 0}`,
      ),
      '# HELP commons_sync_governance_alert Governance alerts: the chain forked, the root in force expired.',
      '# TYPE commons_sync_governance_alert gauge',
      ...(['forked', 'expired'] as const).map(
        (a) =>
          `commons_sync_governance_alert{alert="${a}"} ${this.governance.alerts(Math.floor(this.now() / 1000)).includes(a) ? 1 : 0}`,
      ),
      '# HELP commons_sync_governance_records Governance records held (roots, actions, attestations, revocations).',
      '# TYPE commons_sync_governance_records gauge',
      `commons_sync_governance_records ${this.governance.heldCount}`,
      '# HELP commons_sync_trust_held_events Events held back by the trust policy of the trust root.',
      '# TYPE commons_sync_trust_held_events gauge',
      `commons_sync_trust_held_events ${this.trustStage?.heldCount ?? 0}`,
      '# HELP commons_sync_trust_invalidated_events Stored events the trust policy no longer trusts.',
      '# TYPE commons_sync_trust_invalidated_events gauge',
      `commons_sync_trust_invalidated_events ${this.trustStage === undefined ? 0 : this.store.governance.invalidCount}`,
      '# HELP commons_sync_governance_rate_refused_total Governance records refused for the per-second rate.',
      '# TYPE commons_sync_governance_rate_refused_total counter',
      `commons_sync_governance_rate_refused_total ${this.governance.rateRefused}`,
      '# HELP commons_sync_pool_queue Verification tasks waiting for a worker.',
      '# TYPE commons_sync_pool_queue gauge',
      `commons_sync_pool_queue ${this.pool.queued}`,
    ];
    return `${lines.join('\n')}\n`;
  }

  /** Stage timings of the pipeline (for the ingest benchmark). */
  get stageTimes(): Readonly<Pipeline['times']> {
    return this.pipeline.times;
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
    await Promise.allSettled([...this.inFlight]);
    this.identityStage.stop(); // a re-evaluation left unfinished is finished at the next start
    this.trustStage?.stop();
    try {
      await this.signing?.catch(() => undefined);
      // After a failed WAL sync the store writes nothing more: no summary, no checkpoint over
      // entries the disk may have lost (its requests already got the error).
      if (this.store.writeFailure !== undefined) return;
      // Counted rejections are written before closing, once their summary may be.
      const due = this.store.audit.summaryDueAt;
      if (due !== undefined) {
        const wait = due - this.store.audit.stampTime(this.now());
        if (wait > 0)
          await new Promise((r) => setTimeout(r, Math.min(wait, AUDIT_RULES.summaryIntervalMs)));
        this.flushSummary();
      }
      await this.maybeCheckpoint(1);
    } finally {
      await this.pool.close();
      await this.store.stopCheckpointer().catch(() => undefined); // its failure was reported
      this.storeClosed = true;
      this.store.close();
      await this.keystore.close();
    }
  }

  /**
   * Signs a checkpoint of the log as it is when this signing starts, after any signing already
   * under way (whose checkpoint may be older than the log by then).
   */
  private async signCheckpoint(): Promise<Checkpoint> {
    while (this.signing !== undefined) await this.signing.catch(() => undefined);
    const latest = this.store.audit.latestCheckpoint();
    if (
      latest !== undefined &&
      this.store.audit.size <= latest.treeSize + (latest.version === 2 ? 1 : 0)
    )
      return latest;
    const work = this.signAtCurrentSize();
    this.signing = work;
    try {
      const cp = await work;
      this.coveredSize = cp.treeSize + 1;
      this.lastCheckpointAt = Date.now();
      for (const listener of this.checkpointListeners) listener(cp);
      return cp;
    } finally {
      this.signing = undefined;
    }
  }

  /**
   * A checkpoint of the log's current size. Batches may commit while the keystore signs; the
   * checkpoint's entry must then be the next entry (spec/AUDIT.md §5.2), so the store refuses
   * an outdated one and it is signed again at the new size, a few times at most.
   */
  private async signAtCurrentSize(): Promise<Checkpoint> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.store.audit.checkpointAsync(this.key);
      } catch (error) {
        if (!(error instanceof CheckpointOutdatedError) || attempt >= CHECKPOINT_ATTEMPTS)
          throw error;
      }
    }
  }

  /** Signs when the log grew by `growth` entries since the last checkpoint (its own entry aside). */
  private async maybeCheckpoint(growth: number): Promise<void> {
    if (this.store.audit.size - this.coveredSize >= growth) await this.signCheckpoint();
  }

  /** On the timer: a failed write keeps the counts for the next try (the error is not lost: commits report it). */
  private flushSummary(): void {
    try {
      this.store.flushAuditSummary();
    } catch {
      // kept for the next try
    }
  }
}
