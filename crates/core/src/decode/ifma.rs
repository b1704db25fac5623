//! Eight point decompressions at once in AVX-512 IFMA lanes (x86-64 only).
//!
//! The cost of decoding a point is the field exponentiation inside `sqrt_ratio_i`: 254 squarings
//! and 11 multiplications, one after another. Here eight of them run side by side, one per 64-bit
//! lane of a 512-bit vector, with field elements in radix 2^51 as curve25519-dalek's own AVX-512
//! IFMA backend keeps them (its `F51x4` multiplication and squaring, widened from four lanes to
//! eight; curve25519-dalek is BSD-3-Clause, see `vendor/curve25519-dalek/LICENSE`).
//!
//! The output is a *hint* per encoding: the canonical bytes of the non-negative root that
//! dalek's `sqrt_ratio_i(y² - 1, d y² + 1)` returns. `CompressedEdwardsY::decompress_with_hint`
//! checks it with a few multiplications and falls back to `decompress` when it is wrong, so a
//! mistake here can cost time but never change a verdict.
//!
//! # Why this module may use `unsafe`
//!
//! The workspace denies `unsafe_code`; this module is the one exception (see `lib.rs`). The
//! intrinsics themselves are safe to call inside functions compiled with the AVX-512 features;
//! the only `unsafe` is the call into such a function, made after the CPU was checked to have
//! those features. No raw pointers, loads or stores: vectors are built and read lane by lane.
#![allow(unsafe_code)]

use core::arch::x86_64::*;

type V = __m512i;

/// Eight field elements, limb `k` of lane `j` in `self.0[k]` lane `j`, radix 2^51.
#[derive(Clone, Copy)]
struct F8([V; 5]);

/// Whether this CPU can run [`sqrt_hints`].
pub(super) fn is_available() -> bool {
    is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512ifma")
}

/// Writes into `hints[i]` the square-root hint of `encodings[i]`, eight at a time (a last
/// partial group is padded). Returns `false`, writing nothing, when the CPU lacks AVX-512 IFMA.
pub(super) fn sqrt_hints(encodings: &[[u8; 32]], hints: &mut [[u8; 32]]) -> bool {
    assert_eq!(encodings.len(), hints.len(), "one hint per encoding");
    if !is_available() {
        return false;
    }
    for (group, out) in encodings.chunks(8).zip(hints.chunks_mut(8)) {
        let mut lanes = [[0u8; 32]; 8];
        lanes[..group.len()].copy_from_slice(group);
        // SAFETY: `sqrt_hints8` needs avx512f and avx512ifma, and `is_available` just checked
        // that this CPU has both. It takes and returns plain arrays (no pointers).
        let roots = unsafe { sqrt_hints8(&lanes) };
        out.copy_from_slice(&roots[..group.len()]);
    }
    true
}

/// The hints of eight encodings (see the module documentation).
#[target_feature(enable = "avx512f,avx512ifma")]
fn sqrt_hints8(encodings: &[[u8; 32]; 8]) -> [[u8; 32]; 8] {
    let mut limbs = [[0u64; 5]; 8];
    for (lane, bytes) in limbs.iter_mut().zip(encodings) {
        *lane = limbs_from_bytes(bytes);
    }
    let one = F8([splat(1), zero(), zero(), zero(), zero()]);
    let y = load(&limbs);
    let yy = square(&y);
    let u = sub(&yy, &one); // y² - 1
    let v = add_fe(&mul(&yy, &constant(EDWARDS_D)), &one); // d y² + 1

    // r = (u v³)(u v⁷)^((p-5)/8): r² v = ±u when u/v is a square, ±i u when it is not.
    let v3 = mul(&square(&v), &v);
    let v7 = mul(&square(&v3), &v);
    let r = mul(&mul(&u, &v3), &pow_p58(&mul(&u, &v7)));
    let check = canonical(&mul(&v, &square(&r)));

    // As dalek's sqrt_ratio_i: multiply by i when v r² is -u or -i u, then take |r|.
    let neg_u = sub(&zero_fe(), &u);
    let flipped = equal(&check, &canonical(&neg_u))
        | equal(&check, &canonical(&mul(&neg_u, &constant(SQRT_M1))));
    let r = canonical(&select(flipped, &r, &mul(&r, &constant(SQRT_M1))));
    let negative = _mm512_test_epi64_mask(r.0[0], splat(1));
    let r = canonical(&select(negative, &r, &sub(&zero_fe(), &r)));

    let mut out = [[0u8; 32]; 8];
    for (lane, bytes) in out.iter_mut().enumerate() {
        *bytes = bytes_from_limbs(&lane_limbs(&r, lane));
    }
    out
}

