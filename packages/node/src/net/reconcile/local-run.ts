/**
 * Runs a whole reconciliation between two storages in one process: the transcript, the
 * differences found, and what it cost. Used by the tests, the vector generator and the bench;
 * the node runs the same two halves across a connection.
 */
import {
  DEFAULT_RECONCILE_PARAMS,
  Initiator,
  type ReconcileParams,
  respond,
} from './reconciler.js';
import type { ReconcileStorage } from './storage.js';

export interface LocalRun {
  /** Every payload in order: initiator, responder, initiator, ... */
  readonly transcript: Uint8Array[];
  readonly have: Uint8Array[];
  readonly need: Uint8Array[];
  /** Initiator payloads sent (each answered once). */
  readonly roundTrips: number;
  readonly bytes: number;
}

export function reconcileLocally(
  initiatorSide: ReconcileStorage,
  responderSide: ReconcileStorage,
  params: ReconcileParams = DEFAULT_RECONCILE_PARAMS,
  maxRounds = 1000,
): LocalRun {
  const initiator = new Initiator(initiatorSide, params);
  const transcript: Uint8Array[] = [];
  const have: Uint8Array[] = [];
  const need: Uint8Array[] = [];
  let query: Uint8Array | null = initiator.start();
  let roundTrips = 0;
  while (query !== null) {
    if (++roundTrips > maxRounds)
      throw new Error(`reconciliation did not finish in ${maxRounds} rounds`);
    transcript.push(query);
    const reply = respond(responderSide, query, params);
    transcript.push(reply);
    const result = initiator.receive(reply);
    have.push(...result.have);
    need.push(...result.need);
    query = result.next;
  }
  return {
    transcript,
    have,
    need,
    roundTrips,
    bytes: transcript.reduce((n, p) => n + p.length, 0),
  };
}
