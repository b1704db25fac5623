//! The SHA-256 chain never panics on any head or leaves and matches the chain hashed one link at
//! a time; a bad layout is `ERR_BATCH_LAYOUT`.
#![no_main]
use commons_sync_core::hash;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&head_len, rest)) = data.split_first() else {
        return;
    };
    // Heads of 0..=39 bytes: mostly wrong, 32 one time in 40; the leaves are what follows.
    let (head, leaves) = rest.split_at((head_len as usize % 40).min(rest.len()));
    let mut out = vec![0u8; leaves.len()];
    match hash::sha256_chain(head, leaves, &mut out) {
        Ok(()) => {
            assert_eq!(head.len(), 32);
            let mut prev = head.to_vec();
            for (leaf, link) in leaves.chunks_exact(32).zip(out.chunks_exact(32)) {
                prev = hash::sha256(&[prev.as_slice(), leaf].concat()).to_vec();
                assert_eq!(link, &prev[..]);
            }
        }
        Err(e) => {
            assert_eq!(e.code(), "ERR_BATCH_LAYOUT");
            assert!(head.len() != 32 || leaves.len() % 32 != 0);
        }
    }
});