const MASK51: u64 = (1 << 51) - 1;

/// `d = -121665/121666`, in radix 2^51 (curve25519-dalek's `EDWARDS_D`).
const EDWARDS_D: [u64; 5] =
    [929955233495203, 466365720129213, 1662059464998953, 2033849074728123, 1442794654840575];

/// `i = sqrt(-1)`, the non-negative root, in radix 2^51 (curve25519-dalek's `SQRT_M1`).
const SQRT_M1: [u64; 5] =
    [1718705420411056, 234908883556509, 2233514472574048, 2117202627021982, 765476049583133];

/// The field element that little-endian `bytes` encode, bit 255 ignored and `y >= p` kept
/// unreduced, exactly as dalek's `FieldElement::from_bytes`.
fn limbs_from_bytes(bytes: &[u8; 32]) -> [u64; 5] {
    let load8 = |at: usize| {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(word)
    };
    [
        load8(0) & MASK51,
        (load8(6) >> 3) & MASK51,
        (load8(12) >> 6) & MASK51,
        (load8(19) >> 1) & MASK51,
        (load8(24) >> 12) & MASK51,
    ]
}

/// Little-endian bytes of canonical limbs (each below 2^51, value below p).
fn bytes_from_limbs(limbs: &[u64; 5]) -> [u8; 32] {
    let words = [
        limbs[0] | (limbs[1] << 51),
        (limbs[1] >> 13) | (limbs[2] << 38),
        (limbs[2] >> 26) | (limbs[3] << 25),
        (limbs[3] >> 39) | (limbs[4] << 12),
    ];
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(8).zip(words) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    out
}

#[target_feature(enable = "avx512f")]
fn load(lanes: &[[u64; 5]; 8]) -> F8 {
    let limb = |k: usize| {
        _mm512_set_epi64(
            lanes[7][k] as i64,
            lanes[6][k] as i64,
            lanes[5][k] as i64,
            lanes[4][k] as i64,
            lanes[3][k] as i64,
            lanes[2][k] as i64,
            lanes[1][k] as i64,
            lanes[0][k] as i64,
        )
    };
    F8([limb(0), limb(1), limb(2), limb(3), limb(4)])
}

#[target_feature(enable = "avx512f")]
fn lane_limbs(x: &F8, lane: usize) -> [u64; 5] {
    let mut out = [0u64; 5];
    for (limb, v) in out.iter_mut().zip(x.0) {
        let half = if lane < 4 {
            _mm512_extracti64x4_epi64::<0>(v)
        } else {
            _mm512_extracti64x4_epi64::<1>(v)
        };
        *limb = match lane % 4 {
            0 => _mm256_extract_epi64::<0>(half),
            1 => _mm256_extract_epi64::<1>(half),
            2 => _mm256_extract_epi64::<2>(half),
            _ => _mm256_extract_epi64::<3>(half),
        } as u64;
    }
    out
}

#[inline]
#[target_feature(enable = "avx512f")]
fn constant(limbs: [u64; 5]) -> F8 {
    F8(limbs.map(|l| splat(l)))
}

#[inline]
#[target_feature(enable = "avx512f")]
fn zero_fe() -> F8 {
    F8([zero(); 5])
}

#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn lo(z: V, x: V, y: V) -> V {
    _mm512_madd52lo_epu64(z, x, y)
}

#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn hi(z: V, x: V, y: V) -> V {
    _mm512_madd52hi_epu64(z, x, y)
}

