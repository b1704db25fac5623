//! Decoding compressed Edwards points (public keys and the `R` of signatures), many per call.
//!
//! Decoding takes a field square root, about 4 µs: before this module, a third of what a
//! signature cost in a batch of 64, and twice that when its key was not cached. On x86-64 CPUs
//! with AVX-512 IFMA the [`Decoder::Ifma`] path computes eight square roots at once (module
//! `ifma`); the [`Decoder::Portable`] path is curve25519-dalek's `decompress`, one point at a
//! time, on every target (WebAssembly included, where the IFMA code is not compiled at all).
//!
//! Both paths return exactly `CompressedEdwardsY::decompress`'s result for every encoding: the
//! IFMA path only proposes each square root, and `decompress_with_hint` (a function we added to
//! the vendored dalek, see `vendor/README.md`) checks the proposal and falls back to
//! `decompress` when it is wrong. Non-canonical encodings (`y >= p`, or `x = 0` with the sign bit
//! set) and small-order points decode exactly as dalek decodes them, which is what ZIP-215 asks.

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};

#[cfg(target_arch = "x86_64")]
mod ifma;

/// How points are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoder {
    /// curve25519-dalek's `decompress`, one square root per point; every target.
    Portable,
    /// Eight square roots at once in AVX-512 IFMA lanes; x86-64 CPUs with `avx512f` and
    /// `avx512ifma`, detected at run time.
    Ifma,
}

/// Below this many points the IFMA path is slower than decoding one by one: a group of eight
/// lanes costs about as much as 1.7 portable decodings (6.7 µs against 4.0 µs here), whether it
/// carries one point or eight.
const IFMA_MIN_POINTS: usize = 2;

impl Decoder {
    /// The fastest decoder this CPU runs.
    pub fn best() -> Decoder {
        if Decoder::Ifma.is_available() {
            Decoder::Ifma
        } else {
            Decoder::Portable
        }
    }

    /// Whether this CPU (and this build's target) can run the decoder.
    pub fn is_available(self) -> bool {
        match self {
            Decoder::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Decoder::Ifma => ifma::is_available(),
            #[cfg(not(target_arch = "x86_64"))]
            Decoder::Ifma => false,
        }
    }
}

/// Decodes every encoding with the [best](Decoder::best) decoder: `out[i]` is
/// `CompressedEdwardsY(encodings[i]).decompress()`.
pub fn decompress(encodings: &[[u8; 32]], out: &mut [Option<EdwardsPoint>]) {
    let decoder =
        if encodings.len() >= IFMA_MIN_POINTS { Decoder::best() } else { Decoder::Portable };
    decompress_with(decoder, encodings, out);
}

