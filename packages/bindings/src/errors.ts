/** Base class of the errors this package throws; `code` is stable, the message is not. */
export class BindingsError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The requested backend cannot be loaded here; the message names what is missing. */
export class BackendUnavailableError extends BindingsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_BACKEND_UNAVAILABLE', message, options);
  }
}

/** A signing seed that is not a 32-byte Uint8Array. */
export class InvalidSeedError extends BindingsError {
  constructor(message: string) {
    super('ERR_INVALID_SEED_LENGTH', message);
  }
}

/** Packed buffers whose sizes or offsets do not fit together. */
export class BatchLayoutError extends BindingsError {
  constructor(message: string) {
    super('ERR_BATCH_LAYOUT', message);
  }
}

/** A hash algorithm name other than sha256, sha512 or blake3. */
export class UnknownAlgorithmError extends BindingsError {
  constructor(name: unknown) {
    super(
      'ERR_UNKNOWN_ALGORITHM',
      `unknown hash algorithm ${String(name)} (sha256, sha512, blake3)`,
    );
  }
}

/** An invalid `backend` option or `COMMONS_SYNC_BACKEND` value. */
export class InvalidBackendError extends BindingsError {
  constructor(name: unknown) {
    super('ERR_INVALID_BACKEND', `unknown backend ${JSON.stringify(name)} (native, wasm, js)`);
  }
}

/**
 * A Shamir split or combination that was refused; `code` says why (`ERR_SHAMIR_PARAMS`,
 * `ERR_SHAMIR_FORMAT`, `ERR_SHAMIR_VERSION`, `ERR_SHAMIR_CHECKSUM`, `ERR_SHAMIR_MISMATCH`,
 * `ERR_SHAMIR_DUPLICATE_INDEX`, `ERR_SHAMIR_TOO_FEW`, or `ERR_RANDOMNESS`).
 */
export class ShamirError extends BindingsError {}