#[inline]
#[target_feature(enable = "avx512f")]
fn add(a: V, b: V) -> V {
    _mm512_add_epi64(a, b)
}

#[inline]
#[target_feature(enable = "avx512f")]
fn splat(x: u64) -> V {
    _mm512_set1_epi64(x as i64)
}

#[inline]
#[target_feature(enable = "avx512f")]
fn zero() -> V {
    _mm512_setzero_si512()
}

/// One carry pass: limbs below 2^51 plus a small carry, the form `mul` and `square` take.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn reduce(x: F8) -> F8 {
    let mask = splat(MASK51);
    let c = x.0.map(|l| _mm512_srli_epi64::<51>(l));
    F8([
        lo(_mm512_and_si512(x.0[0], mask), c[4], splat(19)),
        add(_mm512_and_si512(x.0[1], mask), c[0]),
        add(_mm512_and_si512(x.0[2], mask), c[1]),
        add(_mm512_and_si512(x.0[3], mask), c[2]),
        add(_mm512_and_si512(x.0[4], mask), c[3]),
    ])
}

#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn add_fe(a: &F8, b: &F8) -> F8 {
    reduce(F8([
        add(a.0[0], b.0[0]),
        add(a.0[1], b.0[1]),
        add(a.0[2], b.0[2]),
        add(a.0[3], b.0[3]),
        add(a.0[4], b.0[4]),
    ]))
}

/// `a - b` as `a + 16 p - b` (limbs of `b` below 2^54), as dalek's serial subtraction.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn sub(a: &F8, b: &F8) -> F8 {
    let lo16p = splat(36028797018963664); // 16 (2^51 - 19)
    let hi16p = splat(36028797018963952); // 16 (2^51 - 1)
    reduce(F8([
        _mm512_sub_epi64(add(a.0[0], lo16p), b.0[0]),
        _mm512_sub_epi64(add(a.0[1], hi16p), b.0[1]),
        _mm512_sub_epi64(add(a.0[2], hi16p), b.0[2]),
        _mm512_sub_epi64(add(a.0[3], hi16p), b.0[3]),
        _mm512_sub_epi64(add(a.0[4], hi16p), b.0[4]),
    ]))
}

/// The unique limbs below 2^51 of the value below p (dalek's `to_bytes` before packing).
#[target_feature(enable = "avx512f,avx512ifma")]
fn canonical(x: &F8) -> F8 {
    let mask = splat(MASK51);
    let mut l = reduce(*x).0;
    // q = 1 exactly when the value is at least p, i.e. when value + 19 carries out of 2^255.
    let mut q = _mm512_srli_epi64::<51>(add(l[0], splat(19)));
    for limb in &l[1..] {
        q = _mm512_srli_epi64::<51>(add(*limb, q));
    }
    l[0] = lo(l[0], q, splat(19));
    for k in 0..4 {
        l[k + 1] = add(l[k + 1], _mm512_srli_epi64::<51>(l[k]));
        l[k] = _mm512_and_si512(l[k], mask);
    }
    l[4] = _mm512_and_si512(l[4], mask); // drops q 2^255
    F8(l)
}

/// Lanes where canonical `a` and `b` are equal.
#[target_feature(enable = "avx512f")]
fn equal(a: &F8, b: &F8) -> __mmask8 {
    let mut m = 0xff;
    for k in 0..5 {
        m &= _mm512_cmpeq_epi64_mask(a.0[k], b.0[k]);
    }
    m
}

/// `b` in the lanes of `mask`, `a` elsewhere.
#[target_feature(enable = "avx512f")]
fn select(mask: __mmask8, a: &F8, b: &F8) -> F8 {
    F8([0, 1, 2, 3, 4].map(|k| _mm512_mask_blend_epi64(mask, a.0[k], b.0[k])))
}

#[target_feature(enable = "avx512f,avx512ifma")]
fn pow2k(a: &F8, k: u32) -> F8 {
    let mut x = *a;
    for _ in 0..k {
        x = square(&x);
    }
    x
}

