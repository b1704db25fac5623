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

/** A data directory that holds no node (no identity, no key file). */
export class NoDataDirError extends ConfigError {
  static readonly code = 'ERR_NO_DATA_DIR';
  constructor(message: string) {
    super(NoDataDirError.code, message);
  }
}

// The errors of the node service (service.ts's NodeService): thrown by the node (node.ts),
// caught by the shells that serve it (api/routes.ts maps them to HTTP answers).

/** Too many events are being validated: retry later (HTTP 429). */
export class OverloadedError extends CommonsSyncError {
  static readonly code = 'ERR_OVERLOADED';
  constructor(message: string) {
    super(OverloadedError.code, message);
  }
}

/** The node is stopping and takes no more work (HTTP 503). */
export class ShuttingDownError extends CommonsSyncError {
  static readonly code = 'ERR_SHUTTING_DOWN';
  constructor(message: string) {
    super(ShuttingDownError.code, message);
  }
}

/** A range outside the log, such as a consistency proof from a size above the log's (HTTP 400). */
export class BadRangeError extends CommonsSyncError {
  static readonly code = 'ERR_BAD_RANGE';
  constructor(message: string) {
    super(BadRangeError.code, message);
  }
}

/** A stored event that no longer decodes (`commons-sync audit verify` names the row). */
export class CorruptEventError extends CommonsSyncError {
  static readonly code = 'ERR_CORRUPT_EVENT';
  constructor(message: string) {
    super(CorruptEventError.code, message);
  }
}

/**
 * A stored event that a later key event invalidated (spec/IDENTITY.md §8): kept as evidence,
 * valid nowhere (HTTP 410). `reason` is the ERR_KEL_ code, `keyEvent` the key event's hex id.
 */
export class InvalidatedEventError extends CommonsSyncError {
  static readonly code = 'ERR_EVENT_INVALIDATED';
  constructor(
    message: string,
    readonly reason: string,
    readonly keyEvent: string | null,
  ) {
    super(InvalidatedEventError.code, message);
  }
}

/** More governance records than the node takes per second (the API answers 429). */
export class GovernanceRateError extends CommonsSyncError {
  static readonly code = 'ERR_GOV_RATE';
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number) {
    super(GovernanceRateError.code, message);
    this.retryAfterMs = retryAfterMs;
  }
}

/** The trust root a node was given cannot govern it (unreadable, unsigned, not a root...). */
export class GovernanceRootError extends ConfigError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}
