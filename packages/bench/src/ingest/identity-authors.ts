/**
 * The ingest bench's identity case: the same events as {@link EventFactory} makes, but by 200
 * identities (did:cs, spec/IDENTITY.md) that rotated once, whose events are signed by the
 * rotated-to key and name that key state (spec/IDENTITY.md §8). Their key events are posted
 * before the clock starts. Ingest runs are made in pairs, did:key authors and these (each going
 * first in turn), so the ratio of their rates, measured in the same run, is the cost of the
 * identity verdict and of the identity row stored with each event (target: at most 10% slower).
 */
import type { Core } from '@commons-sync/bindings';
import { identity, protocol } from '@commons-sync/node';

import { AUTHORS, type EventBatch, transferPayload } from './events.js';

/** At most this many key events per request (the node takes 256). */
const KEY_EVENTS_PER_REQUEST = 200;

/** The identity case's target: identity events at most this much slower than did:key events. */
export const IDENTITY_MAX_SLOWDOWN = 0.1;

interface RotatedIdentity {
  readonly did: string;
  /** The rotated-to key: it signs the identity's events. */
  readonly seed: Uint8Array;
  readonly signer: string;
  /** The rotation's id: the key state the events name. */
  readonly keyState: Uint8Array;
}

/**
 * 200 identities that rotated once: an inception (key k0, committing to k1) an hour before the
 * rotation to k1 (committing to k2), which is an hour before `now`.
 */
export class IdentityAuthors {
  private readonly identities: RotatedIdentity[] = [];
  /** The key events of every identity, inception before rotation, in their JSON form. */
  readonly keyEvents: unknown[] = [];

  constructor(
    private readonly core: Core,
    now: number,
    private readonly label = 'ingest-identity',
  ) {
    const enc = new TextEncoder();
    const didOf = (seed: Uint8Array) => protocol.didKeyFromPublicKey(core.ed25519PublicKey(seed));
    for (let i = 0; i < AUTHORS; i++) {
      const [k0, k1, k2] = [0, 1, 2].map((g) => core.sha256(enc.encode(`${label}/${i}/${g}`))) as [
        Uint8Array,
        Uint8Array,
        Uint8Array,
      ];
      const config = (key: Uint8Array, next: Uint8Array) => ({
        keys: [didOf(key)],
        threshold: 1,
        next: identity.nextCommitment(core, [didOf(next)], 1),
        guardians: [],
        guardianThreshold: 0,
        recoveryDelay: 0,
      });
      const icp = identity.signKeyEvent(
        core,
        { v: 1, type: 'inception', seq: 0, createdAt: now - 7200, ...config(k0, k1) },
        [k0],
      );
      if (!icp.ok) throw new Error(`inception: ${icp.reason} ${icp.detail}`);
      const rot = identity.signKeyEvent(
        core,
        {
          v: 1,
          type: 'rotation',
          identity: icp.value.identity,
          seq: 1,
          prior: icp.value.id,
          createdAt: now - 3600,
          ...config(k1, k2),
        },
        [k1],
      );
      if (!rot.ok) throw new Error(`rotation: ${rot.reason} ${rot.detail}`);
      this.keyEvents.push(
        identity.keyEventToJson(icp.value.event),
        identity.keyEventToJson(rot.value.event),
      );
      this.identities.push({
        did: icp.value.identity,
        seed: k1,
        signer: didOf(k1),
        keyState: rot.value.id,
      });
    }
  }

  /**
   * Event `i`: EventFactory's event `i` (the same payload, spelled in the same order) but by
   * identity `i mod 200` under its rotation, signed by its key, with a nonce of its own.
   */
  event(i: number, now: number): protocol.CommonsEvent {
    const a = i % AUTHORS;
    const author = this.identities[a] as RotatedIdentity;
    const r = protocol.signEvent(
      this.core,
      {
        v: 1,
        kind: 'transfer',
        author: author.did,
        keyState: author.keyState,
        createdAt: now - 5,
        expiresAt: now + 3600,
        nonce: this.core
          .sha256(new TextEncoder().encode(`${this.label}/nonce/${i}`))
          .subarray(0, 16),
        payload: transferPayload(i),
      },
      [author.seed],
    );
    if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
    // the payload's members in the did:key case's order in the JSON text (the signed event
    // holds them in the canonical order, which the node would not have to sort)
    return { ...r.value.event, payload: transferPayload(i) };
  }

  /** `total` events in batches of `size` (request bodies, serialized before the clock). */
  batches(first: number, total: number, size: number, now: number): EventBatch[] {
    const out: EventBatch[] = [];
    for (let i = 0; i < total; i += size) {
      const json: unknown[] = [];
      const count = Math.min(size, total - i);
      for (let k = first + i; k < first + i + count; k++)
        json.push(protocol.eventToJson(this.event(k, now)));
      out.push({ count, body: Buffer.from(JSON.stringify(json)) });
    }
    return out;
  }

