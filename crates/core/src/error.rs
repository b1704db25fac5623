use core::fmt;

/// Everything that can go wrong in the core. A signature that fails to verify is not an
/// error (verification returns `false`); these are misuse of the API.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A secret seed was not exactly 32 bytes long.
    InvalidSeedLength {
        /// The length that was given.
        got: usize,
    },
    /// A packed batch is not laid out as documented (buffer sizes, offsets).
    BatchLayout(&'static str),
    /// The output buffer of a batch call has the wrong size.
    OutputLength {
        /// The length the call needs.
        expected: usize,
        /// The length that was given.
        got: usize,
    },
    /// The random source failed; batch verification refuses to run with weak coefficients.
    Randomness,
    /// A hash algorithm name other than `sha256`, `sha512` or `blake3`.
    UnknownAlgorithm,
}

impl Error {
    /// A stable, machine-readable code, carried across the N-API and WebAssembly boundaries.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidSeedLength { .. } => "ERR_INVALID_SEED_LENGTH",
            Error::BatchLayout(_) => "ERR_BATCH_LAYOUT",
            Error::OutputLength { .. } => "ERR_OUTPUT_LENGTH",
            Error::Randomness => "ERR_RANDOMNESS",
            Error::UnknownAlgorithm => "ERR_UNKNOWN_ALGORITHM",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidSeedLength { got } => {
                write!(f, "an Ed25519 seed must be 32 bytes, got {got}")
            }
            Error::BatchLayout(what) => write!(f, "malformed packed batch: {what}"),
            Error::OutputLength { expected, got } => {
                write!(f, "output buffer must be {expected} bytes, got {got}")
            }
            Error::Randomness => f.write_str("the random number generator failed"),
            Error::UnknownAlgorithm => {
                f.write_str("unknown hash algorithm (sha256, sha512, blake3)")
            }
        }
    }
}

impl std::error::Error for Error {}
