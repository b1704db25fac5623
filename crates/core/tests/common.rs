//! Shared helpers for the integration tests: vector files and an independent verifier.
#![allow(dead_code, missing_docs)] // test helpers, not API

use std::path::PathBuf;

pub fn vectors_dir(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../spec/vectors").join(sub)
}

pub fn read_json(path: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn hex_field(case: &serde_json::Value, field: &str) -> Vec<u8> {
    hex::decode(case[field].as_str().unwrap_or_else(|| panic!("missing {field} in {case}")))
        .unwrap_or_else(|e| panic!("bad hex in {field}: {e}"))
}

/// ed25519-zebra (ZIP-215, independent of our code) as the reference verdict.
pub fn zebra_verify(pk: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    let Ok(sig) = <[u8; 64]>::try_from(sig) else {
        return false;
    };
    let Ok(vk) = ed25519_zebra::VerificationKey::try_from(pk) else {
        return false;
    };
    vk.verify(&ed25519_zebra::Signature::from_bytes(&sig), msg).is_ok()
}

/// A small deterministic generator for test mixes (xorshift64*); the seed is printed on failure.
pub struct TestRng(pub u64);

impl TestRng {
    pub fn from_time() -> TestRng {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
        TestRng(t.as_nanos() as u64 | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}
