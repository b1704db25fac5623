/**
 * The keys layer's errors, in one place: each stable code is a class, so the code that throws
 * one and the code that catches it share the class (`instanceof`, or the class's static
 * `code`), never a string literal. The families (`KeystoreError`, `FernetTokenError`, and the
 * node's `StorageError`, `KeyFileError` and `ConfigError`) stay the parents, so a caller may
 * catch a whole family.
 */
import { CommonsSyncError, ConfigError, KeyFileError, StorageError } from '../errors.js';

/** Stable codes of {@link KeystoreError}. */
export type KeystoreErrorCode =
  /** No key with that handle or label (or it was destroyed). */
  | 'ERR_KEY_NOT_FOUND'
  /** A key with that label already exists. */
  | 'ERR_KEY_EXISTS'
  /** A label that is empty, too long, or has characters outside [A-Za-z0-9._-]. */
  | 'ERR_KEY_LABEL'
  /** The backend never hands out key material (an HSM, a KMS). */
  | 'ERR_KEY_NOT_EXPORTABLE'
  /** The backend cannot take key material in (an HSM here: keys are born inside it). */
  | 'ERR_KEY_NOT_IMPORTABLE'
  /** The keystore was closed. */
  | 'ERR_KEYSTORE_CLOSED'
  /** A `--keystore` value that cannot be parsed. */
  | 'ERR_KEYSTORE_SPEC'
  /** The backend cannot be reached or loaded (a missing PKCS#11 module or binding). */
  | 'ERR_KEYSTORE_UNAVAILABLE'
  /** A message to sign that is empty or not a Uint8Array (PKCS#11 modules refuse empty data). */
  | 'ERR_KEY_MESSAGE'
  /** A key the backend holds is not an Ed25519 key of the expected shape. */
  | 'ERR_KEY_TYPE'
  /** The token refused the PIN. */
  | 'ERR_PKCS11_PIN'
  /** No token with that label (or several: labels must be unique). */
  | 'ERR_PKCS11_TOKEN'
  /** Any other failure the PKCS#11 module reports (its CKR_ name is in the message). */
  | 'ERR_PKCS11';

/** A keystore refused or failed an operation; `code` says which way. */
export class KeystoreError extends CommonsSyncError {
  declare readonly code: KeystoreErrorCode;

  constructor(code: KeystoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** No key with that handle or label (or it was destroyed). */
export class KeyNotFoundError extends KeystoreError {
  static readonly code = 'ERR_KEY_NOT_FOUND';
  constructor(message: string, options?: { cause?: unknown }) {
    super(KeyNotFoundError.code, message, options);
  }
}

/** A key with that label already exists. */
export class KeyExistsError extends KeystoreError {
  static readonly code = 'ERR_KEY_EXISTS';
  constructor(message: string, options?: { cause?: unknown }) {
    super(KeyExistsError.code, message, options);
  }
}

/** A label that is empty, too long, or has characters outside [A-Za-z0-9._-]. */
export class KeyLabelError extends KeystoreError {
  static readonly code = 'ERR_KEY_LABEL';
  constructor(message: string, options?: { cause?: unknown }) {
    super(KeyLabelError.code, message, options);
  }
}

/** The backend never hands out key material (an HSM, a KMS). */
export class KeyNotExportableError extends KeystoreError {
  static readonly code = 'ERR_KEY_NOT_EXPORTABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(KeyNotExportableError.code, message, options);
  }
}

/** The backend cannot take key material in (an HSM here: keys are born inside it). */
export class KeyNotImportableError extends KeystoreError {
  static readonly code = 'ERR_KEY_NOT_IMPORTABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(KeyNotImportableError.code, message, options);
  }
}

/** The keystore was closed. */
export class KeystoreClosedError extends KeystoreError {
  static readonly code = 'ERR_KEYSTORE_CLOSED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(KeystoreClosedError.code, message, options);
  }
}

