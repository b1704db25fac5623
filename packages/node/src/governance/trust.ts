/**
 * The trust policy (spec/GOVERNANCE.md §8.3–§8.5): whether an author is trusted for a scope at a
 * signed time, and why — as structured data that the CLI prints (`trust explain`).
 *
 * An author is trusted when it is one of the root's set (members and validators in force), or
 * when at least `min_paths` vertex-disjoint paths of attestations in force lead to it from that
 * set, each of at most `max_depth` attestations, every vertex of a path visited at its distance
 * from the set. The last condition (layered paths) is what makes the count a maximum flow on a
 * layered graph: exact, polynomial and deterministic, where "disjoint paths of bounded length"
 * in general is NP-hard. It only ever refuses paths that wander (never trusts more).
 *
 * Each query examines a bounded number of attestations (§8.4) and its answer is cached until
 * the graph, the identity states or the governance state change, per interval of signed times
 * in which the graph is constant.
 */
import { type GovernedContent, membersInForce, validatorsInForce } from './actions.js';
import { type GovRejection, TrustReason, type TrustReasonCode } from './reasons.js';
import type { TrustPolicy } from './record.js';
import type { AttestationRecord, TrustGraph } from './trust-graph.js';

/** Attestations one query may examine (§8.4). A protocol constant: it decides verdicts. */
export const MAX_QUERY_ATTESTATIONS = 16_384;
/** Attestations about the subject listed by `explain`. */
export const MAX_EXPLAINED_INCOMING = 32;

/** What trust is evaluated against: the root's set, revoked identities, the policy. */
export interface TrustContext {
  readonly mode: 'governed';
  /** Members and validators in force, ascending. */
  readonly roots: readonly string[];
  readonly revoked: ReadonlySet<string>;
  readonly policy: TrustPolicy;
}
/** A node without a trust root trusts every author, and says so. */
export const OPEN_TRUST_CONTEXT = Object.freeze({ mode: 'open' as const });
export type AnyTrustContext = TrustContext | typeof OPEN_TRUST_CONTEXT;

export function trustContextOf(content: GovernedContent): TrustContext {
  const roots = [
    ...new Set([...membersInForce(content), ...validatorsInForce(content)].map((e) => e.id)),
  ].sort();
  return { mode: 'governed', roots, revoked: content.revoked, policy: content.trustPolicy };
}

export interface TrustHop {
  readonly issuer: string;
  readonly subject: string;
  /** The attestation that carries this hop (the lowest id among those in force). */
  readonly attestation: string;
}

export type IncomingStatus =
  | 'used'
  | 'in-force'
  | 'issuer-unreachable'
  | 'expired'
  | 'not-yet-valid'
  | 'revoked'
  | 'out-of-scope'
  | 'issuer-revoked'
  | 'invalid';

export interface TrustExplanation {
  readonly subject: string;
  readonly scope: string;
  readonly at: number;
  readonly mode: 'open' | 'governed';
  readonly trusted: boolean;
  /** `open`, `root`, `paths`, or the code of why not. */
  readonly reason: 'open' | 'root' | 'paths' | TrustReasonCode;
  readonly policy: TrustPolicy | null;
  /** Vertex-disjoint paths found (at most `min_paths`), each from a member of the root's set. */
  readonly paths: ReadonlyArray<readonly TrustHop[]>;
  /** How many more disjoint paths the policy asks for (0 when trusted). */
  readonly missing: number;
  /** Attestations the query examined (bounded by MAX_QUERY_ATTESTATIONS). */
  readonly examined: number;
  /** Attestations about the subject and what each contributed (first MAX_EXPLAINED_INCOMING by id). */
  readonly incoming: ReadonlyArray<{
    readonly attestation: string;
    readonly issuer: string;
    readonly status: IncomingStatus;
    readonly reason?: string;
  }>;
}

export interface TrustVerdict {
  readonly trusted: boolean;
  readonly reason: TrustExplanation['reason'];
}

class LimitReached {}

