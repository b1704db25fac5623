/** @commons-sync/node: the validator node as a library (the CLI is `commons-sync`). */

export { type ApiServer, type ApiServerOptions, startApiServer } from './api/server.js';
export { CommonsSyncError, ConfigError, KeyFileError, StorageError } from './errors.js';
export * as net from './net/index.js';
export {
  CommonsNode,
  initDataDir,
  KEY_FILE,
  type NodeOptions,
  openNode,
  readEventReceipts,
  verifyAudit,
} from './node.js';
export { VerifyPool } from './pipeline/verify-pool.js';
export * as protocol from './protocol/index.js';
export type {
  AuditProofJson,
  CheckpointJson,
  HealthJson,
  IngestResult,
  NodeService,
} from './service.js';