/// [`decompress`] with a chosen decoder; a decoder that is not
/// [available](Decoder::is_available) here decodes with [`Decoder::Portable`]. The results are
/// the same whichever decoder runs.
///
/// # Panics
///
/// When `out` and `encodings` differ in length.
pub fn decompress_with(decoder: Decoder, encodings: &[[u8; 32]], out: &mut [Option<EdwardsPoint>]) {
    assert_eq!(encodings.len(), out.len(), "one output per encoding");
    #[cfg(target_arch = "x86_64")]
    if decoder == Decoder::Ifma {
        let mut hints = vec![[0u8; 32]; encodings.len()];
        if ifma::sqrt_hints(encodings, &mut hints) {
            for ((slot, bytes), hint) in out.iter_mut().zip(encodings).zip(&hints) {
                *slot = CompressedEdwardsY(*bytes).decompress_with_hint(hint);
            }
            return;
        }
    }
    let _ = decoder; // only the IFMA path needs it
    for (slot, bytes) in out.iter_mut().zip(encodings) {
        *slot = CompressedEdwardsY(*bytes).decompress();
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    //! The IFMA hints are exactly the roots dalek's `sqrt_ratio_i` returns, checked against an
    //! independent big-integer oracle, so `decompress_with_hint` takes its fast path for every
    //! encoding (agreement with `decompress` itself is tested in tests/decode_agrees_with_dalek.rs).
    use num_bigint::BigUint;

    use super::*;

    struct Field {
        p: BigUint,
        d: BigUint,
        sqrt_m1: BigUint,
    }

    impl Field {
        fn new() -> Field {
            let p = (BigUint::from(1u8) << 255u32) - 19u32;
            let inv = |x: &BigUint| x.modpow(&(&p - 2u32), &p);
            let d = (&p - BigUint::from(121665u32)) * inv(&BigUint::from(121666u32)) % &p;
            // 2 is not a square mod p, so 2^((p-1)/4) squares to -1; dalek's root is the even one.
            let root = BigUint::from(2u8).modpow(&((&p - 1u32) >> 2u32), &p);
            let sqrt_m1 = if root.bit(0) { &p - root } else { root };
            Field { p, d, sqrt_m1 }
        }

        /// Whether `hint` is the root sqrt_ratio_i returns for encoding `e`, and whether `e` is a
        /// point according to it.
        fn check(&self, e: &[u8; 32], hint: &[u8; 32]) -> (bool, bool) {
            let p = &self.p;
            let mut y_bytes = *e;
            y_bytes[31] &= 0x7f;
            let y = BigUint::from_bytes_le(&y_bytes) % p;
            let yy = &y * &y % p;
            let u = (&yy + p - 1u32) % p;
            let v = (&self.d * &yy + 1u32) % p;
            let x = BigUint::from_bytes_le(hint);
            let canonical_even = x < *p && !x.bit(0);
            let vxx = &v * &x % p * &x % p;
            let square = vxx == u;
            let certified_nonsquare = u != BigUint::ZERO && vxx == &u * &self.sqrt_m1 % p;
            (canonical_even && (square || certified_nonsquare), square)
        }
    }

    /// A hint that is the right field element in a non-canonical encoding must not be taken:
    /// for a point whose root x is below 19, the bytes of `x + p` pass every other test but have
    /// the opposite parity, so they would flip the sign of x.
    #[test]
    fn non_canonical_hints_are_refused() {
        let field = Field::new();
        let p = &field.p;
        let sqrt = |a: &BigUint| {
            let r = a.modpow(&((p + 3u32) >> 3u32), p);
            if &r * &r % p == *a {
                r
            } else {
                r * &field.sqrt_m1 % p
            }
        };
        let mut tried = 0;
        for x in 1u32..19 {
            // -x² + y² = 1 + d x² y²  =>  y² = (1 + x²) / (1 - d x²)
            let xx = BigUint::from(x * x);
            let den = (p + 1u32 - &field.d * &xx % p) % p;
            let yy = (&xx + 1u32) * den.modpow(&(p - 2u32), p) % p;
            let y = sqrt(&yy);
            if &y * &y % p != yy {
                continue; // no point with this x
            }
            let mut encoding: [u8; 32] = {
                let mut b = y.to_bytes_le();
                b.resize(32, 0);
                b.try_into().unwrap()
            };
            encoding[31] |= ((x & 1) as u8) << 7; // the point (x, y) itself
            let decoded = CompressedEdwardsY(encoding).decompress();
            assert!(decoded.is_some());
            let mut hint = (BigUint::from(x) + p).to_bytes_le();
            hint.resize(32, 0);
            let hint: [u8; 32] = hint.try_into().unwrap();
            assert_eq!(
                CompressedEdwardsY(encoding).decompress_with_hint(&hint),
                decoded,
                "x = {x}"
            );
            tried += 1;
        }
        assert!(tried > 3, "only {tried} small x have points");
    }

    fn encodings() -> Vec<[u8; 32]> {
        use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
        use curve25519_dalek::scalar::Scalar;
        let mut out = Vec::new();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200 {
            let mut e = [0u8; 32];
            e.iter_mut().for_each(|b| *b = next() as u8);
            out.push(e); // random bytes: about half are points
            let point = ED25519_BASEPOINT_POINT * Scalar::from(next());
            out.push(point.compress().to_bytes());
        }
        // y in [p, 2^255) (non-canonical), y = 0, ±1, each with both sign bits
        let p_minus = |k: u8| {
            let mut e = [0xffu8; 32];
            e[31] = 0x7f;
            e[0] = 0xed - k;
            e
        };
        let mut special: Vec<[u8; 32]> = (0..19)
            .map(|k| {
                let mut e = p_minus(0);
                e[0] = 0xed + k; // p + k
                e
            })
            .collect();
        special.extend([[0u8; 32], p_minus(1)]);
        let mut one = [0u8; 32];
        one[0] = 1;
        special.push(one);
        for e in special {
            let mut signed = e;
            signed[31] |= 0x80;
            out.extend([e, signed]);
        }
        out
    }

    #[test]
    fn ifma_hints_are_the_roots_dalek_computes() {
        let encodings = encodings();
        let mut hints = vec![[0u8; 32]; encodings.len()];
        if !ifma::sqrt_hints(&encodings, &mut hints) {
            // No AVX-512 IFMA on this CPU: the path must say so rather than run.
            assert!(!Decoder::Ifma.is_available());
            return;
        }
        let field = Field::new();
        let (mut points, mut non_points) = (0, 0);
        for (e, hint) in encodings.iter().zip(&hints) {
            let (right, square) = field.check(e, hint);
            assert!(right, "wrong hint {} for {}", hex::encode(hint), hex::encode(e));
            let decoded = CompressedEdwardsY(*e).decompress();
            assert_eq!(decoded.is_some(), square, "{}", hex::encode(e));
            if square {
                points += 1
            } else {
                non_points += 1
            }
            // The fast path's result, and near misses of the right hint, all decode as dalek does:
            // the other root (odd), the root times i, the root plus p (not canonical).
            let x = BigUint::from_bytes_le(hint);
            let near_misses = [
                x.clone(),
                (&field.p - &x) % &field.p,
                &x * &field.sqrt_m1 % &field.p,
                &x + &field.p,
            ];
            for candidate in near_misses {
                let mut bytes = candidate.to_bytes_le();
                bytes.resize(32, 0);
                let candidate: [u8; 32] = bytes.try_into().unwrap();
                assert_eq!(CompressedEdwardsY(*e).decompress_with_hint(&candidate), decoded);
            }
        }
        assert!(points > 250 && non_points > 50, "{points} points, {non_points} non-points");
    }
}