/**
 * Max flow with unit vertex capacities on a layered graph: up to `want` vertex-disjoint paths from
 * the vertices `0 .. roots − 1` to `sink`, as vertex indexes. `adj[v]` lists v's successors (the
 * sink first when it has an arc to it, then ascending by DID). Each search is a breadth-first search
 * of the residual graph over states 2v (v's in side) and 2v + 1 (its out side); a vertex's in side
 * is reached only by its own root arc or a flow-carrying predecessor, so `into` is enough to go back.
 */
function disjointPaths(
  roots: number,
  adj: readonly (readonly number[])[],
  sink: number,
  want: number,
): number[][] {
  const n = adj.length;
  const used = new Uint8Array(n); // flow on v.in -> v.out (for a root: also on source -> v.in)
  const flowTo = new Int32Array(n).fill(-1); // the successor v's flow goes to
  const into = new Int32Array(n).fill(-1); // the predecessor whose flow enters v
  const prev = new Int32Array(2 * n);
  const queue = new Int32Array(2 * n);
  for (let found = 0; found < want; found++) {
    prev.fill(-2); // -2: not reached; -1: reached from the source
    let head = 0;
    let tail = 0;
    for (let r = 0; r < roots; r++) {
      if (used[r] === 0) {
        prev[2 * r] = -1;
        queue[tail++] = 2 * r;
      }
    }
    let reached = -1;
    while (head < tail && reached < 0) {
      const state = queue[head++] as number;
      const v = state >> 1;
      if ((state & 1) === 0) {
        if (v === sink) {
          reached = state;
          break;
        }
        const from = into[v] as number;
        const to = used[v] === 0 ? 2 * v + 1 : from >= 0 ? 2 * from + 1 : -1; // forward, or cancel the flow in
        if (to >= 0 && prev[to] === -2) {
          prev[to] = state;
          queue[tail++] = to;
        }
      } else {
        for (const w of adj[v] as readonly number[]) {
          if (flowTo[v] === w || prev[2 * w] !== -2) continue;
          prev[2 * w] = state;
          queue[tail++] = 2 * w;
        }
        if (used[v] === 1 && prev[2 * v] === -2) {
          prev[2 * v] = state; // back along v.in -> v.out
          queue[tail++] = 2 * v;
        }
      }
    }
    if (reached < 0) break;
    // Walk back and flip each edge of the path: forward edges gain flow, backward ones lose it.
    for (let k = reached; prev[k] !== -1; k = prev[k] as number) {
      const p = prev[k] as number;
      const pv = p >> 1;
      const kv = k >> 1;
      if ((p & 1) === 0 && (k & 1) === 1 && pv === kv) used[kv] = 1;
      else if ((p & 1) === 1 && (k & 1) === 0 && pv === kv) used[kv] = 0;
      else if ((p & 1) === 1 && (k & 1) === 0) {
        flowTo[pv] = kv;
        into[kv] = pv;
      } else {
        // back along kv -> pv: cancel it (a later edge of the path may already have given kv a new successor)
        if (flowTo[kv] === pv) flowTo[kv] = -1;
        if (into[pv] === kv) into[pv] = -1;
      }
    }
  }
  const paths: number[][] = [];
  for (let r = 0; r < roots; r++) {
    if ((flowTo[r] as number) < 0) continue;
    const path = [r];
    let v = r;
    while (v !== sink && (flowTo[v] as number) >= 0) {
      v = flowTo[v] as number;
      path.push(v);
    }
    if (v === sink) paths.push(path);
  }
  return paths;
}

/** Evaluates and explains trust over a graph, with a cache per graph version and context. */
export class TrustEvaluator {
  private cacheVersion = -1;
  private cacheContext: AnyTrustContext | null = null;
  private readonly cache = new Map<string, TrustExplanation>();

  constructor(private readonly graph: TrustGraph) {}

  /** Whether `subject` is trusted for `scope` at signed time `at` (cached). */
  verdict(context: AnyTrustContext, subject: string, scope: string, at: number): TrustVerdict {
    const e = this.explain(context, subject, scope, at);
    return { trusted: e.trusted, reason: e.reason };
  }

