//! Shamir secret sharing over GF(2^8), for backups of vault keys that guardians hold in parts.
//!
//! The field is GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1 (0x11b), as in
//! HashiCorp Vault's `shamir` package and SLIP-39. Every byte of the secret is the constant term
//! of its own random polynomial of degree `threshold - 1`; share `x` holds the polynomials'
//! values at `x` (1..=255). Any `threshold` shares give the secret back by Lagrange
//! interpolation at 0; fewer give no information about it.
//!
//! Field arithmetic on secret-dependent values (the secret, the coefficients, the share
//! values) runs in constant time: multiplication is a fixed 8-round shift-and-add with masks,
//! inversion a fixed square-and-multiply chain, and there are no lookup tables indexed by
//! secrets. Share indices are public and may be branched on.
//!
//! ## Share format, version 1 (all integers big-endian)
//!
//! ```text
//! offset  size  field
//!      0     1  version       0x01
//!      1     1  threshold     M, 2..=255: shares needed to combine
//!      2     1  index         x, 1..=255: this share's point (distinct within a split)
//!      3     8  split id      random, the same in every share of one split
//!     11     2  length        L, 1..=1024: secret length in bytes
//!     13     L  values        f_k(x) for each secret byte k
//!   13+L     4  checksum      first 4 bytes of SHA-256("commons-sync/shamir/v1" || bytes 0..13+L)
//! ```
//!
//! The checksum catches a corrupted or mistyped share (it is not a MAC: someone who alters a
//! share on purpose can recompute it; the CLI also checks that the restored key is the
//! expected identity). The split id and threshold catch shares of different splits.
//!
//! ## Randomness layout (for [`split_with_randomness`] and the vectors)
//!
//! `8 + (threshold - 1) * L` bytes: the split id, then the coefficients of degree 1 for every
//! secret byte, then those of degree 2, and so on (coefficient of degree `d` for byte `k` is at
//! `8 + (d - 1) * L + k`). Share `i` (0-based) gets index `x = i + 1`.

use core::fmt;

use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use crate::rng::RandomSource;

/// The only share format version.
pub const VERSION: u8 = 1;
/// Bytes before the share values: version, threshold, index, split id, length.
pub const HEADER_LEN: usize = 13;
/// Bytes of checksum after the share values.
pub const CHECKSUM_LEN: usize = 4;
/// Bytes of the split id.
pub const ID_LEN: usize = 8;
/// The longest secret a share may hold.
pub const MAX_SECRET_LEN: usize = 1024;
/// The checksum's domain-separation prefix.
pub const CHECKSUM_DOMAIN: &[u8] = b"commons-sync/shamir/v1";

/// Why a split or a combination was refused. Each has a stable [`code`](ShamirError::code).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShamirError {
    /// Threshold, share count or secret length outside the allowed ranges.
    Params(&'static str),
    /// The randomness given to [`split_with_randomness`] has the wrong length.
    RandomnessLength {
        /// The length the split needs.
        expected: usize,
        /// The length that was given.
        got: usize,
    },
    /// The random source failed.
    Randomness,
    /// A share that is not laid out as a version-1 share (truncated, wrong length, bad fields).
    Format(&'static str),
    /// A share version other than 1.
    Version(u8),
    /// A share whose checksum does not match: it was corrupted or mistyped.
    Checksum,
    /// Shares of different splits (split id, threshold or length differ).
    Mismatch,
    /// Two shares with the same index.
    DuplicateIndex(u8),
    /// Fewer distinct shares than the threshold.
    TooFew {
        /// Shares the split needs.
        needed: usize,
        /// Shares that were given.
        got: usize,
    },
}

impl ShamirError {
    /// A stable, machine-readable code, carried across the N-API and WebAssembly boundaries.
    pub fn code(&self) -> &'static str {
        match self {
            ShamirError::Params(_) => "ERR_SHAMIR_PARAMS",
            ShamirError::RandomnessLength { .. } => "ERR_SHAMIR_PARAMS",
            ShamirError::Randomness => "ERR_RANDOMNESS",
            ShamirError::Format(_) => "ERR_SHAMIR_FORMAT",
            ShamirError::Version(_) => "ERR_SHAMIR_VERSION",
            ShamirError::Checksum => "ERR_SHAMIR_CHECKSUM",
            ShamirError::Mismatch => "ERR_SHAMIR_MISMATCH",
            ShamirError::DuplicateIndex(_) => "ERR_SHAMIR_DUPLICATE_INDEX",
            ShamirError::TooFew { .. } => "ERR_SHAMIR_TOO_FEW",
        }
    }
}

