//! Batch hashing never panics on any layout and matches one-at-a-time hashing.
#![no_main]
use commons_sync_core::hash::{self, HashAlgorithm};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let algorithm =
        [HashAlgorithm::Sha256, HashAlgorithm::Sha512, HashAlgorithm::Blake3][data[0] as usize % 3];
    let offsets: Vec<u32> = data[1..].iter().take(8).map(|&b| b as u32).collect();
    let payload = &data[1..];
    let n = offsets.len().saturating_sub(1);
    let mut out = vec![0u8; n * algorithm.digest_len()];
    match hash::hash_batch(algorithm, payload, &offsets, &mut out) {
        Ok(()) => {
            for i in 0..n {
                let m = &payload[offsets[i] as usize..offsets[i + 1] as usize];
                let d = &out[i * algorithm.digest_len()..(i + 1) * algorithm.digest_len()];
                let single: Vec<u8> = match algorithm {
                    HashAlgorithm::Sha256 => hash::sha256(m).to_vec(),
                    HashAlgorithm::Sha512 => hash::sha512(m).to_vec(),
                    HashAlgorithm::Blake3 => hash::blake3(m).to_vec(),
                };
                assert_eq!(d, &single[..]);
            }
        }
        Err(e) => assert_eq!(e.code(), "ERR_BATCH_LAYOUT"),
    }
});
