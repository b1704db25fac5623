//! The Shamir share format against `spec/vectors/shamir/commons-sync-v1.json`, which an
//! independent Python implementation generates (`gen_shamir.py`): splits reproduce the shares
//! byte for byte, every listed subset combines to the secret, and each invalid set is refused
//! with its code.
mod common;

use common::{hex_field, read_json, vectors_dir};
use commons_sync_core::shamir;

fn vectors() -> serde_json::Value {
    read_json(&vectors_dir("shamir").join("commons-sync-v1.json"))
}

#[test]
fn splits_reproduce_the_vectors_and_combine_back() {
    let file = vectors();
    let cases = file["cases"].as_array().expect("cases");
    assert!(cases.len() >= 8);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let secret = hex_field(case, "secret");
        let threshold = case["threshold"].as_u64().unwrap() as usize;
        let count = case["count"].as_u64().unwrap() as usize;
        let randomness = hex_field(case, "randomness");
        let expected: Vec<Vec<u8>> = case["shares"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| hex::decode(s.as_str().unwrap()).unwrap())
            .collect();
        let shares = shamir::split_with_randomness(&secret, threshold, count, &randomness).unwrap();
        assert_eq!(shares, expected, "{name}: split");
        let first: Vec<&[u8]> = expected[..threshold].iter().map(Vec::as_slice).collect();
        assert_eq!(shamir::combine(&first).unwrap(), secret, "{name}: first shares");
        let last: Vec<&[u8]> =
            expected[count - threshold..].iter().rev().map(Vec::as_slice).collect();
        assert_eq!(shamir::combine(&last).unwrap(), secret, "{name}: last shares");
        let short = &first[..threshold - 1];
        assert_eq!(shamir::combine(short).unwrap_err().code(), "ERR_SHAMIR_TOO_FEW", "{name}");
    }
}

#[test]
fn invalid_share_sets_are_refused_with_their_code() {
    let file = vectors();
    let invalid = file["invalid"].as_array().expect("invalid");
    assert!(invalid.len() >= 10);
    for case in invalid {
        let shares: Vec<Vec<u8>> = case["shares"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| hex::decode(s.as_str().unwrap()).unwrap())
            .collect();
        let refs: Vec<&[u8]> = shares.iter().map(Vec::as_slice).collect();
        let err = shamir::combine(&refs).expect_err(case["name"].as_str().unwrap());
        assert_eq!(err.code(), case["error"].as_str().unwrap(), "{}", case["name"]);
    }
}

#[test]
fn random_splits_combine_from_any_threshold_subset() {
    let mut rng = common::TestRng::from_time();
    eprintln!("seed {}", rng.0);
    for _ in 0..200 {
        let len = 1 + (rng.next_u64() % 64) as usize;
        let count = 2 + (rng.next_u64() % 10) as usize;
        let threshold = 2 + (rng.next_u64() % (count as u64 - 1)) as usize;
        let secret: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        let shares =
            shamir::split(&secret, threshold, count, &mut commons_sync_core::rng::OsRandom)
                .unwrap();
        // A pseudo-random subset of `threshold` shares in a pseudo-random order.
        let mut order: Vec<usize> = (0..count).collect();
        for i in (1..count).rev() {
            order.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
        }
        let subset: Vec<&[u8]> = order[..threshold].iter().map(|&i| shares[i].as_slice()).collect();
        assert_eq!(shamir::combine(&subset).unwrap(), secret);
        assert_eq!(
            shamir::combine(&subset[..threshold - 1]).unwrap_err().code(),
            "ERR_SHAMIR_TOO_FEW"
        );
    }
}