/// `x^((p-5)/8)`, the addition chain of dalek's `pow_p58`.
#[target_feature(enable = "avx512f,avx512ifma")]
fn pow_p58(x: &F8) -> F8 {
    let t0 = square(x);
    let t1 = square(&square(&t0));
    let t2 = mul(x, &t1);
    let t3 = mul(&t0, &t2);
    let t4 = square(&t3);
    let t5 = mul(&t2, &t4);
    let t6 = pow2k(&t5, 5);
    let t7 = mul(&t6, &t5);
    let t8 = pow2k(&t7, 10);
    let t9 = mul(&t8, &t7);
    let t10 = pow2k(&t9, 20);
    let t11 = mul(&t10, &t9);
    let t12 = pow2k(&t11, 10);
    let t13 = mul(&t12, &t7);
    let t14 = pow2k(&t13, 50);
    let t15 = mul(&t14, &t13);
    let t16 = pow2k(&t15, 100);
    let t17 = mul(&t16, &t15);
    let t18 = pow2k(&t17, 50);
    let t19 = mul(&t18, &t13);
    let t20 = pow2k(&t19, 2);
    mul(x, &t20)
}

// Multiplication and squaring: dalek's `F51x4Reduced` `mul` and `square` (IFMA backend), eight
// lanes instead of four, each followed by one carry pass. Instructions are grouped in "waves" of
// independent products, as dalek groups them, to keep the IFMA units busy.

