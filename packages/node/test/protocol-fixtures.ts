/** Shared helpers of the protocol tests: a crypto core, fixed keys, and valid events. */
import { loadCore } from '@commons-sync/bindings';

import {
  type DecodedEvent,
  didKeyFromPublicKey,
  type EventBody,
  makePolicy,
  type Payload,
  signEvent,
} from '../src/protocol/index.js';

export const core = await loadCore({ backend: 'js' });
export const NOW = 1_767_225_600;

export interface TestKey {
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly did: string;
}

export function testKey(label: string): TestKey {
  const seed = core.sha256(new TextEncoder().encode(`protocol-tests/${label}`));
  const publicKey = core.ed25519PublicKey(seed);
  return { seed, publicKey, did: didKeyFromPublicKey(publicKey) };
}

export const alice = testKey('alice');
export const bob = testKey('bob');
export const carol = testKey('carol');

let counter = 0;
export function freshNonce(): Uint8Array {
  return core.sha256(new TextEncoder().encode(`nonce/${counter++}`)).slice(0, 16);
}

export function bodyOf(over: Partial<EventBody> = {}): EventBody {
  return {
    v: 1,
    kind: 'note',
    author: alice.did,
    createdAt: NOW - 60,
    expiresAt: NOW + 3600,
    nonce: freshNonce(),
    payload: { text: 'hello' } as Payload,
    ...over,
  };
}

/** A valid event signed by `keys` (alice alone by default); fails the test if it is not. */
export function validEvent(over: Partial<EventBody> = {}, keys: TestKey[] = [alice]): DecodedEvent {
  const result = signEvent(
    core,
    bodyOf(over),
    keys.map((k) => k.seed),
  );
  if (!result.ok) throw new Error(`fixture event invalid: ${result.reason} ${result.detail}`);
  return result.value;
}

/** 2-of-[alice, bob, carol], signed by alice and bob. */
export function multiSigEvent(): DecodedEvent {
  return validEvent({ policy: makePolicy(alice.did, 2, [bob.did, carol.did]) }, [alice, bob]);
}
