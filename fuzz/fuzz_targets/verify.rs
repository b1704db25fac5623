//! Single verification never panics, and agrees with a batch of one.
#![no_main]
use commons_sync_core::{batch, ed25519, rng::OsRandom};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Layout: [pk_len u8][sig_len u8] pk sig message, lengths clamped to what is there.
    if data.len() < 2 {
        return;
    }
    let (pk_len, sig_len) = (data[0] as usize % 40, data[1] as usize % 72);
    let rest = &data[2..];
    let pk_len = pk_len.min(rest.len());
    let (pk, rest) = rest.split_at(pk_len);
    let sig_len = sig_len.min(rest.len());
    let (sig, msg) = rest.split_at(sig_len);
    let single = ed25519::verify(pk, msg, sig);
    let mut out = [false];
    let item = batch::BatchItem { public_key: pk, message: msg, signature: sig };
    batch::verify_batch(&[item], &mut OsRandom, &mut out).expect("one item, one verdict");
    assert_eq!(single, out[0], "single and batch disagree");
});
