//! Batch verification with one verdict per item.
//!
//! # The batch equation
//!
//! For items `i` with decoded `A_i`, `R_i`, canonical `S_i` and `k_i = H(R_i || A_i || M_i)`,
//! let `P_i = [8]([S_i]B - [k_i]A_i - R_i)`; item `i` is valid under ZIP-215 iff `P_i = 0`
//! (see [`crate::ed25519`]). The batch check draws independent random `z_i` and tests
//!
//! ```text
//! [8]( [Σ z_i S_i] B  -  Σ_A [Σ_{i: A_i = A} z_i k_i] A  -  Σ z_i R_i )  ==  0,
//! ```
//!
//! i.e. `Σ z_i P_i = 0`, in one multiscalar multiplication (items under the same public key share
//! one point, so a batch from few authors is cheaper).
//!
//! # Soundness
//!
//! Every `P_i` lies in the prime-order subgroup of order `L ≈ 2^252` (it is a multiple of 8).
//! Suppose some `P_j ≠ 0`. Fix all `z_i` for `i ≠ j`; then `Σ z_i P_i = 0` holds for at most one
//! value of `z_j` modulo `L`, since `z_j ↦ z_j P_j` is injective on `Z/L`. Each `z_j` is drawn
//! uniformly from `[1, 2^128)` by a CSPRNG and is independent of the items, so a batch containing
//! an invalid item passes with probability at most `2^-128`. Because the multiplier is `[8]`
//! and the single check is cofactored too, a valid batch always passes: batch and single
//! verification give the same verdicts, except with that probability.
//!
//! When the whole batch fails, it is split in halves and each half is checked with the same
//! `z_i`; halves of at most [`LEAF`] items are settled by single verification, so every item
//! that is reported invalid failed the exact single check. The halves form a fixed binary tree
//! of fewer than `2n` subsets, so by the union bound the probability that any accepted subset
//! hides an invalid item is below `2n · 2^-128`, whatever the adversary does. Fixed or
//! predictable coefficients would let an attacker craft invalid signatures that cancel out:
//! hence a CSPRNG, never a constant.

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};

use crate::decode;
use crate::ed25519::{Parsed, Prepared, PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH};
use crate::hash::check_offsets;
use crate::rng::RandomSource;
use crate::{Error, KeyCache};

/// Sub-batches of at most this many items are settled by single verification.
pub const LEAF: usize = 2;

/// One signature to check.
#[derive(Debug, Clone, Copy)]
pub struct BatchItem<'a> {
    /// The signer's public key (32 bytes for a valid item).
    pub public_key: &'a [u8],
    /// The signed message.
    pub message: &'a [u8],
    /// The signature (64 bytes for a valid item).
    pub signature: &'a [u8],
}

struct Entry {
    key: usize,
    prepared: Prepared,
    z: Scalar,
}

struct Batch {
    keys: Vec<EdwardsPoint>,
    entries: Vec<(usize, Entry)>, // (position in the caller's batch, entry)
}

