//! SHA-256, SHA-512 and BLAKE3, for one message or for many in one call.
//!
//! The batch form takes the messages packed into one buffer with `n + 1` offsets
//! (message `i` is `data[offsets[i]..offsets[i + 1]]`) and writes the `n` digests back to back,
//! so that hashing ten thousand small messages costs one crossing of the JS boundary.
//! The SHA-256 chain ([`sha256_chain`]) extends a hash chain by many links in one call, for the
//! same reason: each link is 64 bytes of input, far cheaper to hash than to cross the boundary.
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

/// SHA-256's initial hash value (FIPS 180-4 §5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The second and last block of SHA-256 over any 64-byte message (FIPS 180-4 §5.1.1): the 0x80
/// byte, zeros, and the message length, 512 bits, as a 64-bit big-endian integer.
const PAD_AFTER_64_BYTES: [u8; 64] = {
    let mut block = [0u8; 64];
    block[0] = 0x80;
    block[62] = 0x02; // 512 = 0x0200
    block
};

/// The length of a chain head, a leaf and a link of [`sha256_chain`].
pub const CHAIN_HASH_LEN: usize = 32;

/// Extends a SHA-256 hash chain by one link per leaf: `leaves` holds `n` 32-byte hashes back to
/// back, and `out` (also `n * 32` bytes) receives `c[0] = SHA-256(head || leaf[0])` and
/// `c[i] = SHA-256(c[i - 1] || leaf[i])`. This is the audit log's chain hash (spec/AUDIT.md §3).
///
/// Every input to the hash is 64 bytes long, so each link is two compressions of SHA-256 with
/// a fixed padding block, run straight on `sha2`'s compression function (SHA-NI where the CPU
/// has it): no hasher state to set up or buffer per link. `n = 0` is allowed (nothing written).
pub fn sha256_chain(head: &[u8], leaves: &[u8], out: &mut [u8]) -> Result<(), Error> {
    let Ok(head) = <&[u8; CHAIN_HASH_LEN]>::try_from(head) else {
        return Err(Error::BatchLayout("the chain head must be 32 bytes"));
    };
    if !leaves.len().is_multiple_of(CHAIN_HASH_LEN) {
        return Err(Error::BatchLayout("leaves must be 32-byte hashes back to back"));
    }
    if out.len() != leaves.len() {
        return Err(Error::OutputLength { expected: leaves.len(), got: out.len() });
    }
    let mut blocks = [[0u8; 64], PAD_AFTER_64_BYTES];
    blocks[0][..CHAIN_HASH_LEN].copy_from_slice(head);
    for (leaf, link) in
        leaves.chunks_exact(CHAIN_HASH_LEN).zip(out.chunks_exact_mut(CHAIN_HASH_LEN))
    {
        blocks[0][CHAIN_HASH_LEN..].copy_from_slice(leaf);
        let mut state = SHA256_IV;
        sha2::block_api::compress256(&mut state, &blocks);
        for (bytes, word) in link.chunks_exact_mut(4).zip(state) {
            bytes.copy_from_slice(&word.to_be_bytes());
        }
        blocks[0][..CHAIN_HASH_LEN].copy_from_slice(link);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chain as spec/AUDIT.md states it, one `sha256` call per link.
    fn chain_by_definition(head: &[u8], leaves: &[u8]) -> Vec<u8> {
        let mut prev = head.to_vec();
        let mut out = Vec::new();
        for leaf in leaves.chunks_exact(32) {
            prev = sha256(&[prev.as_slice(), leaf].concat()).to_vec();
            out.extend_from_slice(&prev);
        }
        out
    }

    /// Deterministic bytes: SHA-256 in counter mode over a label.
    fn bytes(label: &str, len: usize) -> Vec<u8> {
        (0u32..)
            .flat_map(|i| sha256(&[label.as_bytes(), &i.to_be_bytes()].concat()))
            .take(len)
            .collect()
    }

    #[test]
    fn one_zero_link_is_the_sha256_of_64_zero_bytes() {
        // SHA-256 of 64 zero bytes, the well-known level-1 "zero hash" of SSZ Merkle trees
        // (also `python3 -c "import hashlib; print(hashlib.sha256(bytes(64)).hexdigest())"`).
        let mut out = [0u8; 32];
        sha256_chain(&[0; 32], &[0; 32], &mut out).unwrap();
        assert_eq!(
            hex::encode(out),
            "f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb4b"
        );
    }

    #[test]
    fn equals_the_definition_for_every_length_up_to_300() {
        for n in 0..=300 {
            let head = bytes(&format!("head {n}"), 32);
            let leaves = bytes(&format!("leaves {n}"), 32 * n);
            let mut out = vec![0xaa; 32 * n];
            sha256_chain(&head, &leaves, &mut out).unwrap();
            assert_eq!(out, chain_by_definition(&head, &leaves), "n = {n}");
        }
    }

    #[test]
    fn a_chain_continues_from_its_last_link() {
        let head = bytes("head", 32);
        let leaves = bytes("leaves", 32 * 10);
        let mut whole = vec![0; 320];
        sha256_chain(&head, &leaves, &mut whole).unwrap();
        let (mut first, mut rest) = (vec![0; 128], vec![0; 192]);
        sha256_chain(&head, &leaves[..128], &mut first).unwrap();
        sha256_chain(&first[96..], &leaves[128..], &mut rest).unwrap();
        assert_eq!([first, rest].concat(), whole);
    }

    #[test]
    fn refuses_a_bad_head_leaves_or_output_length() {
        let leaves = [7u8; 64];
        let mut out = [0u8; 64];
        for len in [0, 31, 33, 64] {
            let e = sha256_chain(&vec![0; len], &leaves, &mut out).unwrap_err();
            assert_eq!(e.code(), "ERR_BATCH_LAYOUT", "head of {len} bytes");
        }
        for len in [1, 31, 33, 63, 65] {
            let e = sha256_chain(&[0; 32], &vec![0; len], &mut vec![0; len]).unwrap_err();
            assert_eq!(e.code(), "ERR_BATCH_LAYOUT", "leaves of {len} bytes");
        }
        let e = sha256_chain(&[0; 32], &leaves, &mut [0u8; 32]).unwrap_err();
        assert_eq!(e, Error::OutputLength { expected: 64, got: 32 });
        assert_eq!(sha256_chain(&[0; 32], &[], &mut []), Ok(()));
    }
}
