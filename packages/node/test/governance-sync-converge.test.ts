/**
 * Governance records and the events whose trust they decide, delivered in random orders to
 * random subsets of partitioned nodes started with one trust root, converge once the nodes are
 * connected (spec/SYNC.md §6.6, spec/GOVERNANCE.md §9): every node ends with the same governed
 * state, the same sync set, and exactly the events the records make trusted, whatever each node
 * saw first. Real nodes in one process (SQLite, the pipeline, the trust stage) behind their
 * NodeNetwork (the engine over TLS).
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeNetwork } from '../src/net/node-network.js';
import { type CommonsNode, initDataDir, KEY_FILE, openNode } from '../src/node.js';
import { batchOfValues, eventToJson, signEvent, toHex } from '../src/protocol/index.js';
import { rootBody, signed, testKey, thresholds } from './governance-fixtures.js';
import { recordBytes } from './governance-node-fixtures.js';
import { nativeCore as core, PASSPHRASE } from './node-fixtures.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const now = Math.floor(Date.now() / 1000);
const [g1, g2, g3, dave, erin, frank] = ['g1', 'g2', 'g3', 'dave', 'erin', 'frank'].map((k) =>
  testKey(`gov-converge/${k}`),
) as ReturnType<typeof testKey>[] as [
  ReturnType<typeof testKey>,
  ReturnType<typeof testKey>,
  ReturnType<typeof testKey>,
  ReturnType<typeof testKey>,
  ReturnType<typeof testKey>,
  ReturnType<typeof testKey>,
];

/** One key file per node identity, made once (scrypt), copied into each run's fresh dirs. */
const keyFiles = await Promise.all(
  [0, 1, 2].map(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-govconv-key-'));
    dirs.push(dir);
    const { did } = await initDataDir(dir, PASSPHRASE, { core, scryptN: 32_768 });
    return { file: join(dir, KEY_FILE), did };
  }),
);

const anchor = signed(
  rootBody({
    createdAt: now - 7200,
    members: [g1, g2, g3].map((k) => ({ id: k.did })).sort((p, q) => (p.id < q.id ? -1 : 1)),
    thresholds: thresholds(2),
    validators: keyFiles.map((k) => ({ id: k.did })).sort((p, q) => (p.id < q.id ? -1 : 1)),
    trustPolicy: { maxDepth: 3, minPaths: 1 },
  }),
  [g1, g2],
);
const attestation = (issuer: typeof g1, subject: typeof g1, createdAt: number) =>
  signed(
    {
      v: 1,
      type: 'attestation',
      issuer: issuer.did,
      subject: subject.did,
      scope: '*',
      createdAt,
      expiresAt: now + 30 * 86_400,
    },
    [issuer],
  );
const records = [
  attestation(g1, dave, now - 3600),
  attestation(g2, erin, now - 3000),
  signed(
    {
      v: 1,
      type: 'action',
      kind: 'validator-admission',
      root: anchor.id,
      subject: testKey('gov-converge/val-4').did,
      createdAt: now - 1800,
    },
    [g1, g3],
  ),
];
/** An ordinary did:key event by `key`, dated `createdAt`: its JSON form and its id. */
function authored(key: typeof g1, createdAt: number, label: string) {
  const r = signEvent(
    core,
    {
      v: 1,
      kind: 'note',
      author: key.did,
      createdAt,
      expiresAt: now + 3_600,
      nonce: core.sha256(new TextEncoder().encode(`gov-converge/${label}`)).slice(0, 16),
      payload: { text: label } as never,
    },
    [key.seed],
  );
  if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
  return { idHex: toHex(core.sha256(r.value.body)), json: eventToJson(r.value.event) };
}
/** Events, and whether the records make their author trusted at their time. */
const events = [
  { ...authored(dave, now - 600, 'd1'), trusted: true },
  { ...authored(dave, now - 300, 'd2'), trusted: true },
  { ...authored(erin, now - 200, 'e1'), trusted: true },
  { ...authored(frank, now - 100, 'f1'), trusted: false }, // nobody vouches for frank
];
const itemIds = [
  ...records.map((r) => toHex(core.sha256(r.encoded))),
  ...events.filter((e) => e.trusted).map((e) => e.idHex),
].sort();

async function until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const arbDelivery = fc.record({
  items: fc
    .shuffledSubarray(
      [
        ...records.map((_, i) => ({ kind: 'r' as const, i })),
        ...events.map((_, i) => ({ kind: 'e' as const, i })),
      ],
      { minLength: 7, maxLength: 7 },
    )
    .chain((order) =>
      fc.tuple(
        fc.constant(order),
        fc.array(fc.subarray([0, 1, 2], { minLength: 1 }), {
          minLength: order.length,
          maxLength: order.length,
        }),
      ),
    ),
  topology: fc.constantFrom('chain', 'star', 'full'),
});

describe('governance records over sync (in process, real nodes)', () => {
  it('random deliveries to partitioned nodes converge to the same governed state and trusted events', async () => {
    await fc.assert(
      fc.asyncProperty(arbDelivery, async ({ items: [order, targets], topology }) => {
        const members: { node: CommonsNode; net?: NodeNetwork }[] = [];
        try {
          for (const k of keyFiles) {
            const dir = mkdtempSync(join(tmpdir(), 'cs-govconv-'));
            dirs.push(dir);
            copyFileSync(k.file, join(dir, KEY_FILE));
            const node = (await openNode({
              dataDir: dir,
              passphrase: PASSPHRASE,
              workers: 0,
              core,
              trustRoot: recordBytes(anchor),
            })) as CommonsNode;
            members.push({ node });
          }
          // each item reaches its nodes as a client's submission, in the order drawn
          for (const [n, item] of order.entries()) {
            for (const t of targets[n] as number[]) {
              const node = members[t]?.node as CommonsNode;
              if (item.kind === 'r')
                await node.governance.submit(recordBytes(records[item.i] as never));
              else await node.ingest(batchOfValues([events[item.i]?.json]));
            }
          }
          for (const m of members)
            m.net = await NodeNetwork.start(m.node, core, {
              admitted: new Set(),
              admits: (did) => m.node.governance.admitsPeer(did),
              engine: { reconcileIntervalMs: 500 },
            });
          const [m0, m1, m2] = members.map((m) => m.net as NodeNetwork) as [
            NodeNetwork,
            NodeNetwork,
            NodeNetwork,
          ];
          const to = (n: NodeNetwork) => ({ host: '127.0.0.1', port: n.host.port });
          if (topology === 'chain' || topology === 'full') m0.dial(to(m1));
          if (topology === 'chain' || topology === 'star') m2.dial(to(m1));
          if (topology === 'star' || topology === 'full') m0.dial(to(m2));

          await until('convergence', () =>
            members.every((m) => m.net?.syncSetHex().sort().join() === itemIds.join()),
          );
          const states = members.map((m) => JSON.stringify(m.node.governance.state()));
          expect(states[1]).toBe(states[0]);
          expect(states[2]).toBe(states[0]);
          for (const m of members) {
            for (const e of events)
              expect(m.node.getEvent(e.idHex) !== undefined, e.idHex).toBe(e.trusted);
          }
        } finally {
          for (const m of members) {
            await m.net?.close();
            await m.node.close();
          }
        }
      }),
      { numRuns: 10 },
    );
  }, 240_000);
});