  /** Posts the key events to a node (`POST /v1/key-events`); each must be accepted. */
  async postKeyEvents(url: string): Promise<void> {
    for (let i = 0; i < this.keyEvents.length; i += KEY_EVENTS_PER_REQUEST) {
      const res = await fetch(`${url}/v1/key-events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(this.keyEvents.slice(i, i + KEY_EVENTS_PER_REQUEST)),
      });
      const text = await res.text();
      if (res.status !== 200)
        throw new Error(`key events: HTTP ${res.status}: ${text.slice(0, 300)}`);
      const { results } = JSON.parse(text) as { results: { status: string }[] };
      const refused = results.find((r) => r.status !== 'accepted');
      if (refused !== undefined) throw new Error(`key event refused: ${JSON.stringify(refused)}`);
    }
  }
}

/** What the ratios need of one ingest run. */
export interface RunFigures {
  readonly eventsPerSec: number;
  /** CPU µs per event of the node's main thread (where the identity verdict runs). */
  readonly mainCpuUs: number;
  /** CPU µs per event of its worker threads (where events are read and verified). */
  readonly workerCpuUs: number;
  /** CPU µs per event of all its other threads (workers, V8's GC and compiler, libuv). */
  readonly otherCpuUs: number;
}

/** Identity events/s over did:key events/s for one setting, from runs made in pairs. */
export interface IdentityRatio {
  readonly setting: string;
  /** Median events/s of each case. */
  readonly eventsPerSec: CpuPair;
  /** Median identity rate over median did:key rate. */
  readonly ratio: number;
  /** Each round's identity rate over the same round's did:key rate. */
  readonly pairs: readonly number[];
  /**
   * Median CPU µs per event, did:key and identity, of the main thread, of the worker threads and
   * of the process's other threads (workers included): less sensitive than rates to the load of
   * a shared machine, since a run's wall time counts others' work too.
   */
  readonly mainCpuUs: CpuPair;
  readonly workerCpuUs: CpuPair;
  readonly otherCpuUs: CpuPair;
}

/** A median of each case (CPU µs per event, or events/s). */
export interface CpuPair {
  readonly didKey: number;
  readonly identity: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[Math.floor(s.length / 2)] as number);
};

/** The ratios of each setting; `didKey` and `identities` hold each round's run. */
export function identityRatios(
  settings: readonly string[],
  didKey: ReadonlyMap<string, readonly RunFigures[]>,
  identities: ReadonlyMap<string, readonly RunFigures[]>,
): IdentityRatio[] {
  return settings.map((setting) => {
    const a = (didKey.get(setting) ?? []).map((r) => r.eventsPerSec);
    const b = (identities.get(setting) ?? []).map((r) => r.eventsPerSec);
    const base = median(a);
    return {
      setting,
      eventsPerSec: { didKey: base, identity: median(b) },
      ratio: base === 0 ? 0 : median(b) / base,
      pairs: b.flatMap((x, r) => (a[r] === undefined || a[r] === 0 ? [] : [x / (a[r] as number)])),
      mainCpuUs: cpuPair(didKey, identities, setting, (r) => r.mainCpuUs),
      workerCpuUs: cpuPair(didKey, identities, setting, (r) => r.workerCpuUs),
      otherCpuUs: cpuPair(didKey, identities, setting, (r) => r.otherCpuUs),
    };
  });
}

function cpuPair(
  didKey: ReadonlyMap<string, readonly RunFigures[]>,
  identities: ReadonlyMap<string, readonly RunFigures[]>,
  setting: string,
  of: (r: RunFigures) => number,
): CpuPair {
  return {
    didKey: median((didKey.get(setting) ?? []).map(of)),
    identity: median((identities.get(setting) ?? []).map(of)),
  };
}

const arrow = (p: CpuPair): string => `${p.didKey.toFixed(1)} → ${p.identity.toFixed(1)}`;

/** The markdown table of the identity case, and its target line. */
export function identityRatioLines(ratios: readonly IdentityRatio[]): string[] {
  const worst = Math.min(...ratios.map((r) => r.ratio));
  const met = ratios.length > 0 && 1 - worst <= IDENTITY_MAX_SLOWDOWN;
  const pooled = ratios.flatMap((r) => r.pairs).sort((a, b) => a - b);
  const quartile = (q: number) => pooled[Math.floor(q * (pooled.length - 1))] as number;
  return [
    '## Identities as authors',
    '',
    `Each run is made twice: did:key authors, and ${AUTHORS} identities (did:cs) that ` +
      'rotated once, whose events are signed by the rotated-to key and name that key state; their ' +
      'key events are posted before the clock starts, and their warm-up events are identity events ' +
      '(other nonces); the two runs of a pair take turns going first. CPU µs per event, did:key → identity (medians): the main thread, the worker ' +
      'threads, and every thread but the main one (workers, V8 garbage collection and compilation).',
    '',
    '| setting | events/s, did:key → identity (medians) | identity / did:key | identity slower by | per round pair | main thread CPU µs/event | worker threads CPU µs/event | other threads CPU µs/event |',
    '| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |',
    ...ratios.map(
      (r) =>
        `| ${r.setting} | ${Math.round(r.eventsPerSec.didKey).toLocaleString('en')} → ${Math.round(r.eventsPerSec.identity).toLocaleString('en')} | ${r.ratio.toFixed(3)} | ${((1 - r.ratio) * 100).toFixed(1)}% | ${r.pairs.map((p) => p.toFixed(3)).join(', ')} | ` +
        `${arrow(r.mainCpuUs)} | ${arrow(r.workerCpuUs)} | ${arrow(r.otherCpuUs)} |`,
    ),
    '',
    ...(pooled.length === 0
      ? []
      : [
          `All ${pooled.length} round pairs of every setting (each identity run over its did:key run): ` +
            `median ${median(pooled).toFixed(3)}, middle half ${quartile(0.25).toFixed(3)}–${quartile(0.75).toFixed(3)}. ` +
            'The target line takes the worst of the settings’ medians.',
          '',
        ]),
    `${met ? 'PASS' : 'MISS'}  identity events at most ${IDENTITY_MAX_SLOWDOWN * 100}% slower than did:key events in the same run: ` +
      `${met ? 'met' : 'NOT met'} (worst ratio ${worst.toFixed(3)}, target ≥ ${(1 - IDENTITY_MAX_SLOWDOWN).toFixed(2)}).`,
  ];
}