/// Verifies every item; `out[i]` is the ZIP-215 verdict of `items[i]`.
pub fn verify_batch<R: RandomSource + ?Sized>(
    items: &[BatchItem<'_>],
    rng: &mut R,
    out: &mut [bool],
) -> Result<(), Error> {
    verify_batch_cached(&mut KeyCache::new(1), items, rng, out)
}

/// [`verify_batch`], decoding public keys through `cache`.
pub fn verify_batch_cached<R: RandomSource + ?Sized>(
    cache: &mut KeyCache,
    items: &[BatchItem<'_>],
    rng: &mut R,
    out: &mut [bool],
) -> Result<(), Error> {
    if out.len() != items.len() {
        return Err(Error::OutputLength { expected: items.len(), got: out.len() });
    }
    out.fill(false);
    let batch = Batch::prepare(cache, items.iter().copied(), rng)?;
    batch.settle(&mut |i, ok| out[i] = ok);
    Ok(())
}

/// Verifies a packed batch of `n` items without copying them: `public_keys` is `32 n` bytes,
/// `signatures` `64 n` bytes, and message `i` is `messages[offsets[i]..offsets[i + 1]]`
/// (`offsets` holds `n + 1` non-decreasing entries starting at 0). `out[i]` becomes 1 for a valid
/// item and 0 otherwise.
pub fn verify_batch_packed<R: RandomSource + ?Sized>(
    public_keys: &[u8],
    signatures: &[u8],
    messages: &[u8],
    offsets: &[u32],
    rng: &mut R,
    out: &mut [u8],
) -> Result<(), Error> {
    verify_batch_packed_cached(
        &mut KeyCache::new(1),
        public_keys,
        signatures,
        messages,
        offsets,
        rng,
        out,
    )
}

/// [`verify_batch_packed`], decoding public keys through `cache`.
pub fn verify_batch_packed_cached<R: RandomSource + ?Sized>(
    cache: &mut KeyCache,
    public_keys: &[u8],
    signatures: &[u8],
    messages: &[u8],
    offsets: &[u32],
    rng: &mut R,
    out: &mut [u8],
) -> Result<(), Error> {
    let n = check_offsets(messages.len(), offsets)?;
    if public_keys.len() != n * PUBLIC_KEY_LENGTH {
        return Err(Error::BatchLayout("public keys must be 32 bytes per item"));
    }
    if signatures.len() != n * SIGNATURE_LENGTH {
        return Err(Error::BatchLayout("signatures must be 64 bytes per item"));
    }
    if out.len() != n {
        return Err(Error::OutputLength { expected: n, got: out.len() });
    }
    out.fill(0);
    let items = (0..n).map(|i| BatchItem {
        public_key: &public_keys[i * PUBLIC_KEY_LENGTH..(i + 1) * PUBLIC_KEY_LENGTH],
        signature: &signatures[i * SIGNATURE_LENGTH..(i + 1) * SIGNATURE_LENGTH],
        message: &messages[offsets[i] as usize..offsets[i + 1] as usize],
    });
    let batch = Batch::prepare(cache, items, rng)?;
    batch.settle(&mut |i, ok| out[i] = u8::from(ok));
    Ok(())
}

impl Batch {
    /// Decodes every item (items that cannot be valid are left out and stay `false`), shares
    /// decoded public keys between items, and draws the coefficients.
    fn prepare<'a, R: RandomSource + ?Sized>(
        cache: &mut KeyCache,
        items: impl Iterator<Item = BatchItem<'a>>,
        rng: &mut R,
    ) -> Result<Batch, Error> {
        // 1. Lengths and S; each item's key found among recent items or in the cache, or queued
        //    for decoding. Nothing is decoded yet and the cache is not changed.
        let mut parsed: Vec<(usize, &'a [u8], Parsed, usize)> = Vec::new(); // (pos, msg, _, key)
        let mut key_bytes: Vec<[u8; PUBLIC_KEY_LENGTH]> = Vec::new();
        let mut keys: Vec<Option<EdwardsPoint>> = Vec::new();
        let mut to_decode: Vec<usize> = Vec::new(); // indexes into `keys`
        for (i, item) in items.enumerate() {
            let Some(p) = Parsed::new(item.public_key, item.signature) else {
                continue;
            };
            // Consecutive items from the same author are common (one author, many events);
            // they share one point in the equation. Look back a little rather than hash keys.
            let key = match key_bytes.iter().rev().take(8).position(|k| *k == p.public_key) {
                Some(back) => key_bytes.len() - 1 - back,
                None => {
                    let cached = cache.get(&p.public_key);
                    if cached.is_none() {
                        to_decode.push(keys.len());
                    }
                    keys.push(cached);
                    key_bytes.push(p.public_key);
                    keys.len() - 1
                }
            };
            parsed.push((i, item.message, p, key));
        }

        // 2. Every R and every uncached key in one call: eight square roots at a time where
        //    the CPU has AVX-512 IFMA.
        let mut encodings: Vec<[u8; 32]> = parsed.iter().map(|(_, _, p, _)| p.r_bytes).collect();
        encodings.extend(to_decode.iter().map(|&k| key_bytes[k]));
        let mut points = vec![None; encodings.len()];
        decode::decompress(&encodings, &mut points);
        let (rs, decoded_keys) = points.split_at(parsed.len());
        let mut fresh = vec![false; keys.len()];
        for (&k, point) in to_decode.iter().zip(decoded_keys) {
            keys[k] = *point;
            fresh[k] = true;
        }

        // 3. Items whose R and key decoded get k = H(R || A || M); their keys enter the cache
        //    (a key is cached only when an item with a valid S and R carried it).
        let mut entries = Vec::with_capacity(parsed.len());
        for ((pos, message, p, key), r) in parsed.into_iter().zip(rs) {
            let (Some(r), Some(point)) = (r, keys[key]) else {
                continue;
            };
            if fresh[key] {
                cache.insert(key_bytes[key], point);
            }
            entries.push((pos, Entry { key, prepared: p.prepare(r, message), z: Scalar::ZERO }));
        }
        let keys = keys.into_iter().map(|k| k.unwrap_or_default()).collect();

        let mut random = vec![0u8; 16 * entries.len()];
        rng.fill(&mut random)?;
        for ((_, entry), chunk) in entries.iter_mut().zip(random.chunks_exact(16)) {
            let mut wide = [0u8; 32];
            wide[..16].copy_from_slice(chunk);
            wide[0] |= 1; // z ∈ [1, 2^128): never zero, so a single item is never vacuous
            entry.z = Scalar::from_bytes_mod_order(wide);
        }
        Ok(Batch { keys, entries })
    }

    fn settle(&self, report: &mut dyn FnMut(usize, bool)) {
        let all: Vec<usize> = (0..self.entries.len()).collect();
        let mut key_slot = vec![usize::MAX; self.keys.len()];
        self.settle_subset(&all, &mut key_slot, report);
    }

    fn settle_subset(
        &self,
        subset: &[usize],
        key_slot: &mut [usize],
        report: &mut dyn FnMut(usize, bool),
    ) {
        if subset.len() <= LEAF {
            for &e in subset {
                let (pos, entry) = &self.entries[e];
                report(*pos, entry.prepared.check(&self.keys[entry.key]));
            }
            return;
        }
        if self.equation_holds(subset, key_slot) {
            for &e in subset {
                report(self.entries[e].0, true);
            }
            return;
        }
        let (left, right) = subset.split_at(subset.len() / 2);
        self.settle_subset(left, key_slot, report);
        self.settle_subset(right, key_slot, report);
    }

    /// `[8]([Σ z S] B - Σ [z k] A - Σ [z] R) == 0` over `subset`.
    fn equation_holds(&self, subset: &[usize], key_slot: &mut [usize]) -> bool {
        let mut b_coefficient = Scalar::ZERO;
        let mut scalars: Vec<Scalar> = Vec::with_capacity(2 * subset.len() + 1);
        let mut points: Vec<EdwardsPoint> = Vec::with_capacity(2 * subset.len() + 1);
        let mut used_keys: Vec<usize> = Vec::new();
        let mut key_scalars: Vec<Scalar> = Vec::new();
        for &e in subset {
            let entry = &self.entries[e].1;
            b_coefficient += entry.z * entry.prepared.s;
            scalars.push(entry.z);
            points.push(entry.prepared.minus_r);
            let zk = entry.z * entry.prepared.k;
            match key_slot[entry.key] {
                usize::MAX => {
                    key_slot[entry.key] = key_scalars.len();
                    used_keys.push(entry.key);
                    key_scalars.push(-zk);
                }
                slot => key_scalars[slot] -= zk,
            }
        }
        for (&key, scalar) in used_keys.iter().zip(key_scalars) {
            key_slot[key] = usize::MAX;
            scalars.push(scalar);
            points.push(self.keys[key]);
        }
        scalars.push(b_coefficient);
        points.push(ED25519_BASEPOINT_POINT);
        EdwardsPoint::vartime_multiscalar_mul(scalars, points).mul_by_cofactor().is_identity()
    }
}