/** A `--keystore` value that cannot be parsed. */
export class KeystoreSpecError extends KeystoreError {
  static readonly code = 'ERR_KEYSTORE_SPEC';
  constructor(message: string, options?: { cause?: unknown }) {
    super(KeystoreSpecError.code, message, options);
  }
}

/** The backend cannot be reached or loaded (a missing PKCS#11 module or binding). */
export class KeystoreUnavailableError extends KeystoreError {
  static readonly code = 'ERR_KEYSTORE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(KeystoreUnavailableError.code, message, options);
  }
}

/** A message to sign that is empty or not a Uint8Array (PKCS#11 modules refuse empty data). */
export class KeyMessageError extends KeystoreError {
  static readonly code = 'ERR_KEY_MESSAGE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(KeyMessageError.code, message, options);
  }
}

/** A key the backend holds is not an Ed25519 key of the expected shape. */
export class KeyTypeError extends KeystoreError {
  static readonly code = 'ERR_KEY_TYPE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(KeyTypeError.code, message, options);
  }
}

/** The token refused the PIN. */
export class Pkcs11PinError extends KeystoreError {
  static readonly code = 'ERR_PKCS11_PIN';
  constructor(message: string, options?: { cause?: unknown }) {
    super(Pkcs11PinError.code, message, options);
  }
}

/** No token with that label (or several: labels must be unique). */
export class Pkcs11TokenError extends KeystoreError {
  static readonly code = 'ERR_PKCS11_TOKEN';
  constructor(message: string, options?: { cause?: unknown }) {
    super(Pkcs11TokenError.code, message, options);
  }
}

/** Any other failure the PKCS#11 module reports (its CKR_ name is in the message). */
export class Pkcs11Error extends KeystoreError {
  static readonly code = 'ERR_PKCS11';
  constructor(message: string, options?: { cause?: unknown }) {
    super(Pkcs11Error.code, message, options);
  }
}

/** A secret (passphrase or PIN) a keystore needs and no one supplied. */
export class KeystoreSecretError extends CommonsSyncError {
  static readonly code = 'ERR_KEYSTORE_SECRET';
  constructor(message: string) {
    super(KeystoreSecretError.code, message);
  }
}

/** A Fernet key that is not 32 bytes, or not canonical padded base64url of 32 bytes. */
export class FernetKeyError extends CommonsSyncError {
  static readonly code = 'ERR_FERNET_KEY';
  constructor(message: string) {
    super(FernetKeyError.code, message);
  }
}

/** Stable codes of {@link FernetTokenError}. */
export type FernetTokenErrorCode =
  /** Not canonical padded base64url, or a length the format cannot have. */
  | 'ERR_FERNET_MALFORMED'
  /** First byte is not 0x80. */
  | 'ERR_FERNET_VERSION'
  /** The HMAC does not match: wrong key, or the token was altered. */
  | 'ERR_FERNET_MAC'
  /** Authentic token whose plaintext padding is invalid (made with the key, but not by Fernet). */
  | 'ERR_FERNET_PADDING'
  /** Authentic token older than the TTL allows. */
  | 'ERR_FERNET_EXPIRED'
  /** Authentic token stamped further in the future than the allowed clock skew. */
  | 'ERR_FERNET_FUTURE';

/** A token that does not decrypt; `code` says why. */
export class FernetTokenError extends CommonsSyncError {
  declare readonly code: FernetTokenErrorCode;

