/**
 * Piscina worker. `default`: verifies one packed signature batch (one transferred ArrayBuffer
 * in, verdicts out). `prepare`: the stateless validation steps for a chunk of events (see
 * pipeline/prepare.ts), so that decoding and hashing run beside verification, off the main thread.
 */
import { loadCore } from '@commons-sync/bindings';

import { prepareChunk, type PreparedChunk, type PrepareTask } from '../pipeline/prepare.js';
import { type VerifyTask, unpackTask } from './task.js';

// native, else wasm, else js; COMMONS_SYNC_BACKEND forces one (the same rule as everywhere)
const core = await loadCore();

export default function verify(task: VerifyTask): Uint8Array {
  return core.ed25519VerifyBatchPacked(unpackTask(task));
}

export function prepare(task: PrepareTask): PreparedChunk {
  return prepareChunk(core, task.data, task.spans, task.ctx);
}

export const backend = core.backend;
