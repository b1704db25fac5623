/**
 * Through the real API server: a POST is answered only once the commit's WAL sync returned
 * (the sync runs off the main thread, storage/wal-sync.ts), a read of the event waits for it
 * too, the node goes on judging and committing while a sync is held, and a failed sync turns
 * into errors for its requests and every later write, never into an acknowledgment.
 */
import { loadCore } from '@commons-sync/bindings';
import { describe, expect, it } from 'vitest';
import {
  didKeyFromPublicKey,
  eventId,
  eventToJson,
  signEvent,
  toHex,
} from '../src/protocol/index.js';
import {
  arrayBody,
  fillerFactory,
  nodesClosedAfterEach,
  postBody,
  startHttpNode,
} from './http-fixtures.js';
import { heldSyncs } from './storage-fixtures.js';

const core = await loadCore();
const nodes = nodesClosedAfterEach();

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

/** A valid event's JSON text and its id (hex). */
function signedFiller(now: number): { text: Uint8Array; id: string } {
  const seed = core.sha256(new TextEncoder().encode('durable read'));
  const r = signEvent(
    core,
    {
      v: 1,
      kind: 'filler',
      author: didKeyFromPublicKey(core.ed25519PublicKey(seed)),
      createdAt: now - 10,
      expiresAt: now + 600,
      nonce: new Uint8Array(16).fill(7),
      payload: { read: true },
    },
    [seed],
  );
  if (!r.ok) throw new Error(r.reason);
  return {
    text: new TextEncoder().encode(JSON.stringify(eventToJson(r.value.event))),
    id: toHex(eventId(core, r.value)),
  };
}

describe('acknowledged means durable, with the sync off the main thread', () => {
  it('answers a POST and a GET of its event only after the sync returned', async () => {
    const syncs = heldSyncs();
    const node = await startHttpNode(core, { storeSync: syncs.dataSync });
    nodes.push(node);
    const events = fillerFactory(core, 'durable');
    const now = Math.floor(Date.now() / 1000);
    let answered = false;
    const post = postBody(node.url, arrayBody([events.event(now), events.event(now)])).then((r) => {
      answered = true;
      return r;
    });
    await until(() => syncs.count === 1); // committed, the sync running
    // the main thread is free: a second batch is judged and committed meanwhile
    const second = postBody(node.url, arrayBody([events.event(now)]));
    await new Promise((r) => setTimeout(r, 200));
    expect(answered).toBe(false);
    syncs.release();
    expect(await post).toEqual({ verdicts: ['accepted', 'accepted'], single: false });
    await until(() => syncs.count === 2); // the second batch's commit waits for the next sync
    syncs.release();
    expect(await second).toEqual({ verdicts: ['accepted'], single: false });
  });

  it('a read of an event waits until the event is durable', async () => {
    const syncs = heldSyncs();
    const node = await startHttpNode(core, { storeSync: syncs.dataSync });
    nodes.push(node);
    const now = Math.floor(Date.now() / 1000);
    const { text, id } = signedFiller(now);
    const post = postBody(node.url, arrayBody([text]));
    await until(() => syncs.count === 1); // stored, not yet durable
    let read: number | undefined;
    const get = fetch(`${node.url}/v1/events/${id}`).then((res) => {
      read = res.status;
      return res.json() as Promise<unknown>;
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(read).toBeUndefined();
    syncs.release();
    expect(await post).toEqual({ verdicts: ['accepted'], single: false });
    const shown = await get;
    expect(read).toBe(200);
    expect(shown).toEqual(JSON.parse(new TextDecoder().decode(text)));
  });

  it('a failed sync fails its requests and every later write, never acknowledging', async () => {
    const syncs = heldSyncs();
    const node = await startHttpNode(core, { storeSync: syncs.dataSync });
    nodes.push(node);
    const events = fillerFactory(core, 'eio');
    const now = Math.floor(Date.now() / 1000);
    const post = postBody(node.url, arrayBody([events.event(now)]));
    await until(() => syncs.count === 1);
    syncs.release(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    const failed = await post;
    expect(failed).toMatchObject({ status: 500 });
    const later = await postBody(node.url, arrayBody([events.event(now)]));
    expect(later).toMatchObject({ status: 500 });
  });
});