  /** The full answer: the paths, or what is missing (cached). */
  explain(context: AnyTrustContext, subject: string, scope: string, at: number): TrustExplanation {
    if (this.cacheVersion !== this.graph.version || this.cacheContext !== context) {
      this.cache.clear();
      this.cacheVersion = this.graph.version;
      this.cacheContext = context;
    }
    const points = this.graph.changePoints();
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((points[mid] as number) <= at) lo = mid + 1;
      else hi = mid;
    }
    const key = `${lo}|${scope}|${subject}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) return { ...hit, at };
    const fresh = explainTrust(this.graph, context, subject, scope, at);
    if (this.cache.size >= 16_384) this.cache.clear();
    this.cache.set(key, fresh);
    return fresh;
  }
}

/** §8.3: the uncached evaluation. */
export function explainTrust(
  graph: TrustGraph,
  context: AnyTrustContext,
  subject: string,
  scope: string,
  at: number,
): TrustExplanation {
  const base = { subject, scope, at, paths: [] as TrustHop[][], examined: 0 };
  if (context.mode === 'open')
    return {
      ...base,
      mode: 'open',
      trusted: true,
      reason: 'open',
      policy: null,
      missing: 0,
      incoming: [],
    };
  const { policy, revoked } = context;
  const governed = { ...base, mode: 'governed' as const, policy };
  if (revoked.has(subject))
    return {
      ...governed,
      trusted: false,
      reason: TrustReason.REVOKED,
      missing: policy.minPaths,
      incoming: [],
    };
  if (context.roots.includes(subject))
    return { ...governed, trusted: true, reason: 'root', missing: 0, incoming: [] };

  let examined = 0;
  const count = (n: number) => {
    examined += n;
    if (examined > MAX_QUERY_ATTESTATIONS) throw new LimitReached();
  };
  // The edge u -> v in force: the lowest-id attestation that carries it.
  const edges = (issuer: string): Map<string, string> => {
    const out = new Map<string, string>();
    for (const a of graph.issuedBy(issuer)) {
      const s = a.record.subject;
      if (revoked.has(s) || !graph.inForce(a, scope, at)) continue;
      if (!out.has(s)) out.set(s, a.idHex);
    }
    return out;
  };
  const d = policy.maxDepth;
  const dist = new Map<string, number>();
  const layers: string[][] = [];
  const out = new Map<string, Map<string, string>>();
  let incomingEdges: Map<string, string>;
  try {
    // Distances from the root's set in the graph without the subject (paths end at it).
    const roots = context.roots.filter((r) => !revoked.has(r));
    for (const r of roots) dist.set(r, 0);
    layers.push(roots);
    for (let level = 0; level < d - 1; level++) {
      const layer: string[] = [];
      for (const u of layers[level] as string[]) {
        const e = edges(u);
        count(e.size);
        out.set(u, e);
        for (const v of [...e.keys()].sort()) {
          if (v === subject || dist.has(v)) continue;
          dist.set(v, level + 1);
          layer.push(v);
        }
      }
      layers.push(layer.sort());
    }
    incomingEdges = new Map();
    for (const a of graph.about(subject)) {
      const u = a.record.issuer;
      if (revoked.has(u) || !dist.has(u) || !graph.inForce(a, scope, at)) continue;
      if (!incomingEdges.has(u)) incomingEdges.set(u, a.idHex);
    }
    count(incomingEdges.size);
  } catch (error) {
    if (!(error instanceof LimitReached)) throw error;
    return {
      ...governed,
      examined,
      trusted: false,
      reason: TrustReason.LIMIT,
      missing: policy.minPaths,
      incoming: [],
    };
  }
  // The layered graph as indexes: roots first (0 .. r − 1), then the deeper layers, the subject last.
  const order = layers.flat();
  const index = new Map(order.map((v, i) => [v, i]));
  const sink = order.length;
  index.set(subject, sink);
  const adj: number[][] = order.map((u) => {
    const level = dist.get(u) as number;
    const succ = [...(out.get(u)?.keys() ?? [])]
      .filter((v) => v !== subject && dist.get(v) === level + 1)
      .sort();
    const list = succ.map((v) => index.get(v) as number);
    return incomingEdges.has(u) ? [sink, ...list] : list;
  });
  adj.push([]);
  const found = disjointPaths((layers[0] as string[]).length, adj, sink, policy.minPaths).map((p) =>
    p.map((i) => (i === sink ? subject : (order[i] as string))),
  );
  const hopOf = (u: string, v: string): TrustHop => ({
    issuer: u,
    subject: v,
    attestation: (v === subject ? incomingEdges.get(u) : out.get(u)?.get(v)) as string,
  });
  const paths = found.map((p) => p.slice(1).map((v, i) => hopOf(p[i] as string, v)));
  const usedIds = new Set(paths.map((p) => (p[p.length - 1] as TrustHop).attestation));
  const incoming = graph
    .allAbout(subject)
    .slice(0, MAX_EXPLAINED_INCOMING)
    .map(({ record, reason }) => ({
      attestation: record.idHex,
      issuer: record.record.issuer,
      ...classify(graph, record, reason, { scope, at, revoked, dist, usedIds }),
    }));
  const trusted = paths.length >= policy.minPaths;
  const reason = trusted
    ? 'paths'
    : paths.length === 0
      ? TrustReason.NO_PATH
      : TrustReason.TOO_FEW_PATHS;
  return {
    ...governed,
    examined,
    trusted,
    reason,
    paths,
    missing: Math.max(0, policy.minPaths - paths.length),
    incoming,
  };
}

function classify(
  graph: TrustGraph,
  a: AttestationRecord,
  invalid: GovRejection | undefined,
  q: {
    scope: string;
    at: number;
    revoked: ReadonlySet<string>;
    dist: ReadonlyMap<string, number>;
    usedIds: ReadonlySet<string>;
  },
): { status: IncomingStatus; reason?: string } {
  if (invalid !== undefined) return { status: 'invalid', reason: invalid.reason };
  const r = a.record;
  if (q.at < r.createdAt) return { status: 'not-yet-valid' };
  if (q.at >= r.expiresAt) return { status: 'expired' };
  if (r.scope !== '*' && r.scope !== q.scope) return { status: 'out-of-scope' };
  if (!graph.inForce(a, q.scope, q.at)) return { status: 'revoked' };
  if (q.revoked.has(r.issuer)) return { status: 'issuer-revoked' };
  if (!q.dist.has(r.issuer)) return { status: 'issuer-unreachable' };
  return { status: q.usedIds.has(a.idHex) ? 'used' : 'in-force' };
}

/** The explanation as JSON (spec/GOVERNANCE.md §8.5): what vectors hold and `trust explain` prints. */
export interface TrustExplanationJson {
  subject: string;
  scope: string;
  at: number;
  mode: 'open' | 'governed';
  trusted: boolean;
  reason: string;
  policy: { max_depth: number; min_paths: number } | null;
  paths: Array<Array<{ issuer: string; subject: string; attestation: string }>>;
  missing: number;
  examined: number;
  incoming: Array<{ attestation: string; issuer: string; status: IncomingStatus; reason?: string }>;
}

export function trustExplanationToJson(e: TrustExplanation): TrustExplanationJson {
  return {
    subject: e.subject,
    scope: e.scope,
    at: e.at,
    mode: e.mode,
    trusted: e.trusted,
    reason: e.reason,
    policy:
      e.policy === null ? null : { max_depth: e.policy.maxDepth, min_paths: e.policy.minPaths },
    paths: e.paths.map((p) =>
      p.map((h) => ({ issuer: h.issuer, subject: h.subject, attestation: h.attestation })),
    ),
    missing: e.missing,
    examined: e.examined,
    incoming: e.incoming.map((i) => ({
      attestation: i.attestation,
      issuer: i.issuer,
      status: i.status,
      ...(i.reason === undefined ? {} : { reason: i.reason }),
    })),
  };
}
