import { StorageError } from '../errors.js';

/** The database was written by a newer version of the node; opening it could damage it. */
export class SchemaTooNewError extends StorageError {
  static readonly code = 'ERR_SCHEMA_TOO_NEW';
  readonly found: number;
  readonly supported: number;

  constructor(found: number, supported: number) {
    super(
      SchemaTooNewError.code,
      `the database has schema version ${found}, this node knows versions up to ${supported}; ` +
        'upgrade the node',
    );
    this.found = found;
    this.supported = supported;
  }
}

/** The file is not a SQLite database, or SQLite reports damage inside it. */
export class CorruptDatabaseError extends StorageError {
  static readonly code = 'ERR_DB_CORRUPT';
  constructor(message: string, options?: { cause?: unknown }) {
    super(CorruptDatabaseError.code, message, options);
  }
}

/** A SQLite database that belongs to some other program. */
export class ForeignDatabaseError extends StorageError {
  static readonly code = 'ERR_DB_FOREIGN';
  constructor(message: string) {
    super(ForeignDatabaseError.code, message);
  }
}

/** A schema migration failed; the database was left at the version before it. */
export class MigrationError extends StorageError {
  static readonly code = 'ERR_MIGRATION_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(MigrationError.code, message, options);
  }
}

/** The store was used after `close()`. */
export class StoreClosedError extends StorageError {
  static readonly code = 'ERR_STORE_CLOSED';
  constructor() {
    super(StoreClosedError.code, 'the store is closed');
  }
}

/** A commit held an event id that is already stored (or twice); nothing was written. */
export class DuplicateEventError extends StorageError {
  static readonly code = 'ERR_DUPLICATE_EVENT';
  constructor(message: string, options?: { cause?: unknown }) {
    super(DuplicateEventError.code, message, options);
  }
}

/** A commit reused a live (author, nonce) pair; nothing was written. */
export class ReplayConflictError extends StorageError {
  static readonly code = 'ERR_REPLAY_CONFLICT';
  constructor(message: string) {
    super(ReplayConflictError.code, message);
  }
}

/**
 * Another connection wrote to the database behind this store's back (two nodes on one data
 * directory); the in-memory audit state no longer matches the disk, so the store refuses.
 */
export class ConcurrentWriterError extends StorageError {
  static readonly code = 'ERR_CONCURRENT_WRITER';
  constructor(message: string) {
    super(ConcurrentWriterError.code, message);
  }
}

/**
 * The log grew while a checkpoint was being signed (an asynchronous signer, commits going on):
 * its entry could no longer be entry `tree_size` (spec/AUDIT.md §5.2), so nothing was stored.
 * Sign again at the new size.
 */
export class CheckpointOutdatedError extends StorageError {
  static readonly code = 'ERR_CHECKPOINT_OUTDATED';
  constructor(message: string) {
    super(CheckpointOutdatedError.code, message);
  }
}

/** Reading or writing the database failed for a reason other than the ones above. */
export class StorageIoError extends StorageError {
  static readonly code = 'ERR_STORAGE_IO';
  constructor(message: string, options?: { cause?: unknown }) {
    super(StorageIoError.code, message, options);
  }
}

const CORRUPT_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CORRUPT_INDEX']);

function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Maps an error thrown by better-sqlite3 to a typed storage error (others pass through). */
export function toStorageError(error: unknown, what: string): unknown {
  if (error instanceof StorageError) return error;
  const code = sqliteCode(error);
  if (code === undefined || !code.startsWith('SQLITE_')) return error;
  const message = `${what}: ${error instanceof Error ? error.message : String(error)} (${code})`;
  if (CORRUPT_CODES.has(code) || code.startsWith('SQLITE_CORRUPT')) {
    return new CorruptDatabaseError(message, { cause: error });
  }
  return new StorageIoError(message, { cause: error });
}

export function isConstraintError(error: unknown): boolean {
  return sqliteCode(error)?.startsWith('SQLITE_CONSTRAINT') === true;
}

/**
 * What the store derives from its accepted events (replay records, the id index, the
 * checkpoint chain) disagrees with them in a way the node cannot safely repair: it refuses to
 * start; `commons-sync audit verify` names the first bad row.
 */
export class StoreInconsistentError extends StorageError {
  static readonly code = 'ERR_STORE_INCONSISTENT';
  constructor(message: string) {
    super(StoreInconsistentError.code, message);
  }
}
