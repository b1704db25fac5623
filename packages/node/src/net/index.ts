/**
 * The network layer (spec/SYNC.md): wire format, reconciliation, the sans-I/O sync engine, the
 * TLS transport that runs it, and the deterministic simulator that tests it.
 */

export { CheckpointWatch, evidenceJson, type SplitViewEvidence } from './engine/checkpoints.js';
export * from './engine/config.js';
export * from './engine/engine.js';
export * from './engine/judge.js';
export * from './engine/partials.js';
export * from './engine/sync-items.js';
export * from './engine/types.js';
export * from './errors.js';
export * from './local-cluster.js';
export * from './memory-node.js';
export * from './networked-service.js';
export * from './node-network.js';
export * from './reconcile/codec.js';
export * from './reconcile/fingerprint.js';
export * from './reconcile/items.js';
export * from './reconcile/local-run.js';
export * from './reconcile/reconciler.js';
export * from './reconcile/storage.js';
export * from './reconcile/sync-index.js';
export {
  DEFAULT_SIM_OPTIONS,
  SIM_ENGINE_CONFIG,
  type SimOptions,
  type SimReport,
  Simulation,
  SimViolation,
} from './sim/world.js';
export * from './transport/binding.js';
export * from './transport/peer-host.js';
export * from './transport/tls-options.js';
export * from './wire/frame.js';
export * from './wire/messages.js';
