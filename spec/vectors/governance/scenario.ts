/**
 * The shared machinery of chains.json and trust.json: a scenario is an anchor, identities, and
 * labelled records delivered to a fresh node in three orders (as listed, reversed, shuffled).
 * The outcome of each delivery in the listed order is stated by hand; the code must reproduce it,
 * and reach the same state in every order.
 */

import type { CborMap } from '../../../packages/node/src/protocol/index.js';
import { core, fail, G, hex, type Identity, identitiesJson, lookupOf, NOW, SKEW } from './lib.js';

export interface Scenario {
  name: string;
  description: string;
  identities?: Identity[];
  anchor: G.VerifiedRecord;
  records: Record<string, G.VerifiedRecord>;
  /** The listed order (labels may repeat) and the outcome of each delivery, stated by hand. */
  order: Array<[string, string]>;
}

/** One delivery's outcome as a string: `accepted <standing>[ <code>]`, `duplicate`, or a code. */
export function outcomeString(o: G.SubmitOutcome): string {
  if (!o.ok) return o.reason;
  if (o.outcome === 'duplicate') return 'duplicate';
  return `accepted ${o.standing}${o.reason === undefined ? '' : ` ${o.reason.reason}`}`;
}

export function governanceOf(s: Scenario): G.Governance {
  const g = G.Governance.create(s.anchor, lookupOf(s.identities ?? []));
  return g.ok ? g.value : fail(`${s.name}: anchor refused: ${g.reason} ${g.detail}`);
}

/** Delivers labels in order to a fresh node; the outcomes. */
export function deliver(
  s: Scenario,
  order: readonly string[],
): { g: G.Governance; outcomes: string[] } {
  const g = governanceOf(s);
  const outcomes = order.map((label) => {
    const r = s.records[label] ?? fail(`${s.name}: no record ${label}`);
    return outcomeString(g.submit(core, [r], NOW, SKEW)[0] as G.SubmitOutcome);
  });
  return { g, outcomes };
}

/** A fixed shuffle (a linear congruential sequence seeded by the name). */
export function shuffled<T>(items: readonly T[], seed: string): T[] {
  let x = [...seed].reduce((a, c) => (a * 31 + c.charCodeAt(0)) >>> 0, 7);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

export const recordJson = (r: G.VerifiedRecord) => ({
  id: r.idHex,
  cbor: hex(r.encoded),
  json: G.recordToJson(r.record),
});

/**
 * Checks the listed order against the stated outcomes, runs the two other orders, checks that
 * every order reaches the state of the listed one; returns the vector fields.
 */
export function runScenario(
  s: Scenario,
  state: (g: G.Governance) => unknown,
): Record<string, unknown> {
  const listed = s.order.map(([l]) => l);
  const first = deliver(s, listed);
  first.outcomes.forEach((got, i) => {
    const [label, stated] = s.order[i] as [string, string];
    if (got !== stated)
      fail(`${s.name}: delivery ${i} (${label}): stated ${stated}, code says ${got}`);
  });
  const expected = JSON.stringify(state(first.g));
  const orders = [listed, [...listed].reverse(), shuffled(listed, s.name)];
  const deliveries = orders.map((order, k) => {
    const run = k === 0 ? first : deliver(s, order);
    if (JSON.stringify(state(run.g)) !== expected)
      fail(`${s.name}: order ${k} reaches another state`);
    return { order, outcomes: run.outcomes };
  });
  return {
    name: s.name,
    description: s.description,
    identities: identitiesJson(s.identities ?? []),
    anchor: recordJson(s.anchor),
    records: Object.entries(s.records).map(([label, r]) => ({ label, ...recordJson(r) })),
    deliveries,
  };
}

export type { CborMap };