  constructor(code: FernetTokenErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Not canonical padded base64url, or a length the format cannot have. */
export class FernetMalformedError extends FernetTokenError {
  static readonly code = 'ERR_FERNET_MALFORMED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(FernetMalformedError.code, message, options);
  }
}

/** First byte is not 0x80. */
export class FernetVersionError extends FernetTokenError {
  static readonly code = 'ERR_FERNET_VERSION';
  constructor(message: string, options?: { cause?: unknown }) {
    super(FernetVersionError.code, message, options);
  }
}

/** The HMAC does not match: wrong key, or the token was altered. */
export class FernetMacError extends FernetTokenError {
  static readonly code = 'ERR_FERNET_MAC';
  constructor(message: string, options?: { cause?: unknown }) {
    super(FernetMacError.code, message, options);
  }
}

/** Authentic token whose plaintext padding is invalid (made with the key, but not by Fernet). */
export class FernetPaddingError extends FernetTokenError {
  static readonly code = 'ERR_FERNET_PADDING';
  constructor(message: string, options?: { cause?: unknown }) {
    super(FernetPaddingError.code, message, options);
  }
}

/** Authentic token older than the TTL allows. */
export class FernetExpiredError extends FernetTokenError {
  static readonly code = 'ERR_FERNET_EXPIRED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(FernetExpiredError.code, message, options);
  }
}

/** Authentic token stamped further in the future than the allowed clock skew. */
export class FernetFutureError extends FernetTokenError {
  static readonly code = 'ERR_FERNET_FUTURE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(FernetFutureError.code, message, options);
  }
}

/** A key file (or the vault folder) that cannot be read. */
export class KeyFileReadError extends StorageError {
  static readonly code = 'ERR_KEYFILE_READ';
  constructor(message: string, options?: { cause?: unknown }) {
    super(KeyFileReadError.code, message, options);
  }
}

/** A key file that cannot be written, synced or removed. */
export class KeyFileWriteError extends StorageError {
  static readonly code = 'ERR_KEYFILE_WRITE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(KeyFileWriteError.code, message, options);
  }
}

/** A key file that already exists where a new one was to be written. */
export class KeyFileExistsError extends StorageError {
  static readonly code = 'ERR_KEYFILE_EXISTS';
  constructor(message: string, options?: { cause?: unknown }) {
    super(KeyFileExistsError.code, message, options);
  }
}

/** A file that is not a key file (or keystore record) of a known format. */
export class KeyFileFormatError extends StorageError {
  static readonly code = 'ERR_KEYFILE_FORMAT';
  constructor(message: string, options?: { cause?: unknown }) {
    super(KeyFileFormatError.code, message, options);
  }
}

/** Scrypt parameters out of the accepted range, or scrypt itself failed. */
export class KeyFileKdfError extends StorageError {
  static readonly code = 'ERR_KEYFILE_KDF';
  constructor(message: string, options?: { cause?: unknown }) {
    super(KeyFileKdfError.code, message, options);
  }
}

/** A passphrase that does not open the key file. */
export class KeyFilePassphraseError extends KeyFileError {
  static readonly code = 'ERR_KEYFILE_PASSPHRASE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(KeyFilePassphraseError.code, message, options);
  }
}

/** A key file that opens but was altered (its public key or DID does not match its seed). */
export class KeyFileAlteredError extends KeyFileError {
  static readonly code = 'ERR_KEYFILE_ALTERED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(KeyFileAlteredError.code, message, options);
  }
}

/** A key used after `dispose()`. */
export class KeyDisposedError extends KeyFileError {
  static readonly code = 'ERR_KEY_DISPOSED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(KeyDisposedError.code, message, options);
  }
}

/** A seed that is not 32 bytes. */
export class KeySeedError extends ConfigError {
  static readonly code = 'ERR_KEY_SEED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(KeySeedError.code, message, options);
  }
}

/** An empty passphrase. */
export class PassphraseEmptyError extends ConfigError {
  static readonly code = 'ERR_PASSPHRASE_EMPTY';
  constructor(message: string, options?: { cause?: unknown }) {
    super(PassphraseEmptyError.code, message, options);
  }
}

/** No passphrase was given and there is no terminal to ask for one. */
export class PassphraseUnavailableError extends ConfigError {
  static readonly code = 'ERR_PASSPHRASE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(PassphraseUnavailableError.code, message, options);
  }
}

/** Passphrase entry was aborted (Ctrl-C or Ctrl-D). */
export class PassphraseAbortedError extends ConfigError {
  static readonly code = 'ERR_PASSPHRASE_ABORTED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(PassphraseAbortedError.code, message, options);
  }
}