impl fmt::Display for ShamirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShamirError::Params(what) => write!(f, "invalid split parameters: {what}"),
            ShamirError::RandomnessLength { expected, got } => {
                write!(f, "the split needs {expected} bytes of randomness, got {got}")
            }
            ShamirError::Randomness => f.write_str("the random number generator failed"),
            ShamirError::Format(what) => write!(f, "not a version-1 share: {what}"),
            ShamirError::Version(v) => write!(f, "unsupported share version {v}"),
            ShamirError::Checksum => {
                f.write_str("the share's checksum does not match: it is corrupted or mistyped")
            }
            ShamirError::Mismatch => f.write_str(
                "the shares come from different splits (id, threshold or length differ)",
            ),
            ShamirError::DuplicateIndex(x) => write!(f, "share index {x} is given twice"),
            ShamirError::TooFew { needed, got } => {
                write!(f, "{needed} shares are needed to combine, got {got}")
            }
        }
    }
}

impl std::error::Error for ShamirError {}

/// Multiplication in GF(2^8) mod 0x11b, in constant time (no branches or tables on a or b).
pub fn gf_mul(a: u8, b: u8) -> u8 {
    let (mut a, mut b, mut product) = (a, b, 0u8);
    for _ in 0..8 {
        product ^= a & 0u8.wrapping_sub(b & 1);
        let carry = 0u8.wrapping_sub(a >> 7);
        a = (a << 1) ^ (0x1b & carry);
        b >>= 1;
    }
    product
}

/// The multiplicative inverse, a^254, by a fixed chain; 0 maps to 0.
pub fn gf_inv(a: u8) -> u8 {
    // 254 = 0b11111110: square-and-multiply over its bits, the same steps for every input.
    let mut result = 1u8;
    for bit in (0..8).rev() {
        result = gf_mul(result, result);
        if (254u32 >> bit) & 1 == 1 {
            result = gf_mul(result, a);
        }
    }
    result
}

fn checksum(body: &[u8]) -> [u8; CHECKSUM_LEN] {
    let digest = Sha256::new().chain_update(CHECKSUM_DOMAIN).chain_update(body).finalize();
    let mut out = [0u8; CHECKSUM_LEN];
    out.copy_from_slice(&digest[..CHECKSUM_LEN]);
    out
}

fn check_params(secret_len: usize, threshold: usize, count: usize) -> Result<(), ShamirError> {
    if secret_len == 0 || secret_len > MAX_SECRET_LEN {
        return Err(ShamirError::Params("the secret must be 1..=1024 bytes"));
    }
    if !(2..=255).contains(&threshold) {
        return Err(ShamirError::Params("the threshold must be 2..=255"));
    }
    if count < threshold || count > 255 {
        return Err(ShamirError::Params(
            "the share count must be at least the threshold and at most 255",
        ));
    }
    Ok(())
}

/// How many bytes of randomness a split of `secret_len` bytes at `threshold` consumes.
pub fn randomness_len(secret_len: usize, threshold: usize) -> usize {
    ID_LEN + threshold.saturating_sub(1) * secret_len
}

