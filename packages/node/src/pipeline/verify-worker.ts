/**
 * The body of the pipeline's workers (run by the generic pool/worker-pool.ts). `default`:
 * verifies one packed signature batch (one transferred ArrayBuffer in, verdicts out).
 * `prepare`: the stateless validation steps for a chunk of events (prepare.ts), so that
 * decoding and hashing run beside verification, off the main thread.
 */
import { loadCore } from '@commons-sync/bindings';

import { type PreparedChunk, type PrepareTask, prepareChunk } from './prepare.js';
import { unpackTask, type VerifyTask } from './signature-task.js';

// native, else wasm, else js; COMMONS_SYNC_BACKEND forces one (the same rule as everywhere)
const core = await loadCore();

export default function verify(task: VerifyTask): Uint8Array {
  return core.ed25519VerifyBatchPacked(unpackTask(task));
}

export function prepare(task: PrepareTask): PreparedChunk {
  return prepareChunk(core, task.data, task.spans, task.ctx);
}

export const backend = core.backend;

/** The URL of the module the worker runs (a test holds it to the source under vitest). */
export function moduleUrl(): string {
  return import.meta.url;
}
