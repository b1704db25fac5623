/** @commons-sync/node: the validator node as a library (the CLI is `commons-sync`). */
export { CommonsNode, initDataDir, openNode, verifyAudit, type NodeOptions, KEY_FILE } from './node.js';
export { startApiServer, type ApiServer, type ApiServerOptions } from './api/server.js';
export type { NodeService, IngestResult, CheckpointJson, AuditProofJson, HealthJson } from './service.js';
export * as protocol from './protocol/index.js';
export { VerifyPool } from './pipeline/verify-pool.js';
export { CommonsSyncError, ConfigError, StorageError, KeyFileError } from './errors.js';
