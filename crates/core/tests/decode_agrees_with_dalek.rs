//! Every decoding path gives exactly curve25519-dalek's `decompress` result: the IFMA path, the
//! portable path and the automatic choice, on every input class (points, non-points, small-order
//! and non-canonical encodings, random bytes, every key and `R` of the vector files), and the
//! hinted decompression whatever hint it is given.

mod common;

use common::{hex_field, read_json, vectors_dir, TestRng};
use commons_sync_core::decode::{self, Decoder};
use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;

/// Non-canonical encodings: y = p + k (k < 19, i.e. y >= p), and y = 0, 1, -1 with both signs.
fn non_canonical() -> Vec<[u8; 32]> {
    let mut out = Vec::new();
    for k in 0..19u8 {
        let mut e = [0xffu8; 32];
        e[31] = 0x7f;
        e[0] = 0xed + k;
        out.push(e);
    }
    let mut minus_one = [0xffu8; 32];
    minus_one[31] = 0x7f;
    minus_one[0] = 0xec;
    let mut one = [0u8; 32];
    one[0] = 1;
    out.extend([[0u8; 32], one, minus_one]);
    let signed: Vec<_> = out.iter().map(|e| with_sign(*e)).collect();
    out.extend(signed);
    out
}

fn with_sign(mut e: [u8; 32]) -> [u8; 32] {
    e[31] |= 0x80;
    e
}

/// Keys and `R`s of every Ed25519 vector file (RFC 8032, Wycheproof, ZIP-215, speccheck, ...).
fn vector_encodings() -> Vec<[u8; 32]> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(vectors_dir("ed25519")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        for case in read_json(&path)["cases"].as_array().unwrap() {
            for (field, len) in [("publicKey", 32), ("signature", 64)] {
                let bytes = hex_field(case, field);
                if bytes.len() == len {
                    out.push(bytes[..32].try_into().unwrap());
                }
            }
        }
    }
    assert!(out.len() > 500, "vector files not found");
    out
}

fn classes(rng: &mut TestRng) -> Vec<(&'static str, Vec<[u8; 32]>)> {
    let points: Vec<[u8; 32]> = (0..64)
        .map(|_| {
            let s = Scalar::from_bytes_mod_order(rng.bytes(32).try_into().unwrap());
            let p = ED25519_BASEPOINT_POINT * s;
            // A mixed-order point now and then: a torsion component added.
            let t = EIGHT_TORSION[rng.below(8)];
            (if rng.below(4) == 0 { p + t } else { p }).compress().to_bytes()
        })
        .collect();
    let small_order: Vec<[u8; 32]> = EIGHT_TORSION
        .iter()
        .flat_map(|t| [t.compress().to_bytes(), with_sign(t.compress().to_bytes())])
        .collect();
    let random: Vec<[u8; 32]> = (0..256).map(|_| rng.bytes(32).try_into().unwrap()).collect();
    // Points whose sign bit is flipped: still points (the other x), except where x = 0.
    let flipped: Vec<[u8; 32]> = points.iter().map(|e| with_sign(*e)).collect();
    vec![
        ("points", points),
        ("flipped sign", flipped),
        ("small order", small_order),
        ("non-canonical", non_canonical()),
        ("random bytes", random),
        ("vector files", vector_encodings()),
    ]
}

fn dalek(encodings: &[[u8; 32]]) -> Vec<Option<EdwardsPoint>> {
    encodings.iter().map(|e| CompressedEdwardsY(*e).decompress()).collect()
}

/// Same verdict and, for points, the same point (projective equality) with the same encoding.
fn assert_same(got: &[Option<EdwardsPoint>], want: &[Option<EdwardsPoint>], what: &str) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g, w, "{what}: encoding #{i}");
        if let (Some(g), Some(w)) = (g, w) {
            assert_eq!(g.compress(), w.compress(), "{what}: encoding #{i}");
        }
    }
}

#[test]
fn every_decoder_equals_dalek_on_every_input_class() {
    let mut rng = TestRng::from_time();
    let seed = rng.0;
    let mut all = Vec::new();
    for (class, encodings) in classes(&mut rng) {
        let want = dalek(&encodings);
        for decoder in [Decoder::Portable, Decoder::Ifma] {
            let mut got = vec![None; encodings.len()];
            decode::decompress_with(decoder, &encodings, &mut got);
            assert_same(&got, &want, &format!("seed {seed}: {decoder:?}, {class}"));
        }
        let mut got = vec![None; encodings.len()];
        decode::decompress(&encodings, &mut got);
        assert_same(&got, &want, &format!("seed {seed}: best, {class}"));
        all.extend(encodings);
    }
    // Every length from 0 to 17 (partial groups of eight lanes), shuffled classes mixed.
    for n in 0..=17 {
        let encodings: Vec<_> = (0..n).map(|_| all[rng.below(all.len())]).collect();
        let mut got = vec![None; n];
        decode::decompress_with(Decoder::Ifma, &encodings, &mut got);
        assert_same(&got, &dalek(&encodings), &format!("seed {seed}: {n} mixed"));
    }
}

#[test]
fn hinted_decompression_equals_dalek_whatever_the_hint() {
    let mut rng = TestRng::from_time();
    let seed = rng.0;
    for (class, encodings) in classes(&mut rng) {
        for e in encodings {
            let want = CompressedEdwardsY(e).decompress();
            let mut hints = vec![
                [0u8; 32],
                [0xff; 32],
                rng.bytes(32).try_into().unwrap(),
                e,            // the y-coordinate as x
                with_sign(e), // bit 255 set: never canonical
            ];
            // A point's own encoding: canonical, often even, never its root (the root itself and
            // its negation are tried in decode.rs's unit tests, which can compute them).
            if let Some(p) = want {
                hints.push(p.compress().to_bytes());
            }
            for hint in hints {
                let got = CompressedEdwardsY(e).decompress_with_hint(&hint);
                assert_eq!(got, want, "seed {seed}: {class} {} hint {}", hex(&e), hex(&hint));
            }
        }
    }
}

#[test]
fn ifma_runs_where_the_cpu_has_it() {
    #[cfg(target_arch = "x86_64")]
    {
        let has =
            std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512ifma");
        assert_eq!(Decoder::Ifma.is_available(), has);
        assert_eq!(Decoder::best(), if has { Decoder::Ifma } else { Decoder::Portable });
        eprintln!("AVX-512 IFMA decoder available: {has}");
    }
    #[cfg(not(target_arch = "x86_64"))]
    assert_eq!(Decoder::best(), Decoder::Portable);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