#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn mul(a: &F8, b: &F8) -> F8 {
    let x = &a.0;
    let y = &b.0;
    let mut z0_1 = zero();
    let mut z1_1 = zero();
    let mut z2_1 = zero();
    let mut z3_1 = zero();
    let mut z4_1 = zero();
    let mut z5_1 = zero();
    let mut z6_1 = zero();
    let mut z7_1 = zero();
    let mut z8_1 = zero();
    let mut z0_2 = zero();
    let mut z1_2 = zero();
    let mut z2_2 = zero();
    let mut z3_2 = zero();
    let mut z4_2 = zero();
    let mut z5_2 = zero();
    let mut z6_2 = zero();
    let mut z7_2 = zero();
    let mut z8_2 = zero();
    let mut z9_2 = zero();

    z4_1 = lo(z4_1, x[2], y[2]);
    z5_2 = hi(z5_2, x[2], y[2]);
    z5_1 = lo(z5_1, x[4], y[1]);
    z6_2 = hi(z6_2, x[4], y[1]);
    z6_1 = lo(z6_1, x[4], y[2]);
    z7_2 = hi(z7_2, x[4], y[2]);
    z7_1 = lo(z7_1, x[4], y[3]);
    z8_2 = hi(z8_2, x[4], y[3]);

    z4_1 = lo(z4_1, x[3], y[1]);
    z5_2 = hi(z5_2, x[3], y[1]);
    z5_1 = lo(z5_1, x[3], y[2]);
    z6_2 = hi(z6_2, x[3], y[2]);
    z6_1 = lo(z6_1, x[3], y[3]);
    z7_2 = hi(z7_2, x[3], y[3]);
    z7_1 = lo(z7_1, x[3], y[4]);
    z8_2 = hi(z8_2, x[3], y[4]);

    z8_1 = lo(z8_1, x[4], y[4]);
    z9_2 = hi(z9_2, x[4], y[4]);
    z4_1 = lo(z4_1, x[4], y[0]);
    z5_2 = hi(z5_2, x[4], y[0]);
    z5_1 = lo(z5_1, x[2], y[3]);
    z6_2 = hi(z6_2, x[2], y[3]);
    z6_1 = lo(z6_1, x[2], y[4]);
    z7_2 = hi(z7_2, x[2], y[4]);

    let z8 = add(z8_1, add(z8_2, z8_2));
    let z9 = add(z9_2, z9_2);

    z3_1 = lo(z3_1, x[3], y[0]);
    z4_2 = hi(z4_2, x[3], y[0]);
    z4_1 = lo(z4_1, x[1], y[3]);
    z5_2 = hi(z5_2, x[1], y[3]);
    z5_1 = lo(z5_1, x[1], y[4]);
    z6_2 = hi(z6_2, x[1], y[4]);
    z2_1 = lo(z2_1, x[2], y[0]);
    z3_2 = hi(z3_2, x[2], y[0]);

    let z6 = add(z6_1, add(z6_2, z6_2));
    let z7 = add(z7_1, add(z7_2, z7_2));

    z3_1 = lo(z3_1, x[2], y[1]);
    z4_2 = hi(z4_2, x[2], y[1]);
    z4_1 = lo(z4_1, x[0], y[4]);
    z5_2 = hi(z5_2, x[0], y[4]);
    z1_1 = lo(z1_1, x[1], y[0]);
    z2_2 = hi(z2_2, x[1], y[0]);
    z2_1 = lo(z2_1, x[1], y[1]);
    z3_2 = hi(z3_2, x[1], y[1]);

    let z5 = add(z5_1, add(z5_2, z5_2));

    z3_1 = lo(z3_1, x[1], y[2]);
    z4_2 = hi(z4_2, x[1], y[2]);
    z0_1 = lo(z0_1, x[0], y[0]);
    z1_2 = hi(z1_2, x[0], y[0]);
    z1_1 = lo(z1_1, x[0], y[1]);
    z2_1 = lo(z2_1, x[0], y[2]);
    z2_2 = hi(z2_2, x[0], y[1]);
    z3_2 = hi(z3_2, x[0], y[2]);

    let mut t0 = zero();
    let mut t1 = zero();
    let r19 = splat(19);

    t0 = hi(t0, r19, z9);
    t1 = lo(t1, r19, _mm512_srli_epi64::<52>(z9));
    z3_1 = lo(z3_1, x[0], y[3]);
    z4_2 = hi(z4_2, x[0], y[3]);
    z1_2 = lo(z1_2, r19, _mm512_srli_epi64::<52>(z5));
    z2_2 = lo(z2_2, r19, _mm512_srli_epi64::<52>(z6));
    z3_2 = lo(z3_2, r19, _mm512_srli_epi64::<52>(z7));
    z0_1 = lo(z0_1, r19, z5);

    z4_1 = lo(z4_1, r19, z9);
    z1_1 = lo(z1_1, r19, z6);
    z0_2 = lo(z0_2, r19, add(t0, t1));
    z4_2 = hi(z4_2, r19, z8);
    z2_1 = lo(z2_1, r19, z7);
    z1_2 = hi(z1_2, r19, z5);
    z2_2 = hi(z2_2, r19, z6);
    z3_2 = hi(z3_2, r19, z7);

    z3_1 = lo(z3_1, r19, z8);
    z4_2 = lo(z4_2, r19, _mm512_srli_epi64::<52>(z8));

    reduce(F8([
        add(z0_1, add(z0_2, z0_2)),
        add(z1_1, add(z1_2, z1_2)),
        add(z2_1, add(z2_2, z2_2)),
        add(z3_1, add(z3_2, z3_2)),
        add(z4_1, add(z4_2, z4_2)),
    ]))
}

