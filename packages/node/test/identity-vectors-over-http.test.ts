/**
 * spec/vectors/identity/events.json over HTTP: each set of key events goes to a fresh node
 * (POST /v1/key-events, every one attached), then every event in its JSON form (POST
 * /v1/events); each answer is the verdict the vector states, step 7 being the identity verdict.
 */
import { readFileSync } from 'node:fs';

import { afterEach, describe, expect, it } from 'vitest';

import {
  type IdentityNode,
  postEventsJson,
  startIdentityNode,
  verdictOf,
} from './identity-node-fixtures.js';

interface EventsDoc {
  now: number;
  vectors: {
    name: string;
    identity: string;
    key_events: { label: string; id: string; json: unknown }[];
    events: { description: string; id: string; json: unknown; expected: string }[];
  }[];
}
const doc = JSON.parse(
  readFileSync(new URL('../../../spec/vectors/identity/events.json', import.meta.url), 'utf8'),
) as EventsDoc;

let n: IdentityNode | undefined;
afterEach(async () => {
  await n?.close();
  n?.remove();
  n = undefined;
});

describe('identity events vectors over HTTP', () => {
  it.each(doc.vectors.map((v) => [v.name, v] as const))('%s', async (_name, v) => {
    n = await startIdentityNode(doc.now);
    const res = await fetch(`${n.url}/v1/key-events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(v.key_events.map((k) => k.json)),
    });
    const { results } = (await res.json()) as { results: { status: string; id: string }[] };
    expect(results.map((r) => r.status)).toEqual(v.key_events.map(() => 'accepted'));
    const answers = await postEventsJson(
      n.url,
      v.events.map((e) => e.json),
    );
    expect(answers.map(verdictOf)).toEqual(v.events.map((e) => e.expected));
    expect(answers.map((a) => a.id)).toEqual(v.events.map((e) => e.id));
  });
});
