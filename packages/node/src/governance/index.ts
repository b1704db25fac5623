/**
 * Governance (spec/GOVERNANCE.md): trust roots changed only by quorum, critical actions judged
 * against the root they name, and a web of trust that explains itself. Pure: no I/O, no clock
 * (times are passed in), identity states through a lookup. The node stores and replays what this
 * holds.
 */

export * from './actions.js';
export * from './chain.js';
export * from './governance.js';
export * from './proposal-json.js';
export * from './quorum.js';
export * from './reasons.js';
export * from './record.js';
export * from './record-json.js';
export * from './state.js';
export * from './trust.js';
export * from './trust-graph.js';
export * from './verify.js';