#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
fn square(a: &F8) -> F8 {
    let x = &a.0;
    let mut z0_2 = zero();
    let mut z1_2 = zero();
    let mut z2_2 = zero();
    let mut z3_2 = zero();
    let mut z4_2 = zero();
    let mut z5_2 = zero();
    let mut z6_2 = zero();
    let mut z7_2 = zero();
    let mut z9_2 = zero();
    let mut z2_4 = zero();
    let mut z3_4 = zero();
    let mut z4_4 = zero();
    let mut z5_4 = zero();
    let mut z6_4 = zero();
    let mut z7_4 = zero();
    let mut z8_4 = zero();

    let mut z0_1 = zero();
    z0_1 = lo(z0_1, x[0], x[0]);

    let mut z1_1 = zero();
    z1_2 = lo(z1_2, x[0], x[1]);
    z1_2 = hi(z1_2, x[0], x[0]);

    z2_4 = hi(z2_4, x[0], x[1]);
    let mut z2_1 = _mm512_slli_epi64::<2>(z2_4);
    z2_2 = lo(z2_2, x[0], x[2]);
    z2_1 = lo(z2_1, x[1], x[1]);

    z3_4 = hi(z3_4, x[0], x[2]);
    let mut z3_1 = _mm512_slli_epi64::<2>(z3_4);
    z3_2 = lo(z3_2, x[1], x[2]);
    z3_2 = lo(z3_2, x[0], x[3]);
    z3_2 = hi(z3_2, x[1], x[1]);

    z4_4 = hi(z4_4, x[1], x[2]);
    z4_4 = hi(z4_4, x[0], x[3]);
    let mut z4_1 = _mm512_slli_epi64::<2>(z4_4);
    z4_2 = lo(z4_2, x[1], x[3]);
    z4_2 = lo(z4_2, x[0], x[4]);
    z4_1 = lo(z4_1, x[2], x[2]);

    z5_4 = hi(z5_4, x[1], x[3]);
    z5_4 = hi(z5_4, x[0], x[4]);
    let mut z5_1 = _mm512_slli_epi64::<2>(z5_4);
    z5_2 = lo(z5_2, x[2], x[3]);
    z5_2 = lo(z5_2, x[1], x[4]);
    z5_2 = hi(z5_2, x[2], x[2]);

    z6_4 = hi(z6_4, x[2], x[3]);
    z6_4 = hi(z6_4, x[1], x[4]);
    let mut z6_1 = _mm512_slli_epi64::<2>(z6_4);
    z6_2 = lo(z6_2, x[2], x[4]);
    z6_1 = lo(z6_1, x[3], x[3]);

    z7_4 = hi(z7_4, x[2], x[4]);
    let mut z7_1 = _mm512_slli_epi64::<2>(z7_4);
    z7_2 = lo(z7_2, x[3], x[4]);
    z7_2 = hi(z7_2, x[3], x[3]);

    z8_4 = hi(z8_4, x[3], x[4]);
    let mut z8_1 = _mm512_slli_epi64::<2>(z8_4);
    z8_1 = lo(z8_1, x[4], x[4]);

    let mut z9_1 = zero();
    z9_2 = hi(z9_2, x[4], x[4]);

    z5_1 = add(z5_1, _mm512_slli_epi64::<1>(z5_2));
    z6_1 = add(z6_1, _mm512_slli_epi64::<1>(z6_2));
    z7_1 = add(z7_1, _mm512_slli_epi64::<1>(z7_2));
    z9_1 = add(z9_1, _mm512_slli_epi64::<1>(z9_2));

    let mut t0 = zero();
    let mut t1 = zero();
    let r19 = splat(19);

    t0 = hi(t0, r19, z9_1);
    t1 = lo(t1, r19, _mm512_srli_epi64::<52>(z9_1));

    z4_2 = lo(z4_2, r19, _mm512_srli_epi64::<52>(z8_1));
    z3_2 = lo(z3_2, r19, _mm512_srli_epi64::<52>(z7_1));
    z2_2 = lo(z2_2, r19, _mm512_srli_epi64::<52>(z6_1));
    z1_2 = lo(z1_2, r19, _mm512_srli_epi64::<52>(z5_1));

    z0_2 = lo(z0_2, r19, add(t0, t1));
    z1_2 = hi(z1_2, r19, z5_1);
    z2_2 = hi(z2_2, r19, z6_1);
    z3_2 = hi(z3_2, r19, z7_1);
    z4_2 = hi(z4_2, r19, z8_1);

    z0_1 = lo(z0_1, r19, z5_1);
    z1_1 = lo(z1_1, r19, z6_1);
    z2_1 = lo(z2_1, r19, z7_1);
    z3_1 = lo(z3_1, r19, z8_1);
    z4_1 = lo(z4_1, r19, z9_1);

    reduce(F8([
        add(z0_1, add(z0_2, z0_2)),
        add(z1_1, add(z1_2, z1_2)),
        add(z2_1, add(z2_2, z2_2)),
        add(z3_1, add(z3_2, z3_2)),
        add(z4_1, add(z4_2, z4_2)),
    ]))
}
