//! Where the time of a verification goes:
//! `cargo run --release -p commons-sync-core --example profile`.
//!
//! Every figure is CPU time, the fastest of several rounds (the machine is shared: the minimum
//! is the least disturbed). "Cold" batches rotate through 16,384 distinct signers, four times the
//! key cache, so every key is decoded again, as the bench's cold-key case does.
use std::hint::black_box;
use std::time::Instant;

use commons_sync_core::decode::{self, Decoder};
use commons_sync_core::{batch, ed25519, rng::OsRandom, KeyCache};

const ROUNDS: usize = 7;

/// Nanoseconds this thread has run on a CPU (Linux), else wall-clock nanoseconds: on a shared
/// machine the time a thread waits for a core is not the code's cost.
fn cpu_ns(start: Instant) -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| start.elapsed().as_nanos() as u64)
}

/// Microseconds of CPU time per item of `f`, which handles `items` items per call: the fastest
/// of several rounds of at least 50 ms each (the CPU-time clock advances in coarse steps).
fn per_item(items: usize, calls: usize, mut f: impl FnMut()) -> f64 {
    let epoch = Instant::now();
    (0..ROUNDS)
        .map(|_| {
            let (start, mut done) = (cpu_ns(epoch), 0);
            while cpu_ns(epoch) - start < 50_000_000 {
                for _ in 0..calls {
                    f();
                }
                done += calls;
            }
            (cpu_ns(epoch) - start) as f64 / 1e3 / (done * items) as f64
        })
        .fold(f64::INFINITY, f64::min)
}

struct Packed {
    keys: Vec<u8>,
    sigs: Vec<u8>,
    msgs: Vec<u8>,
    offsets: Vec<u32>,
}

fn signers(count: usize, label: u8) -> Packed {
    let mut p = Packed { keys: vec![], sigs: vec![], msgs: vec![], offsets: vec![0] };
    for i in 0..count {
        let mut seed = [label; 32];
        seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
        let msg: Vec<u8> = (0..100).map(|j| (i + j) as u8).collect();
        p.keys.extend_from_slice(&ed25519::public_key(&seed).unwrap());
        p.sigs.extend_from_slice(&ed25519::sign(&seed, &msg).unwrap());
        p.msgs.extend_from_slice(&msg);
        p.offsets.push(p.msgs.len() as u32);
    }
    p
}

impl Packed {
    fn len(&self) -> usize {
        self.offsets.len() - 1
    }
    /// Items `from..from + n` as their own packed batch.
    fn slice(&self, from: usize, n: usize) -> Packed {
        let (a, b) = (self.offsets[from] as usize, self.offsets[from + n] as usize);
        Packed {
            keys: self.keys[32 * from..32 * (from + n)].to_vec(),
            sigs: self.sigs[64 * from..64 * (from + n)].to_vec(),
            msgs: self.msgs[a..b].to_vec(),
            offsets: self.offsets[from..=from + n].iter().map(|o| o - self.offsets[from]).collect(),
        }
    }
    fn verify(&self, cache: &mut KeyCache) {
        let mut out = vec![0u8; self.len()];
        batch::verify_batch_packed_cached(
            cache,
            &self.keys,
            &self.sigs,
            &self.msgs,
            &self.offsets,
            &mut OsRandom,
            &mut out,
        )
        .unwrap();
        assert!(out.iter().all(|&v| v == 1));
    }
    fn item(&self, i: usize) -> (&[u8], &[u8], &[u8]) {
        let m = &self.msgs[self.offsets[i] as usize..self.offsets[i + 1] as usize];
        (&self.keys[32 * i..32 * i + 32], m, &self.sigs[64 * i..64 * i + 64])
    }
}

fn main() {
    let warm = signers(1024, 1);
    let cold = signers(16_384, 2);
    println!("decoders available: IFMA {}", Decoder::Ifma.is_available());

    let encodings: Vec<[u8; 32]> =
        (0..64).map(|i| warm.sigs[64 * i..64 * i + 32].try_into().unwrap()).collect();
    let mut points = vec![None; 64];
    for decoder in [Decoder::Portable, Decoder::Ifma] {
        let t = per_item(64, 10, || decode::decompress_with(decoder, &encodings, &mut points));
        println!("decode 64 points, {decoder:?}: {t:.2} µs per point");
    }
    let t = per_item(64, 10, || {
        for i in 0..64 {
            let (_, m, s) = warm.item(i);
            black_box(commons_sync_core::hash::sha512(&[&s[..32], m].concat()));
        }
    });
    println!("SHA-512 of R || A || 100-byte message: {t:.2} µs");

    let mut cache = KeyCache::default();
    let mut i = 0;
    let t = per_item(1, 100, || {
        let (k, m, s) = warm.item(i % 64);
        assert!(ed25519::verify_cached(&mut cache, k, m, s));
        i += 1;
    });
    println!("single verify, key cached: {t:.2} µs");
    let mut i = 0;
    let t = per_item(1, 100, || {
        let (k, m, s) = cold.item(i % cold.len());
        assert!(ed25519::verify_cached(&mut cache, k, m, s));
        i += 1;
    });
    println!("single verify, key not cached: {t:.2} µs");

    for size in [64usize, 256, 1024] {
        let b = warm.slice(0, size);
        let mut cache = KeyCache::default();
        let t = per_item(size, (640 / size).max(1), || b.verify(&mut cache));
        print!("batch-{size}: {t:.2} µs per signature, keys cached; ");
        let batches: Vec<Packed> =
            (0..cold.len() / size).map(|j| cold.slice(j * size, size)).collect();
        let mut j = 0;
        let t = per_item(size, (640 / size).max(1), || {
            batches[j % batches.len()].verify(&mut cache);
            j += 1;
        });
        println!("{t:.2} µs with 16,384 rotating signers");
    }
}
