//! Where the time of a batch goes: `cargo run --release -p commons-sync-core --example profile`.
use std::time::Instant;

use commons_sync_core::{batch, ed25519, rng::OsRandom, KeyCache};
use curve25519_dalek::edwards::CompressedEdwardsY;

fn main() {
    let n = 64;
    let mut keys = Vec::new();
    let mut sigs = Vec::new();
    let mut msgs = Vec::new();
    let mut offsets = vec![0u32];
    for i in 0..n {
        let seed = [i as u8 + 1; 32];
        let msg = vec![i as u8; 100];
        keys.extend_from_slice(&ed25519::public_key(&seed).unwrap());
        sigs.extend_from_slice(&ed25519::sign(&seed, &msg).unwrap());
        msgs.extend_from_slice(&msg);
        offsets.push(msgs.len() as u32);
    }
    let reps = 200;
    let t = Instant::now();
    for _ in 0..reps {
        for i in 0..n {
            let b: [u8; 32] = keys[32 * i..32 * i + 32].try_into().unwrap();
            std::hint::black_box(CompressedEdwardsY(b).decompress());
        }
    }
    let per = t.elapsed().as_secs_f64() * 1e6 / (reps * n) as f64;
    println!("decompress: {per:.2} µs");
    let t = Instant::now();
    for _ in 0..reps {
        for i in 0..n {
            let m = &msgs[offsets[i] as usize..offsets[i + 1] as usize];
            std::hint::black_box(ed25519::verify(
                &keys[32 * i..32 * i + 32],
                m,
                &sigs[64 * i..64 * i + 64],
            ));
        }
    }
    let per = t.elapsed().as_secs_f64() * 1e6 / (reps * n) as f64;
    println!("single verify: {per:.2} µs");
    for size in [64usize, 256, 1024] {
        let (k, s, m, o) = repeat(&keys, &sigs, &msgs, &offsets, size / n);
        let mut out = vec![0u8; size];
        let r = if size > 64 { 20 } else { reps };
        let t = Instant::now();
        for _ in 0..r {
            batch::verify_batch_packed(&k, &s, &m, &o, &mut OsRandom, &mut out).unwrap();
        }
        let cold = t.elapsed().as_secs_f64() * 1e6 / (r * size) as f64;
        let mut cache = KeyCache::default();
        let t = Instant::now();
        for _ in 0..r {
            batch::verify_batch_packed_cached(&mut cache, &k, &s, &m, &o, &mut OsRandom, &mut out)
                .unwrap();
        }
        let warm = t.elapsed().as_secs_f64() * 1e6 / (r * size) as f64;
        assert!(out.iter().all(|&v| v == 1));
        println!("batch-{size}: {cold:.2} µs per signature cold, {warm:.2} µs with warm key cache");
    }
}

fn repeat(
    k: &[u8],
    s: &[u8],
    m: &[u8],
    o: &[u32],
    times: usize,
) -> (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u32>) {
    let (mut k2, mut s2, mut m2, mut o2) = (Vec::new(), Vec::new(), Vec::new(), vec![0u32]);
    for _ in 0..times {
        k2.extend_from_slice(k);
        s2.extend_from_slice(s);
        for w in o.windows(2) {
            m2.extend_from_slice(&m[w[0] as usize..w[1] as usize]);
            o2.push(m2.len() as u32);
        }
    }
    (k2, s2, m2, o2)
}
