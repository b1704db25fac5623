/**
 * The three calls the CLI makes into the node (`src/node.ts`), behind one interface: what the
 * CLI needs of it, and a seam for the CLI tests. The module is imported lazily, so that
 * `--help`, `keygen` or `submit` never load storage or the worker pool, and a node that cannot
 * load (a missing native SQLite build) is a clear error rather than a crash.
 */
import { CommonsSyncError } from '../errors.js';
import type { SecretSource } from '../keys/keystore.js';
import type { Logger } from '../log.js';
import type { NodeService } from '../service.js';

export interface OpenNodeOptions {
  dataDir: string;
  /** Asked for the passphrase or PIN that the identity's keystore needs. */
  secrets: SecretSource;
  /** `--keystore`: where the node key is, when not where `init` recorded it. */
  keystore?: string;
  /** Allowed authors, or 'open' for anyone; absent: the node's default. */
  trusted?: string[] | 'open';
  /** The JSON text of the trust root (`--root FILE`): its policy replaces `trusted`. */
  trustRoot?: Uint8Array;
  workers?: number;
}

/** The network part of `start` (spec/SYNC.md): where to listen, whom to dial and admit. */
export interface NetworkStartOptions {
  readonly host: string;
  readonly port: number;
  readonly peers: readonly { readonly host: string; readonly port: number }[];
  readonly admitted: ReadonlySet<string>;
  readonly log: Logger;
}

/** A node with its network part running. */
export interface RunningNetwork {
  /** The node's service with `peers()` and per-peer metrics; closing it closes both. */
  readonly service: NodeService;
  /** host:port of the sync listener. */
  readonly listen: string;
}

/** Where the audit log first goes wrong: a description, or the row that node.ts reports. */
export type AuditBadEntry =
  | string
  | { readonly table: string; readonly row: number | string; readonly what: string };

export type AuditVerdict =
  | {
      readonly ok: true;
      readonly entries: number;
      readonly checkpoints: number;
      readonly events: number;
    }
  | { readonly ok: false; readonly firstBad: AuditBadEntry };

/** What the node's start-up check covered and repaired (storage/tail-check.ts). */
export interface StartupCheck {
  readonly eventsChecked: number;
  readonly replayRestored: number;
  readonly reindexed: boolean;
  readonly checkpointsChecked: number;
  readonly eventsLeft: number;
}

export interface NodeOps {
  initDataDir(
    dir: string,
    secrets: SecretSource,
    keystore?: string,
  ): Promise<{ did: string; created: boolean }>;
  openNode(
    opts: OpenNodeOptions,
  ): Promise<NodeService & { readonly startupCheck?: StartupCheck; readonly trustMode?: string }>;
  verifyAudit(dir: string): Promise<AuditVerdict>;
  /** Starts the network part of a node that `openNode` opened (absent in tests of the CLI alone). */
  startNetwork?(node: NodeService, opts: NetworkStartOptions): Promise<RunningNetwork>;
}

let loaded: Promise<NodeOps> | undefined;

/** The node's calls, loaded on first use; ERR_NODE_UNAVAILABLE if node.ts (or SQLite) cannot load. */
export function loadNodeOps(): Promise<NodeOps> {
  loaded ??= (async (): Promise<NodeOps> => {
    let mod: typeof import('../node.js');
    try {
      mod = await import('../node.js');
    } catch (cause) {
      throw new CommonsSyncError(
        'ERR_NODE_UNAVAILABLE',
        `the node module could not be loaded: ${(cause as Error).message}`,
        { cause },
      );
    }
    // Typed against node.ts: a change of signature there is a compile error here.
    return {
      initDataDir: (dir, secrets, keystore) =>
        mod.initDataDir(dir, secrets, keystore === undefined ? {} : { keystore }),
      openNode: (opts) => mod.openNode(opts),
      verifyAudit: (dir) => mod.verifyAudit(dir),
      startNetwork: async (node, opts) => {
        if (!(node instanceof mod.CommonsNode))
          throw new CommonsSyncError(
            'ERR_INTERNAL',
            'startNetwork needs a node that openNode opened',
          );
        const { NodeNetwork } = await import('../net/node-network.js');
        const { serviceWithNetwork } = await import('../net/networked-service.js');
        // under a trust root the root's validators in force are admitted, rechecked on change
        const governed = node.governance.mode === 'governed';
        const network = await NodeNetwork.start(node, node.core, {
          ...opts,
          ...(governed ? { admits: (did: string) => node.governance.admitsPeer(did) } : {}),
        });
        if (governed) node.governance.onChanged(() => network.recheckAdmission());
        return { service: serviceWithNetwork(node, network), listen: network.listenAddress };
      },
    };
  })();
  return loaded;
}

/** One line for a person: "audit_entries row 17: hash chain broken". */
export function describeBadEntry(bad: AuditBadEntry): string {
  return typeof bad === 'string' ? bad : `${bad.table} row ${bad.row}: ${bad.what}`;
}
