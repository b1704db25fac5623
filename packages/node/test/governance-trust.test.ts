/**
 * The web of trust (spec/GOVERNANCE.md §8): what `explain` tells (the paths, or what is missing,
 * and the status of every attestation about the subject); the disjoint-path count equal to a
 * brute-force search on random graphs; the cache equal to a fresh evaluation whatever was added
 * in between; the per-query bound at exactly its value.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  explainTrust,
  MAX_QUERY_ATTESTATIONS,
  type TrustContext,
  TrustEvaluator,
  type TrustExplanation,
  TrustGraph,
  type VerifiedRecord,
  verifyRecords,
} from '../src/governance/index.js';
import {
  action,
  anchor,
  attest,
  core,
  DAY,
  decoded,
  governed,
  revoke,
  root,
  T0,
  testKey,
} from './governance-fixtures.js';

const did = (n: string) => testKey(n).did;

describe('explain', () => {
  it('names the paths it found, hop by hop, with the attestation that carries each', () => {
    const g = governed();
    const ad = attest('alice', 'dora');
    const de = attest('dora', 'ezra', { scope: 'note' });
    g.add(ad);
    g.add(de);
    const e = g.explain(did('ezra'), 'note', T0 + DAY);
    expect(e).toMatchObject({
      trusted: true,
      reason: 'paths',
      missing: 0,
      mode: 'governed',
      policy: { maxDepth: 3, minPaths: 1 },
    });
    expect(e.paths).toEqual([
      [
        { issuer: did('alice'), subject: did('dora'), attestation: ad.idHex },
        { issuer: did('dora'), subject: did('ezra'), attestation: de.idHex },
      ],
    ]);
    expect(e.incoming).toEqual([{ attestation: de.idHex, issuer: did('dora'), status: 'used' }]);
    expect(g.explain(did('alice'), 'note', T0)).toMatchObject({
      trusted: true,
      reason: 'root',
      paths: [],
    });
  });

  it('says what is missing: no path, too few paths, and why each attestation about the subject did not help', () => {
    const g = governed(root({ trustPolicy: { maxDepth: 2, minPaths: 2 } }, 'alice', 'bob'));
    const fromAlice = attest('alice', 'sam');
    const fromStranger = attest('mallory', 'sam');
    const expired = attest('bob', 'sam', { createdAt: T0, expiresAt: T0 + DAY });
    const otherScope = attest('carol', 'sam', { scope: 'vote' });
    for (const r of [fromAlice, fromStranger, expired, otherScope]) g.add(r);
    const e = g.explain(did('sam'), 'note', T0 + 2 * DAY);
    expect(e).toMatchObject({ trusted: false, reason: 'ERR_TRUST_TOO_FEW_PATHS', missing: 1 });
    expect(e.paths).toHaveLength(1);
    const status = Object.fromEntries(e.incoming.map((i) => [i.attestation, i.status]));
    expect(status).toEqual({
      [fromAlice.idHex]: 'used',
      [fromStranger.idHex]: 'issuer-unreachable',
      [expired.idHex]: 'expired',
      [otherScope.idHex]: 'out-of-scope',
    });
    const none = g.explain(did('nobody'), 'note', T0);
    expect(none).toMatchObject({
      trusted: false,
      reason: 'ERR_TRUST_NO_PATH',
      missing: 2,
      paths: [],
      incoming: [],
    });
  });

  it('revoked attestations and revoked identities', () => {
    const a = anchor();
    const g = governed(a);
    const at = attest('alice', 'kim');
    g.add(at);
    g.add(revoke(at, T0 + 5 * DAY));
    expect(g.verdict(did('kim'), 'note', T0 + 5 * DAY - 1)).toEqual({
      trusted: true,
      reason: 'paths',
    });
    const e = g.explain(did('kim'), 'note', T0 + 5 * DAY);
    expect(e).toMatchObject({ trusted: false, reason: 'ERR_TRUST_NO_PATH' });
    expect(e.incoming.map((i) => i.status)).toEqual(['revoked']);
    g.add(
      action(
        a,
        'identity-revocation',
        { subject: did('alice'), createdAt: T0 + DAY },
        'bob',
        'carol',
      ),
    );
    expect(g.verdict(did('alice'), 'note', T0 + 2 * DAY)).toEqual({
      trusted: false,
      reason: 'ERR_TRUST_REVOKED',
    });
    expect(g.explain(did('kim'), 'note', T0 + 2 * DAY).reason).toBe('ERR_TRUST_NO_PATH'); // alice is no trust root now
  });

  it('in open mode every author is trusted, and the answer says it is open', async () => {
    const { Governance } = await import('../src/governance/index.js');
    const g = Governance.open(() => undefined);
    expect(g.explain(did('anyone'), 'note', T0)).toMatchObject({
      mode: 'open',
      trusted: true,
      reason: 'open',
      policy: null,
    });
  });
});

// ------------------------------------------------------------------------------- random graphs

const V = ['r0', 'r1', 'r2', 'a', 'b', 'c', 'd', 'e', 's'];
const ROOTS = ['r0', 'r1', 'r2'];
const edgeArb = fc.uniqueArray(
  fc
    .tuple(fc.constantFrom(...V), fc.constantFrom(...V))
    .filter(([u, v]) => u !== v && !ROOTS.includes(v)),
  {
    maxLength: 20,
    selector: ([u, v]) => `${u}>${v}`,
  },
);

const attestations = new Map<string, VerifiedRecord>();
function edge(u: string, v: string): VerifiedRecord {
  const key = `${u}>${v}`;
  let r = attestations.get(key);
  if (r === undefined) {
    r = attest(`g-${u}`, `g-${v}`);
    attestations.set(key, r);
  }
  return r;
}

/** Brute force: every layered path (§8.3), then the largest set of paths sharing no vertex but s. */
function bruteForce(edges: ReadonlyArray<readonly [string, string]>, d: number, k: number): number {
  const succ = (u: string) => edges.filter(([x]) => x === u).map(([, y]) => y);
  const dist = new Map(ROOTS.map((r) => [r, 0]));
  let layer = [...ROOTS];
  for (let level = 0; level < d - 1; level++) {
    const next: string[] = [];
    for (const u of layer)
      for (const v of succ(u)) {
        if (v !== 's' && !dist.has(v)) {
          dist.set(v, level + 1);
          next.push(v);
        }
      }
    layer = next;
  }
  const paths: string[][] = [];
  const walk = (path: string[]) => {
    const u = path[path.length - 1] as string;
    for (const v of succ(u)) {
      if (v === 's') paths.push([...path, v]);
      else if (dist.get(v) === (dist.get(u) as number) + 1) walk([...path, v]);
    }
  };
  for (const r of ROOTS) walk([r]);
  let best = 0;
  const pick = (from: number, used: Set<string>, count: number) => {
    best = Math.max(best, count);
    if (best >= k) return;
    for (let i = from; i < paths.length; i++) {
      const inner = (paths[i] as string[]).slice(0, -1);
      if (inner.some((x) => used.has(x))) continue;
      pick(i + 1, new Set([...used, ...inner]), count + 1);
    }
  };
  pick(0, new Set(), 0);
  return Math.min(best, k);
}