/// Splits `secret` into `count` shares, any `threshold` of which restore it, with the split id
/// and coefficients taken from `randomness` (layout in the module docs). Deterministic: for
/// test vectors and cross-implementation checks. Real splits use [`split`].
pub fn split_with_randomness(
    secret: &[u8],
    threshold: usize,
    count: usize,
    randomness: &[u8],
) -> Result<Vec<Vec<u8>>, ShamirError> {
    check_params(secret.len(), threshold, count)?;
    let expected = randomness_len(secret.len(), threshold);
    if randomness.len() != expected {
        return Err(ShamirError::RandomnessLength { expected, got: randomness.len() });
    }
    let len = secret.len();
    let (id, coefficients) = randomness.split_at(ID_LEN);
    let mut shares = Vec::with_capacity(count);
    for i in 0..count {
        let x = (i + 1) as u8; // count <= 255
        let mut share = Vec::with_capacity(HEADER_LEN + len + CHECKSUM_LEN);
        share.push(VERSION);
        share.push(threshold as u8);
        share.push(x);
        share.extend_from_slice(id);
        share.extend_from_slice(&(len as u16).to_be_bytes());
        for (k, &s) in secret.iter().enumerate() {
            // Horner from the highest degree down to the constant term (the secret byte).
            let mut y = 0u8;
            for d in (1..threshold).rev() {
                y = gf_mul(y, x) ^ coefficients[(d - 1) * len + k];
            }
            share.push(gf_mul(y, x) ^ s);
        }
        let sum = checksum(&share);
        share.extend_from_slice(&sum);
        shares.push(share);
    }
    Ok(shares)
}

/// Splits `secret` into `count` shares, any `threshold` of which restore it, with a random
/// split id and random coefficients from `rng`.
pub fn split(
    secret: &[u8],
    threshold: usize,
    count: usize,
    rng: &mut impl RandomSource,
) -> Result<Vec<Vec<u8>>, ShamirError> {
    check_params(secret.len(), threshold, count)?;
    let mut randomness = vec![0u8; randomness_len(secret.len(), threshold)];
    if rng.fill(&mut randomness).is_err() {
        randomness.zeroize();
        return Err(ShamirError::Randomness);
    }
    let shares = split_with_randomness(secret, threshold, count, &randomness);
    randomness.zeroize();
    shares
}

/// A share's fields, checked: version, length and checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShareInfo {
    /// Shares needed to combine.
    pub threshold: u8,
    /// This share's point, 1..=255.
    pub index: u8,
    /// The split's id, the same in all its shares.
    pub id: [u8; ID_LEN],
    /// The secret's length in bytes.
    pub secret_len: usize,
}

/// Checks a share's layout and checksum and returns its public fields.
pub fn inspect(share: &[u8]) -> Result<ShareInfo, ShamirError> {
    if share.len() < HEADER_LEN + 1 + CHECKSUM_LEN {
        return Err(ShamirError::Format("too short"));
    }
    if share[0] != VERSION {
        return Err(ShamirError::Version(share[0]));
    }
    let secret_len = u16::from_be_bytes([share[11], share[12]]) as usize;
    if share.len() != HEADER_LEN + secret_len + CHECKSUM_LEN {
        return Err(ShamirError::Format("its length does not match its length field"));
    }
    let (body, sum) = share.split_at(HEADER_LEN + secret_len);
    // The checksum is public (it is in the share): no need for a constant-time comparison.
    if checksum(body) != sum {
        return Err(ShamirError::Checksum);
    }
    let (threshold, index) = (share[1], share[2]);
    if threshold < 2 {
        return Err(ShamirError::Format("threshold below 2"));
    }
    if index == 0 {
        return Err(ShamirError::Format("index 0 (that point is the secret)"));
    }
    if secret_len == 0 || secret_len > MAX_SECRET_LEN {
        return Err(ShamirError::Format("secret length outside 1..=1024"));
    }
    let mut id = [0u8; ID_LEN];
    id.copy_from_slice(&share[3..3 + ID_LEN]);
    Ok(ShareInfo { threshold, index, id, secret_len })
}

