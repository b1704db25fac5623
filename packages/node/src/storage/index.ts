export { DB_FILE } from './db.js';
export * from './errors.js';
export { APPLICATION_ID, type Migration, MIGRATIONS, migrate, SCHEMA_VERSION } from './schema.js';
export { type ReplayRecord, replayKey, Store, type StoredEvent, type StoreOptions } from './store.js';
export { AuditLog, type NewAuditEntry, type StagedAppend } from './audit-log.js';
export { verifyAuditData } from './verify-audit-data.js';
