//! Batch verification gives exactly the single verdict of every item, for any mix of good and
//! bad items, and the independent ed25519-zebra agrees with both.

mod common;

use common::{zebra_verify, TestRng};
use commons_sync_core::{batch, ed25519, rng::OsRandom, Error};

/// The group order L, little-endian.
const L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// One item, good or broken in one of several ways.
fn make_item(rng: &mut TestRng, seeds: &[[u8; 32]]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let seed = seeds[rng.below(seeds.len())];
    let msg_len = rng.below(200);
    let msg = rng.bytes(msg_len);
    let mut pk = ed25519::public_key(&seed).unwrap().to_vec();
    let mut sig = ed25519::sign(&seed, &msg).unwrap().to_vec();
    let mut msg = msg;
    let (byte, bit) = (rng.below(31), 1u8 << rng.below(8));
    match rng.below(10) {
        0 => sig[byte] ^= bit,      // R altered
        1 => sig[32 + byte] ^= bit, // S altered (stays < 2^253)
        2 => msg.push(1),           // message altered
        3 => pk[byte] ^= bit,       // key altered (may not decode)
        4 => {
            // S + L: same point equation, but non-canonical S must be rejected
            let mut carry = 0u16;
            for i in 0..32 {
                let v = sig[32 + i] as u16 + L[i] as u16 + carry;
                sig[32 + i] = v as u8;
                carry = v >> 8;
            }
        }
        5 => sig.truncate(byte), // wrong length
        6 => pk = rng.bytes(32), // random key
        _ => {}                  // valid
    }
    (pk, msg, sig)
}

#[test]
fn batch_equals_single_for_random_mixes() {
    let mut rng = TestRng::from_time();
    let start = rng.0;
    let seeds: Vec<[u8; 32]> = (0..6).map(|_| rng.bytes(32).try_into().unwrap()).collect();
    for round in 0..40 {
        let n = [0, 1, 2, 3, 7, 16, 33, 64][round % 8];
        let items: Vec<_> = (0..n).map(|_| make_item(&mut rng, &seeds)).collect();
        let refs: Vec<_> = items
            .iter()
            .map(|(pk, msg, sig)| batch::BatchItem { public_key: pk, message: msg, signature: sig })
            .collect();
        let mut out = vec![false; n];
        batch::verify_batch(&refs, &mut OsRandom, &mut out).unwrap();
        for (i, (pk, msg, sig)) in items.iter().enumerate() {
            let single = ed25519::verify(pk, msg, sig);
            assert_eq!(out[i], single, "seed {start}: round {round} item {i}");
            assert_eq!(zebra_verify(pk, msg, sig), single, "seed {start}: zebra, item {i}");
        }
    }
}

/// Batches with many distinct signers: the equations have 100 to 600 points, where the
/// multiscalar multiplication uses Pippenger's method (from 100 points with the AVX-512 IFMA
/// backend, 190 otherwise), and all keys and R's are decoded together, eight per IFMA group.
#[test]
fn batch_equals_single_with_many_signers() {
    let mut rng = TestRng::from_time();
    let start = rng.0;
    let seeds: Vec<[u8; 32]> = (0..300).map(|_| rng.bytes(32).try_into().unwrap()).collect();
    let mut cache = commons_sync_core::KeyCache::new(64); // most keys miss, some hit
    for (round, n) in [50usize, 64, 100, 150, 300].into_iter().enumerate() {
        let items: Vec<_> = (0..n).map(|_| make_item(&mut rng, &seeds)).collect();
        let refs: Vec<_> = items
            .iter()
            .map(|(pk, msg, sig)| batch::BatchItem { public_key: pk, message: msg, signature: sig })
            .collect();
        let mut out = vec![false; n];
        batch::verify_batch_cached(&mut cache, &refs, &mut OsRandom, &mut out).unwrap();
        let mut valid = 0;
        for (i, (pk, msg, sig)) in items.iter().enumerate() {
            let single = ed25519::verify(pk, msg, sig);
            assert_eq!(out[i], single, "seed {start}: round {round} item {i}");
            valid += usize::from(single);
        }
        assert!(valid > 0 && valid < n, "seed {start}: {valid} of {n} valid");
        // n valid signatures from n distinct signers: one equation of 2n + 1 points passes.
        let good: Vec<_> = seeds[..n]
            .iter()
            .map(|seed| {
                let msg = rng.bytes(40);
                (ed25519::public_key(seed).unwrap(), ed25519::sign(seed, &msg).unwrap(), msg)
            })
            .collect();
        let good: Vec<_> = good
            .iter()
            .map(|(pk, sig, msg)| batch::BatchItem { public_key: pk, message: msg, signature: sig })
            .collect();
        let mut all = vec![false; good.len()];
        batch::verify_batch_cached(&mut cache, &good, &mut OsRandom, &mut all).unwrap();
        assert!(all.iter().all(|ok| *ok), "seed {start}: round {round}");
    }
}

