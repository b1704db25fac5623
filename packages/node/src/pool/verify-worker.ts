/**
 * Piscina worker: verifies one packed signature batch with the crypto core. The batch arrives
 * as one transferred ArrayBuffer (no per-item copies) and the verdicts go back the same way.
 */
import { loadCore } from '@commons-sync/bindings';

import { type VerifyTask, unpackTask } from './task.js';

// native, else wasm, else js; COMMONS_SYNC_BACKEND forces one (the same rule as everywhere)
const core = await loadCore();

export default function verify(task: VerifyTask): Uint8Array {
  return core.ed25519VerifyBatchPacked(unpackTask(task));
}

export const backend = core.backend;
