//! Ed25519 key derivation, signing and single verification under ZIP-215.
//!
//! # The verification rule (ZIP-215)
//!
//! Commons Sync nodes must agree on every signature, so the rule is fixed and shared by single
//! and batch verification, by every backend:
//!
//! 1. the public key is 32 bytes and the signature 64 bytes, else the signature is invalid;
//! 2. `S` (the last 32 bytes) must be canonical, `S < L`;
//! 3. `A` and `R` must decode to curve points. Non-canonical encodings (`y >= p`, or `x = 0`
//!    with the sign bit set) are accepted: `y` is reduced modulo `p`. Small-order and
//!    mixed-order points are accepted;
//! 4. `k = SHA-512(R_bytes || A_bytes || M)` over the bytes *as given* (not re-encoded);
//! 5. the signature is valid iff `[8]([S]B - [k]A - R)` is the identity (the cofactored
//!    equation).
//!
//! This is the rule of ZIP 215, implemented by `ed25519-zebra` and `ed25519-consensus` and the
//! default of `@noble/curves`. The cofactored equation is what makes batch verification agree
//! with single verification: an unbatched cofactorless check would reject signatures that a
//! random-linear-combination batch accepts.
//!
//! Signing is RFC 8032 Ed25519 through `ed25519-dalek` (constant-time scalar multiplication,
//! no secret-dependent branches); the expanded secret is zeroized when dropped.

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use ed25519_dalek::Signer;
use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

use crate::{decode, Error, KeyCache};

/// Length of a public key in bytes.
pub const PUBLIC_KEY_LENGTH: usize = 32;
/// Length of a signature in bytes.
pub const SIGNATURE_LENGTH: usize = 64;
/// Length of a secret seed in bytes.
pub const SEED_LENGTH: usize = 32;

fn signing_key(seed: &[u8]) -> Result<ed25519_dalek::SigningKey, Error> {
    let bytes: Zeroizing<[u8; SEED_LENGTH]> =
        Zeroizing::new(seed.try_into().map_err(|_| Error::InvalidSeedLength { got: seed.len() })?);
    // SigningKey zeroizes its secret on drop.
    Ok(ed25519_dalek::SigningKey::from_bytes(&bytes))
}

/// The public key of a 32-byte secret seed.
pub fn public_key(seed: &[u8]) -> Result<[u8; PUBLIC_KEY_LENGTH], Error> {
    Ok(signing_key(seed)?.verifying_key().to_bytes())
}

/// Signs `message` with the key derived from `seed` (RFC 8032, deterministic).
pub fn sign(seed: &[u8], message: &[u8]) -> Result<[u8; SIGNATURE_LENGTH], Error> {
    Ok(signing_key(seed)?.sign(message).to_bytes())
}

/// Verifies one signature under ZIP-215. Inputs of the wrong length give `false`.
pub fn verify(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    verify_cached(&mut KeyCache::new(1), public_key, message, signature)
}

/// [`verify`], decoding the public key through `cache`.
pub fn verify_cached(
    cache: &mut KeyCache,
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> bool {
    // Check lengths and S before touching the key cache: garbage must not evict good keys.
    let Some(parsed) = Parsed::new(public_key, signature) else {
        return false;
    };
    let (r, key) = match cache.get(&parsed.public_key) {
        Some(key) => (CompressedEdwardsY(parsed.r_bytes).decompress(), Some(key)),
        None => {
            // Two square roots: side by side in IFMA lanes where the CPU has them.
            let mut points = [None, None];
            decode::decompress(&[parsed.r_bytes, parsed.public_key], &mut points);
            if let [Some(_), Some(key)] = points {
                cache.insert(parsed.public_key, key); // only when R decoded too
            }
            (points[0], points[1])
        }
    };
    match (r, key) {
        (Some(r), Some(key)) => parsed.prepare(&r, message).check(&key),
        _ => false,
    }
}

/// A signature whose lengths and `S` are valid, its points not decoded yet.
pub(crate) struct Parsed {
    pub(crate) public_key: [u8; PUBLIC_KEY_LENGTH],
    pub(crate) r_bytes: [u8; 32],
    s: Scalar,
}

impl Parsed {
    /// `None` when the lengths are wrong or `S` is not canonical (`S >= L`).
    pub(crate) fn new(public_key: &[u8], signature: &[u8]) -> Option<Parsed> {
        let public_key: [u8; PUBLIC_KEY_LENGTH] = public_key.try_into().ok()?;
        let signature: &[u8; SIGNATURE_LENGTH] = signature.try_into().ok()?;
        let mut r_bytes = [0u8; 32];
        r_bytes.copy_from_slice(&signature[..32]);
        let mut s_bytes = [0u8; 32];
        s_bytes.copy_from_slice(&signature[32..]);
        let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))?;
        Some(Parsed { public_key, r_bytes, s })
    }

    /// Computes `k = SHA-512(R || A || M)` over the bytes as given, with `r` decoded from them.
    pub(crate) fn prepare(&self, r: &EdwardsPoint, message: &[u8]) -> Prepared {
        let mut h = Sha512::new();
        h.update(self.r_bytes);
        h.update(self.public_key);
        h.update(message);
        Prepared { minus_r: -r, s: self.s, k: Scalar::from_hash(h) }
    }
}

/// A signature decoded and hashed, ready for the single or the batch equation.
pub(crate) struct Prepared {
    /// `-R`.
    pub(crate) minus_r: EdwardsPoint,
    pub(crate) s: Scalar,
    pub(crate) k: Scalar,
}

impl Prepared {
    /// The cofactored single equation `[8]([S]B - [k]A - R) == 0`.
    pub(crate) fn check(&self, key: &EdwardsPoint) -> bool {
        let sb_minus_ka =
            EdwardsPoint::vartime_double_scalar_mul_basepoint(&self.k, &-key, &self.s);
        (sb_minus_ka + self.minus_r).mul_by_cofactor().is_identity()
    }
}