#[test]
fn packed_batch_matches_and_checks_layout() {
    let seed = [9u8; 32];
    let pk = ed25519::public_key(&seed).unwrap();
    let msgs: [&[u8]; 3] = [b"a", b"", b"ccc"];
    let mut keys = Vec::new();
    let mut sigs = Vec::new();
    for m in msgs {
        keys.extend_from_slice(&pk);
        sigs.extend_from_slice(&ed25519::sign(&seed, m).unwrap());
    }
    sigs[64 + 40] ^= 4; // break item 1
    let data = b"accc";
    let offsets = [0u32, 1, 1, 4];
    let mut out = [9u8; 3];
    batch::verify_batch_packed(&keys, &sigs, data, &offsets, &mut OsRandom, &mut out).unwrap();
    assert_eq!(out, [1, 0, 1]);

    let bad_layouts: [(&[u8], &[u32]); 4] = [
        (data, &[0, 1, 1]),    // 2 messages, 3 keys
        (data, &[1, 1, 1, 4]), // not starting at 0
        (data, &[0, 2, 1, 4]), // decreasing
        (data, &[0, 1, 1, 5]), // past the end
    ];
    for (d, o) in bad_layouts {
        let mut out = vec![0u8; o.len() - 1];
        let err =
            batch::verify_batch_packed(&keys, &sigs, d, o, &mut OsRandom, &mut out).unwrap_err();
        assert_eq!(err.code(), "ERR_BATCH_LAYOUT", "{o:?}");
    }
    let mut short = [0u8; 2];
    let err = batch::verify_batch_packed(&keys, &sigs, data, &offsets, &mut OsRandom, &mut short);
    assert!(matches!(err, Err(Error::OutputLength { expected: 3, got: 2 })));
}

#[test]
fn failing_randomness_is_an_error_not_a_weak_batch() {
    let seed = [1u8; 32];
    let pk = ed25519::public_key(&seed).unwrap();
    let sig = ed25519::sign(&seed, b"m").unwrap();
    let item = batch::BatchItem { public_key: &pk, message: b"m", signature: &sig };
    let mut broken = |_: &mut [u8]| -> Result<(), Error> { Err(Error::Randomness) };
    let mut out = [false];
    assert_eq!(batch::verify_batch(&[item], &mut broken, &mut out), Err(Error::Randomness));
}

#[test]
fn coefficients_are_drawn_per_batch() {
    // Two invalid signatures whose errors cancel under fixed coefficients z = 1: item 1's S
    // is raised by 1 and item 2's lowered by 1, so Σ S_i is unchanged. With the good items
    // around them the batch is larger than a leaf, so only random z_i can catch them.
    let seed = [3u8; 32];
    let pk = ed25519::public_key(&seed).unwrap();
    let sign = |m: &[u8]| ed25519::sign(&seed, m).unwrap();
    let mut n = 0u8;
    let (mut s1, mut s2) = loop {
        let (a, b) = (sign(&[b'a', n]), sign(&[b'b', n]));
        if a[32] < 255 && b[32] > 0 {
            break (a, b);
        }
        n += 1;
    };
    s1[32] += 1;
    s2[32] -= 1;
    let (g1, g2) = (sign(b"good-1"), sign(b"good-2"));
    let (m1, m2) = ([b'a', n], [b'b', n]);
    let items = [
        batch::BatchItem { public_key: &pk, message: b"good-1", signature: &g1 },
        batch::BatchItem { public_key: &pk, message: &m1, signature: &s1 },
        batch::BatchItem { public_key: &pk, message: &m2, signature: &s2 },
        batch::BatchItem { public_key: &pk, message: b"good-2", signature: &g2 },
    ];
    for _ in 0..8 {
        let mut out = [false; 4];
        batch::verify_batch(&items, &mut OsRandom, &mut out).unwrap();
        assert_eq!(out, [true, false, false, true]);
    }
    // And the cancellation is real: with every coefficient forced to 1 the batch would pass.
    let mut ones = |dest: &mut [u8]| -> Result<(), Error> {
        dest.iter_mut().enumerate().for_each(|(i, b)| *b = u8::from(i % 16 == 0));
        Ok(())
    };
    let mut out = [false; 4];
    batch::verify_batch(&items, &mut ones, &mut out).unwrap();
    assert_eq!(out, [true; 4], "fixed coefficients are fooled, which is why they are random");
}

#[test]
fn seeds_of_the_wrong_length_are_typed_errors() {
    for len in [0usize, 31, 33, 64] {
        let seed = vec![0u8; len];
        assert_eq!(ed25519::sign(&seed, b"m").unwrap_err(), Error::InvalidSeedLength { got: len });
        assert_eq!(ed25519::public_key(&seed).unwrap_err().code(), "ERR_INVALID_SEED_LENGTH");
    }
}

#[test]
fn key_cache_gives_the_same_verdicts_and_survives_collisions() {
    use commons_sync_core::KeyCache;
    let mut rng = TestRng::from_time();
    let start = rng.0;
    let seeds: Vec<[u8; 32]> = (0..40).map(|_| rng.bytes(32).try_into().unwrap()).collect();
    // Two slots: keys collide and evict each other all the time.
    let mut cache = KeyCache::new(2);
    for round in 0..30 {
        let items: Vec<_> = (0..9).map(|_| make_item(&mut rng, &seeds)).collect();
        let refs: Vec<_> = items
            .iter()
            .map(|(pk, msg, sig)| batch::BatchItem { public_key: pk, message: msg, signature: sig })
            .collect();
        let mut out = vec![false; items.len()];
        batch::verify_batch_cached(&mut cache, &refs, &mut OsRandom, &mut out).unwrap();
        for (i, (pk, msg, sig)) in items.iter().enumerate() {
            let single = ed25519::verify(pk, msg, sig);
            assert_eq!(out[i], single, "seed {start}: round {round} item {i}");
            assert_eq!(
                ed25519::verify_cached(&mut cache, pk, msg, sig),
                single,
                "seed {start}: cached single"
            );
        }
    }
}