function contextOf(d: number, k: number): TrustContext {
  return {
    mode: 'governed',
    roots: ROOTS.map((r) => did(`g-${r}`)).sort(),
    revoked: new Set(),
    policy: { maxDepth: d, minPaths: k },
  };
}

function checkWitness(e: TrustExplanation, edges: ReadonlyArray<readonly [string, string]>): void {
  const name = new Map(V.map((v) => [did(`g-${v}`), v]));
  const inner = new Set<string>();
  for (const path of e.paths) {
    expect(ROOTS).toContain(name.get(path[0]!.issuer));
    expect(name.get(path[path.length - 1]!.subject)).toBe('s');
    expect(path.length).toBeLessThanOrEqual(e.policy!.maxDepth);
    for (const hop of path) {
      const u = name.get(hop.issuer) as string;
      expect(edges.some(([x, y]) => x === u && y === name.get(hop.subject))).toBe(true);
      expect(hop.attestation).toBe(edge(u, name.get(hop.subject) as string).idHex);
      expect(inner.has(u)).toBe(false); // vertex-disjoint
      inner.add(u);
    }
  }
}

describe('the disjoint-path count', () => {
  it('equals a brute-force search over layered paths on random graphs, with a valid witness', () => {
    fc.assert(
      fc.property(
        edgeArb,
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        (edges, d, k) => {
          const graph = new TrustGraph(() => undefined);
          for (const [u, v] of edges) graph.add(edge(u, v));
          const e = explainTrust(graph, contextOf(d, k), did('g-s'), 'note', T0 + DAY);
          expect(e.paths.length).toBe(bruteForce(edges, d, k));
          expect(e.trusted).toBe(e.paths.length >= k);
          expect(e.missing).toBe(k - e.paths.length);
          checkWitness(e, edges);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the cached evaluator answers as a fresh evaluation, whatever was added in between', () => {
    const times = [T0 - 1, T0, T0 + DAY, T0 + 400 * DAY];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(edgeArb, fc.constantFrom(...V), fc.constantFrom(...times)), {
          minLength: 1,
          maxLength: 5,
        }),
        (steps) => {
          const graph = new TrustGraph(() => undefined);
          const cached = new TrustEvaluator(graph);
          const ctx = contextOf(3, 2);
          for (const [edges, subject, at] of steps) {
            for (const [u, v] of edges) graph.add(edge(u, v));
            for (const when of [at, at + 1]) {
              expect(cached.explain(ctx, did(`g-${subject}`), 'note', when)).toEqual(
                explainTrust(graph, ctx, did(`g-${subject}`), 'note', when),
              );
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('bounded work per query', () => {
  it(`answers ERR_TRUST_LIMIT when a query would examine more than ${MAX_QUERY_ATTESTATIONS} attestations, and not at exactly that many`, () => {
    const graph = new TrustGraph(() => undefined, {
      maxAttestations: 20_000,
      maxRevocations: 10,
      maxPerIssuer: 20_000,
      maxWaiting: 10,
      maxCopies: 2,
    });
    const alice = testKey('alice');
    const records = Array.from({ length: MAX_QUERY_ATTESTATIONS }, (_, i) =>
      decoded(
        {
          v: 1,
          type: 'attestation',
          issuer: alice.did,
          subject: testKey(`crowd-${i}`).did,
          scope: '*',
          createdAt: T0,
          expiresAt: T0 + DAY,
        },
        [alice],
      ),
    );
    for (const v of verifyRecords(core, records)) {
      if (!v.ok) throw new Error(v.detail);
      graph.add(v.value);
    }
    const ctx: TrustContext = {
      mode: 'governed',
      roots: [alice.did],
      revoked: new Set(),
      policy: { maxDepth: 2, minPaths: 1 },
    };
    // 16,384 edges out of alice, plus the subject's incoming edge from alice: one over the bound
    expect(explainTrust(graph, ctx, testKey('crowd-7').did, 'note', T0)).toMatchObject({
      trusted: false,
      reason: 'ERR_TRUST_LIMIT',
      examined: MAX_QUERY_ATTESTATIONS + 1,
    });
    // a subject outside the crowd: exactly 16,384 examined, answered
    expect(explainTrust(graph, ctx, testKey('outsider').did, 'note', T0)).toMatchObject({
      reason: 'ERR_TRUST_NO_PATH',
      examined: MAX_QUERY_ATTESTATIONS,
    });
  });
});
