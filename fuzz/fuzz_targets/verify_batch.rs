//! Packed batch verification never panics on any layout, and gives exactly the single verdicts.
#![no_main]
use commons_sync_core::{batch, ed25519, rng::OsRandom};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Build n items of 32 + 64 bytes plus a message length byte from the input; any leftover
    // is a message pool. Half of the inputs start from a real signature so the valid path runs.
    if data.is_empty() {
        return;
    }
    let n = (data[0] as usize % 9).min(data.len() / 97);
    let mut keys = Vec::new();
    let mut sigs = Vec::new();
    let mut messages = Vec::new();
    let mut offsets = vec![0u32];
    let mut at = 1;
    for i in 0..n {
        let chunk = &data[at..at + 97];
        at += 97;
        let msg_len = chunk[96] as usize % 16;
        let msg: Vec<u8> = chunk[..msg_len].to_vec();
        if chunk[95] & 1 == 1 {
            let seed = &chunk[..32];
            keys.extend_from_slice(&ed25519::public_key(seed).unwrap());
            let mut sig = ed25519::sign(seed, &msg).unwrap();
            if chunk[94] & 3 == 0 {
                sig[(chunk[93] as usize) % 64] ^= 1 << (i % 8);
            }
            sigs.extend_from_slice(&sig);
        } else {
            keys.extend_from_slice(&chunk[..32]);
            sigs.extend_from_slice(&chunk[32..96]);
        }
        messages.extend_from_slice(&msg);
        offsets.push(messages.len() as u32);
    }
    let mut out = vec![0u8; n];
    batch::verify_batch_packed(&keys, &sigs, &messages, &offsets, &mut OsRandom, &mut out)
        .expect("well-formed layout");
    for i in 0..n {
        let msg = &messages[offsets[i] as usize..offsets[i + 1] as usize];
        let single = ed25519::verify(&keys[32 * i..32 * i + 32], msg, &sigs[64 * i..64 * i + 64]);
        assert_eq!(out[i] == 1, single, "item {i}: batch and single disagree");
    }
    // Arbitrary (mostly malformed) layouts: an error or verdicts, never a panic.
    let raw_offsets: Vec<u32> =
        data.chunks(4).take(5).map(|c| c.iter().map(|&b| b as u32).sum()).collect();
    let mut out = vec![0u8; raw_offsets.len().saturating_sub(1)];
    let _ = batch::verify_batch_packed(&keys, &sigs, data, &raw_offsets, &mut OsRandom, &mut out);
});
