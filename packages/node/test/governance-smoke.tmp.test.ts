import { describe, expect, it } from 'vitest';
import { governanceViewToJson } from '../src/governance/index.js';
import { DAY, T0, admit, anchor, attest, governed, outcome, root, testKey } from './governance-fixtures.js';

describe('smoke', () => {
  it('works', () => {
    const a = anchor();
    const g = governed(a);
    const r2 = root({ version: 2, prior: a, createdAt: T0 + DAY }, 'alice', 'carol');
    console.log(outcome(g, r2));
    console.log(outcome(g, admit(r2, 'val-2', T0 + 2 * DAY, 'alice', 'bob')));
    console.log(outcome(g, admit(a, 'val-3', T0 + 2 * DAY, 'alice', 'bob')));
    console.log(outcome(g, admit(r2, 'val-4', T0 + 2 * DAY, 'alice')));
    console.log(JSON.stringify(governanceViewToJson(g.view!), null, 1).slice(0, 3000));
    g.add(attest('alice', 'dave'));
    g.add(attest('bob', 'erin'));
    g.add(attest('erin', 'dave'));
    console.log(JSON.stringify(g.explain(testKey('dave').did, 'note', T0 + 3 * DAY), null, 1));
    expect(1).toBe(1);
  });
});
