export { DB_FILE } from './db.js';
export * from './errors.js';
export { APPLICATION_ID, type Migration, MIGRATIONS, migrate, SCHEMA_VERSION } from './schema.js';
export { type ReplayRecord, replayKey, Store, type StoredEvent, type StoreOptions } from './store.js';
