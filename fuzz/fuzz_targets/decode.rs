//! Point decoding: the IFMA and portable decoders, and the hinted decompression with any hint,
//! give exactly curve25519-dalek's `decompress` result for every encoding.
#![no_main]
use commons_sync_core::decode::{self, Decoder};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use libfuzzer_sys::fuzz_target;

fn same(got: &Option<EdwardsPoint>, want: &Option<EdwardsPoint>) -> bool {
    match (got, want) {
        (Some(g), Some(w)) => g == w && g.compress() == w.compress(),
        (None, None) => true,
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    // The input is up to 24 encodings of 32 bytes (three IFMA groups, the last one partial).
    let encodings: Vec<[u8; 32]> =
        data.chunks_exact(32).take(24).map(|c| c.try_into().unwrap()).collect();
    let want: Vec<_> = encodings.iter().map(|e| CompressedEdwardsY(*e).decompress()).collect();
    for decoder in [Decoder::Portable, Decoder::Ifma] {
        let mut got = vec![None; encodings.len()];
        decode::decompress_with(decoder, &encodings, &mut got);
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(same(g, w), "{decoder:?} differs from decompress on encoding {i}");
        }
    }
    // Each encoding with the next one as its hint: any bytes, right or wrong.
    for (i, e) in encodings.iter().enumerate() {
        let hint = &encodings[(i + 1) % encodings.len()];
        let got = CompressedEdwardsY(*e).decompress_with_hint(hint);
        assert!(same(&got, &want[i]), "hinted decompression differs on encoding {i}");
    }
});
