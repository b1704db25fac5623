import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import Database from 'better-sqlite3';

import { StorageIoError, toStorageError } from './errors.js';
import { checkSchema, migrate } from './schema.js';

/** The database file inside a node's data directory. */
export const DB_FILE = 'commons-sync.db';

export interface OpenOptions {
  /** How long a statement waits for a lock held by another connection (default 5 s). */
  readonly busyTimeoutMs?: number;
  /** Open without writing: no migration, the schema must already be current. */
  readonly readonly?: boolean;
  /** Clock for `schema_migrations.applied_at` (Unix ms). */
  readonly now?: () => number;
  /**
   * `synchronous=OFF` instead of FULL, for building a new store in bulk (`bulk-load.ts`): a
   * commit is not on disk when it returns, and a power cut may lose or damage the database.
   * Never for a node's own connection.
   */
  readonly unsynchronized?: boolean;
}

/**
 * Opens (creating if needed) the database of a data directory with the settings durability
 * depends on: WAL journal with `synchronous=FULL`, so a commit that returned is on disk even
 * after a power cut (WAL with NORMAL would only survive a process crash). Migrates the schema,
 * or in read-only mode checks it. SQLite failures come out as typed storage errors.
 */
export function openDatabase(dir: string, options: OpenOptions = {}): Database.Database {
  const path = join(dir, DB_FILE);
  let db: Database.Database | undefined;
  try {
    if (options.readonly === true) {
      db = new Database(path, {
        readonly: true,
        fileMustExist: true,
        timeout: options.busyTimeoutMs ?? 5000,
      });
      checkSchema(db);
      return db;
    }
    mkdirSync(dir, { recursive: true });
    db = new Database(path, { timeout: options.busyTimeoutMs ?? 5000 });
    const mode = db.pragma('journal_mode = WAL', { simple: true }) as string;
    if (mode !== 'wal') {
      throw new StorageIoError(`${path}: SQLite refused WAL mode (got ${mode})`);
    }
    db.pragma(options.unsynchronized === true ? 'synchronous = OFF' : 'synchronous = FULL');
    // Bigger page cache than the 2 MB default: the id and replay indexes take random inserts.
    db.pragma('cache_size = -32768');
    // Each 1,000-event commit dirties ~1,000 pages of those indexes, so the default automatic
    // checkpoint (1,000 pages) ran after every commit and wrote each page back every time.
    // Checkpointing every 16,384 pages (64 MiB of WAL) writes a page once for many commits;
    // the WAL file is truncated back to 64 MiB after a checkpoint. A node's store checkpoints
    // on a thread of its own and keeps this one as the backstop (checkpointer.ts).
    db.pragma('wal_autocheckpoint = 16384');
    db.pragma('journal_size_limit = 67108864');
    migrate(db, undefined, options.now);
    return db;
  } catch (error) {
    db?.close();
    throw toStorageError(error, `cannot open ${path}`);
  }
}
