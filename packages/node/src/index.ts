/** @commons-sync/node: the validator node as a library (the CLI is `commons-sync`). */

export { type ApiServer, type ApiServerOptions, startApiServer } from './api/server.js';
export {
  type BulkEvent,
  BulkLoadBatchError,
  BulkLoader,
  type BulkLoadOptions,
  BulkLoadTargetError,
} from './bulk-load.js';
export {
  CommonsSyncError,
  ConfigError,
  InvalidatedEventError,
  KeyFileError,
  StorageError,
} from './errors.js';
export * as identity from './identity/index.js';
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
export {
  type NodeKeyRotationResult,
  type RotateNodeKeyOptions,
  rotateNodeKey,
} from './node-key-rotation.js';
export {
  defaultWorkerThreads,
  packChecks,
  VerifyPool,
  type VerifyTask,
} from './pipeline/verify-pool.js';
export * as protocol from './protocol/index.js';
export type {
  AuditProofJson,
  CheckpointJson,
  HealthJson,
  IdentityJson,
  IdentityService,
  IngestResult,
  KeyEventResult,
  NodeService,
} from './service.js';
