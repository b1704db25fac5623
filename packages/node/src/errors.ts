/**
 * Typed errors of the node. Every error carries a stable `code` (`ERR_...`) that callers
 * match on; messages are for people and may change.
 */
export class CommonsSyncError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Configuration or command-line input that cannot be used. */
export class ConfigError extends CommonsSyncError {}

/** A data directory, key file or database that is missing, unreadable or corrupt. */
export class StorageError extends CommonsSyncError {}

/** A passphrase that does not open a key file, or a key file that was altered. */
export class KeyFileError extends CommonsSyncError {}
