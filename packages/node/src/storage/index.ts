export { AuditLog, type NewAuditEntry, type StagedAppend } from './audit-log.js';
export type { CheckpointerOptions, CheckpointStats, RoundRunner } from './checkpointer.js';
export { DB_FILE } from './db.js';
export * from './errors.js';
export type {
  GovernanceRow,
  GovernanceWrites,
  TrustStanding,
  TrustStandingChange,
} from './governance-table.js';
export type {
  IdentityEventRow,
  IdentityInvalidation,
  IdentityStanding,
  IdentityWrites,
  KeyEventRow,
  StandingChange,
} from './identity-tables.js';
export { APPLICATION_ID, MIGRATIONS, type Migration, migrate, SCHEMA_VERSION } from './schema.js';
export {
  type CommitExtras,
  type ReplayRecord,
  replayKey,
  Store,
  type StoredEvent,
  type StoreOptions,
} from './store.js';
export type { ConflictEvidence, SyncRow } from './sync-records.js';
export { verifyAuditData } from './verify-audit-data.js';
export type { DataSync } from './wal-sync.js';