/// Restores the secret from at least `threshold` shares of one split. Every share is checked
/// (format, checksum, same split, distinct indices) before anything is combined; the first
/// `threshold` shares in the given order are interpolated.
pub fn combine(shares: &[&[u8]]) -> Result<Vec<u8>, ShamirError> {
    let infos = shares.iter().map(|s| inspect(s)).collect::<Result<Vec<_>, _>>()?;
    let Some(first) = infos.first() else {
        return Err(ShamirError::TooFew { needed: 2, got: 0 });
    };
    for info in &infos {
        if info.id != first.id
            || info.threshold != first.threshold
            || info.secret_len != first.secret_len
        {
            return Err(ShamirError::Mismatch);
        }
    }
    let mut seen = [false; 256];
    for info in &infos {
        if seen[info.index as usize] {
            return Err(ShamirError::DuplicateIndex(info.index));
        }
        seen[info.index as usize] = true;
    }
    let needed = first.threshold as usize;
    if infos.len() < needed {
        return Err(ShamirError::TooFew { needed, got: infos.len() });
    }
    let xs: Vec<u8> = infos[..needed].iter().map(|i| i.index).collect();
    // Lagrange basis at 0: l_i = prod_{j != i} x_j / (x_j - x_i); subtraction is XOR.
    let basis: Vec<u8> = (0..needed)
        .map(|i| {
            let (mut num, mut den) = (1u8, 1u8);
            for j in 0..needed {
                if j != i {
                    num = gf_mul(num, xs[j]);
                    den = gf_mul(den, xs[j] ^ xs[i]);
                }
            }
            gf_mul(num, gf_inv(den))
        })
        .collect();
    let len = first.secret_len;
    let mut secret = vec![0u8; len];
    for (share, &l) in shares[..needed].iter().zip(&basis) {
        for (k, out) in secret.iter_mut().enumerate() {
            *out ^= gf_mul(share[HEADER_LEN + k], l);
        }
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_axioms_hold_on_every_element() {
        // 0x53 * 0xca = 0x01 is the worked example in FIPS 197, section 4.2.
        assert_eq!(gf_mul(0x53, 0xca), 0x01);
        assert_eq!(gf_mul(0x57, 0x83), 0xc1); // FIPS 197, section 4.2
        for a in 0..=255u8 {
            assert_eq!(gf_mul(a, 1), a);
            assert_eq!(gf_mul(a, 0), 0);
            if a != 0 {
                assert_eq!(gf_mul(a, gf_inv(a)), 1, "inverse of {a}");
            }
            for b in 0..=255u8 {
                assert_eq!(gf_mul(a, b), gf_mul(b, a));
            }
        }
        assert_eq!(gf_inv(0), 0);
    }

    #[test]
    fn threshold_shares_restore_and_fewer_are_refused() {
        let secret: Vec<u8> = (0..32).collect();
        let randomness: Vec<u8> = (0..randomness_len(32, 3)).map(|i| (i * 7 + 3) as u8).collect();
        let shares = split_with_randomness(&secret, 3, 5, &randomness).unwrap();
        let refs: Vec<&[u8]> = shares.iter().map(Vec::as_slice).collect();
        for a in 0..5 {
            for b in 0..5 {
                for c in 0..5 {
                    if a != b && b != c && a != c {
                        assert_eq!(combine(&[refs[a], refs[b], refs[c]]).unwrap(), secret);
                    }
                }
            }
        }
        assert_eq!(combine(&refs[..2]), Err(ShamirError::TooFew { needed: 3, got: 2 }));
        assert_eq!(combine(&[refs[0], refs[0], refs[1]]), Err(ShamirError::DuplicateIndex(1)));
        let mut corrupt = shares[1].clone();
        corrupt[HEADER_LEN + 4] ^= 1;
        assert_eq!(combine(&[refs[0], &corrupt, refs[2]]), Err(ShamirError::Checksum));
    }

    #[test]
    fn refuses_bad_parameters() {
        let mut rng = |d: &mut [u8]| {
            d.fill(9);
            Ok(())
        };
        assert_eq!(split(&[], 2, 3, &mut rng).unwrap_err().code(), "ERR_SHAMIR_PARAMS");
        assert_eq!(split(&[1], 1, 3, &mut rng).unwrap_err().code(), "ERR_SHAMIR_PARAMS");
        assert_eq!(split(&[1], 4, 3, &mut rng).unwrap_err().code(), "ERR_SHAMIR_PARAMS");
        assert_eq!(split(&[1], 2, 256, &mut rng).unwrap_err().code(), "ERR_SHAMIR_PARAMS");
        assert_eq!(
            split_with_randomness(&[1], 2, 2, &[0; 3]).unwrap_err().code(),
            "ERR_SHAMIR_PARAMS"
        );
        let mut failing = |_: &mut [u8]| Err(crate::Error::Randomness);
        assert_eq!(split(&[1], 2, 2, &mut failing), Err(ShamirError::Randomness));
    }
}
