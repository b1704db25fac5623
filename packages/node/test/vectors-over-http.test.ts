/**
 * Every vector of spec/vectors/events in its JSON forms (`json`, `json_text`, `json_text_hex`)
 * POSTed to a live node over HTTP (real API server on 127.0.0.1, real pipeline, worker thread
 * and store), alone and inside a batch between two valid events, gets the verdict the vector
 * states; and every batch body of batch-bodies.json, POSTed as it is, gets its verdicts. The
 * node reads exactly the bytes sent: nothing on the way may change a verdict.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { loadCore } from '@commons-sync/bindings';
import { afterAll, describe, expect, it } from 'vitest';

import {
  arrayBody,
  fillerFactory,
  type HttpNode,
  keepsFraming,
  postBody,
  startHttpNode,
} from './http-fixtures.js';

const DIR = fileURLToPath(new URL('../../../spec/vectors/events/', import.meta.url));
const core = await loadCore();

interface Step {
  now: number;
  trusted_authors?: string[];
  json?: unknown;
  json_text?: string;
  json_text_hex?: string;
  expected: string;
}
interface Vector extends Step {
  name: string;
  steps?: Step[];
}
interface BatchVector {
  name: string;
  now: number;
  body?: string;
  body_hex?: string;
  single?: boolean;
  expected: string | string[];
}

const FORMS = ['json', 'json_text', 'json_text_hex'] as const;
type Form = (typeof FORMS)[number];

function textOf(step: Step, form: Form): Uint8Array | undefined {
  if (form === 'json')
    return step.json === undefined ? undefined : Buffer.from(JSON.stringify(step.json));
  if (form === 'json_text')
    return step.json_text === undefined ? undefined : Buffer.from(step.json_text, 'utf8');
  return step.json_text_hex === undefined ? undefined : Buffer.from(step.json_text_hex, 'hex');
}

const vectors: Array<{ file: string; vector: Vector }> = readdirSync(DIR)
  .filter((f) => f.endsWith('.json') && f !== 'batch-bodies.json')
  .sort()
  .flatMap((file) =>
    (JSON.parse(readFileSync(DIR + file, 'utf8')) as { vectors: Vector[] }).vectors.map(
      (vector) => ({ file, vector }),
    ),
  );

const nodes: HttpNode[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.close()));
});

const filler = fillerFactory(core, 'vectors-over-http');

/** A node per trust setting (the filler author is trusted too, so that it can stand beside). */
async function nodeFor(
  pool: Map<string, HttpNode>,
  trusted: string[] | undefined,
): Promise<HttpNode> {
  const key = trusted === undefined ? 'open' : JSON.stringify(trusted);
  let node = pool.get(key);
  if (node === undefined) {
    node = await startHttpNode(core, {
      trusted: trusted === undefined ? 'open' : [...trusted, filler.did],
    });
    nodes.push(node);
    pool.set(key, node);
  }
  return node;
}

/** Submits one step alone or between two fresh valid events; returns the step's own verdict. */
async function submit(
  node: HttpNode,
  step: Step,
  text: Uint8Array,
  inBatch: boolean,
  where: string,
): Promise<string> {
  node.setNow(step.now);
  if (!inBatch) {
    const answer = await postBody(node.url, text);
    if ('refused' in answer) {
      // a body that is neither an array nor an object is refused whole, with the protocol's code
      expect({ where, status: answer.status }).toEqual({ where, status: 400 });
      return answer.refused;
    }
    expect(answer.verdicts, where).toHaveLength(1);
    return answer.verdicts[0] as string;
  }
  const answer = await postBody(
    node.url,
    arrayBody([filler.event(step.now), text, filler.event(step.now)]),
  );
  if ('refused' in answer) throw new Error(`${where}: batch refused with ${answer.refused}`);
  expect({
    where,
    first: answer.verdicts[0],
    last: answer.verdicts[2],
    n: answer.verdicts.length,
  }).toEqual({
    where,
    first: 'accepted',
    last: 'accepted',
    n: 3,
  });
  return answer.verdicts[1] as string;
}

describe.each(FORMS)('every vector with a %s form, over HTTP', (form) => {
  const withForm = vectors.filter(({ vector }) =>
    (vector.steps ?? [vector]).some((s) => textOf(s, form) !== undefined),
  );

  it.each([
    ['alone', false],
    ['inside a batch, between two valid events', true],
  ] as const)('%s', async (_mode, inBatch) => {
    expect(withForm.length).toBeGreaterThan(0);
    const shared = new Map<string, HttpNode>(); // open and allow-list nodes for one-step vectors
    let submitted = 0;
    for (const { file, vector } of withForm) {
      // a replay sequence needs a node of its own: sequences share events with each other
      const pool = vector.steps === undefined ? shared : new Map<string, HttpNode>();
      for (const [i, step] of (vector.steps ?? [vector]).entries()) {
        const where = `${file} ${vector.name}${vector.steps ? ` step ${i}` : ''} (${form}${inBatch ? ', in a batch' : ''})`;
        const text = textOf(step, form);
        if (text === undefined) throw new Error(`${where}: a step without this form`);
        if (inBatch && !keepsFraming(text)) {
          // Such a text would frame the whole body differently (§3.5; batch-bodies.json has those
          // cases); as an event it can only be malformed.
          expect({ where, expected: step.expected }).toEqual({ where, expected: 'ERR_MALFORMED' });
          continue;
        }
        const node = await nodeFor(pool, step.trusted_authors);
        expect({ where, verdict: await submit(node, step, text, inBatch, where) }).toEqual({
          where,
          verdict: step.expected,
        });
        submitted++;
      }
    }
    expect(submitted).toBeGreaterThan(0);
  });
});

describe('batch-bodies.json over HTTP', () => {
  const doc = JSON.parse(readFileSync(`${DIR}batch-bodies.json`, 'utf8')) as {
    batches: BatchVector[];
  };

  it('every body, POSTed as it is, gets the verdicts of the vector', async () => {
    const node = await startHttpNode(core);
    nodes.push(node);
    for (const v of doc.batches) {
      node.setNow(v.now);
      const body =
        v.body_hex !== undefined
          ? Buffer.from(v.body_hex, 'hex')
          : Buffer.from(v.body ?? '', 'utf8');
      const answer = await postBody(node.url, body);
      if (typeof v.expected === 'string') {
        expect({ name: v.name, answer }).toEqual({
          name: v.name,
          answer: { refused: v.expected, status: 400 },
        });
      } else if (v.expected.length === 0) {
        // an array of no events: the API's answer, not a protocol verdict
        expect({ name: v.name, answer }).toEqual({
          name: v.name,
          answer: { refused: 'ERR_EMPTY_BATCH', status: 400 },
        });
      } else {
        expect({ name: v.name, answer }).toEqual({
          name: v.name,
          answer: { verdicts: v.expected, single: v.single === true },
        });
      }
    }
  });
});
