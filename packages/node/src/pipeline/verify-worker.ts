/**
 * The body of the pipeline's workers (run by the generic pool/worker-pool.ts). `default`:
 * verifies one packed signature batch (one transferred ArrayBuffer in, verdicts out).
 * `prepare`: the stateless validation steps for a chunk of events (prepare.ts), so that
 * decoding and hashing run beside verification, off the main thread; its results come back as
 * one transferred buffer that the pool unpacks (`unpackChunk`).
 */
import { loadCore } from '@commons-sync/bindings';
import { Piscina } from 'piscina';

import { type PackedChunk, type PrepareTask, preparePacked } from './prepare.js';
import { unpackTask, type VerifyTask } from './signature-task.js';

// native, else wasm, else js; COMMONS_SYNC_BACKEND forces one (the same rule as everywhere)
const core = await loadCore();

export default function verify(task: VerifyTask): Uint8Array {
  return core.ed25519VerifyBatchPacked(unpackTask(task));
}

/** The chunk's results cross back as one transferred buffer (and their strings), not cloned. */
export function prepare(task: PrepareTask): PackedChunk {
  const packed = preparePacked(core, task.data, task.spans, task.ctx);
  // piscina's transferable shape: what to transfer, and the value to send
  const movable = {
    [Piscina.transferableSymbol]: [packed.buffer],
    [Piscina.valueSymbol]: packed,
  } as unknown as Parameters<typeof Piscina.move>[0];
  return Piscina.move(movable) as unknown as PackedChunk;
}

export const backend = core.backend;

/** The URL of the module the worker runs (a test holds it to the source under vitest). */
export function moduleUrl(): string {
  return import.meta.url;
}
