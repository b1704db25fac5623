//! Every Ed25519 and hash vector under spec/vectors, through single verify, batch verify and
//! an independent implementation (ed25519-zebra).

mod common;

use common::{hex_field, read_json, vectors_dir, zebra_verify};
use commons_sync_core::{batch, ed25519, hash, rng::OsRandom};

const REQUIRED_ED25519: [&str; 4] =
    ["rfc8032.json", "wycheproof.json", "zip215.json", "speccheck.json"];

fn ed25519_files() -> Vec<std::path::PathBuf> {
    let dir = vectors_dir("ed25519");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for name in REQUIRED_ED25519 {
        assert!(files.iter().any(|f| f.ends_with(name)), "missing vector file {name}");
    }
    files
}

#[test]
fn ed25519_vectors_single_batch_and_reference_agree() {
    let mut checked = 0;
    for file in ed25519_files() {
        let doc = read_json(&file);
        let cases = doc["cases"].as_array().expect("cases");
        assert!(!cases.is_empty(), "{} has no cases", file.display());
        let mut items = Vec::new();
        let mut expected = Vec::new();
        let owned: Vec<_> = cases
            .iter()
            .map(|c| {
                (hex_field(c, "publicKey"), hex_field(c, "message"), hex_field(c, "signature"))
            })
            .collect();
        for (case, (pk, msg, sig)) in cases.iter().zip(&owned) {
            let id = case["id"].to_string();
            let valid = case["valid"].as_bool().expect("valid");
            assert_eq!(
                ed25519::verify(pk, msg, sig),
                valid,
                "{} case {id}: single",
                file.display()
            );
            assert_eq!(
                zebra_verify(pk, msg, sig),
                valid,
                "{} case {id}: ed25519-zebra",
                file.display()
            );
            if let Some(seed) = case.get("seed").and_then(|s| s.as_str()) {
                let seed = hex::decode(seed).unwrap();
                assert_eq!(
                    &ed25519::public_key(&seed).unwrap()[..],
                    &pk[..],
                    "case {id}: public key"
                );
                assert_eq!(
                    &ed25519::sign(&seed, msg).unwrap()[..],
                    &sig[..],
                    "case {id}: signature"
                );
            }
            items.push(batch::BatchItem { public_key: pk, message: msg, signature: sig });
            expected.push(valid);
            checked += 1;
        }
        let mut out = vec![false; items.len()];
        batch::verify_batch(&items, &mut OsRandom, &mut out).unwrap();
        for (i, (got, want)) in out.iter().zip(&expected).enumerate() {
            assert_eq!(got, want, "{}: batch verdict of case #{i}", file.display());
        }
    }
    assert!(checked > 300, "only {checked} vectors checked");
}

#[test]
fn hash_vectors() {
    for (file, algorithm) in [
        ("sha256.json", hash::HashAlgorithm::Sha256),
        ("sha512.json", hash::HashAlgorithm::Sha512),
        ("blake3.json", hash::HashAlgorithm::Blake3),
    ] {
        let doc = read_json(&vectors_dir("hash").join(file));
        let cases = doc["cases"].as_array().expect("cases");
        assert!(!cases.is_empty(), "{file} has no cases");
        let mut data = Vec::new();
        let mut offsets = vec![0u32];
        let mut digests = Vec::new();
        for case in cases {
            let input = hex_field(case, "input");
            let digest = hex_field(case, "digest");
            let single: Vec<u8> = match algorithm {
                hash::HashAlgorithm::Sha256 => hash::sha256(&input).to_vec(),
                hash::HashAlgorithm::Sha512 => hash::sha512(&input).to_vec(),
                hash::HashAlgorithm::Blake3 => hash::blake3(&input).to_vec(),
            };
            assert_eq!(single, digest, "{file} case {}", case["id"]);
            data.extend_from_slice(&input);
            offsets.push(data.len() as u32);
            digests.extend_from_slice(&digest);
        }
        let mut out = vec![0u8; digests.len()];
        hash::hash_batch(algorithm, &data, &offsets, &mut out).unwrap();
        assert_eq!(out, digests, "{file}: batch");
    }
}

#[test]
fn sha256_chain_vectors() {
    let doc = read_json(&vectors_dir("hash").join("sha256-chain.json"));
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 8, "sha256-chain.json has {} cases", cases.len());
    for case in cases {
        let (head, leaves) = (hex_field(case, "head"), hex_field(case, "leaves"));
        let mut out = vec![0u8; leaves.len()];
        hash::sha256_chain(&head, &leaves, &mut out).unwrap();
        assert_eq!(out, hex_field(case, "chain"), "sha256-chain.json case {}", case["id"]);
    }
}

/// The audit log's own vectors (spec/AUDIT.md §3, checked by spec/vectors/audit/crosscheck.mjs):
/// the chain hashes of a 23-entry log follow from its leaf hashes and 32 zero bytes.
#[test]
fn sha256_chain_gives_the_audit_logs_chain_hashes() {
    let doc = read_json(&vectors_dir("audit").join("tree.json"));
    let column = |name: &str| -> Vec<u8> {
        let values = doc[name].as_array().unwrap_or_else(|| panic!("{name}"));
        assert_eq!(values.len(), 23, "{name}");
        values.iter().flat_map(|v| hex::decode(v.as_str().unwrap()).unwrap()).collect()
    };
    let leaves = column("leaf_hashes");
    let mut out = vec![0u8; leaves.len()];
    hash::sha256_chain(&[0; 32], &leaves, &mut out).unwrap();
    assert_eq!(out, column("chain_hashes"));
}
