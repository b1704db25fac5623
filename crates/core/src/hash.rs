//! SHA-256, SHA-512 and BLAKE3, for one message or for many in one call.
//!
//! The batch form takes the messages packed into one buffer with `n + 1` offsets
//! (message `i` is `data[offsets[i]..offsets[i + 1]]`) and writes the `n` digests back to back,
//! so that hashing ten thousand small messages costs one crossing of the JS boundary.
//! `sha2` and `blake3` pick SHA-NI, AVX2 or AVX-512 at run time where the CPU has them.

use sha2::Digest;

use crate::Error;

/// A hash function the core offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    /// SHA-256 (FIPS 180-4), 32-byte digests.
    Sha256,
    /// SHA-512 (FIPS 180-4), 64-byte digests.
    Sha512,
    /// BLAKE3 with its default 32-byte output.
    Blake3,
}

impl HashAlgorithm {
    /// Parses the names used across the bindings: `sha256`, `sha512`, `blake3`.
    pub fn from_name(name: &str) -> Result<HashAlgorithm, Error> {
        match name {
            "sha256" => Ok(HashAlgorithm::Sha256),
            "sha512" => Ok(HashAlgorithm::Sha512),
            "blake3" => Ok(HashAlgorithm::Blake3),
            _ => Err(Error::UnknownAlgorithm),
        }
    }

    /// The digest length in bytes.
    pub const fn digest_len(self) -> usize {
        match self {
            HashAlgorithm::Sha256 | HashAlgorithm::Blake3 => 32,
            HashAlgorithm::Sha512 => 64,
        }
    }

    fn hash_into(self, data: &[u8], out: &mut [u8]) {
        match self {
            HashAlgorithm::Sha256 => out.copy_from_slice(&sha2::Sha256::digest(data)),
            HashAlgorithm::Sha512 => out.copy_from_slice(&sha2::Sha512::digest(data)),
            HashAlgorithm::Blake3 => out.copy_from_slice(blake3::hash(data).as_bytes()),
        }
    }
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(data).into()
}

/// SHA-512 of `data`.
pub fn sha512(data: &[u8]) -> [u8; 64] {
    sha2::Sha512::digest(data).into()
}

/// BLAKE3 of `data` (32-byte output).
pub fn blake3(data: &[u8]) -> [u8; 32] {
    *blake3::hash(data).as_bytes()
}

/// Checks a packed layout: `offsets` holds `n + 1` non-decreasing positions inside `data`,
/// starting at 0. Returns `n`.
pub fn check_offsets(data_len: usize, offsets: &[u32]) -> Result<usize, Error> {
    let Some((&first, _)) = offsets.split_first() else {
        return Err(Error::BatchLayout("offsets must hold n + 1 entries, got none"));
    };
    if first != 0 {
        return Err(Error::BatchLayout("offsets must start at 0"));
    }
    if offsets.windows(2).any(|w| w[1] < w[0]) {
        return Err(Error::BatchLayout("offsets must not decrease"));
    }
    if offsets[offsets.len() - 1] as usize > data_len {
        return Err(Error::BatchLayout("offsets point past the end of the data"));
    }
    Ok(offsets.len() - 1)
}

/// Hashes every message of a packed batch; `out` must be `n * digest_len` bytes.
pub fn hash_batch(
    algorithm: HashAlgorithm,
    data: &[u8],
    offsets: &[u32],
    out: &mut [u8],
) -> Result<(), Error> {
    let n = check_offsets(data.len(), offsets)?;
    let len = algorithm.digest_len();
    if out.len() != n * len {
        return Err(Error::OutputLength { expected: n * len, got: out.len() });
    }
    for (i, digest) in out.chunks_exact_mut(len).enumerate() {
        let message = &data[offsets[i] as usize..offsets[i + 1] as usize];
        algorithm.hash_into(message, digest);
    }
    Ok(())
}
