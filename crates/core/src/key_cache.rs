//! A cache of decoded public keys.
//!
//! Decoding a compressed Edwards point takes a field square root, about 3.5 µs here: a fifth
//! of the cost of a signature in a batch. Validators see the same authors again and again, so
//! the shells keep one cache per thread and most keys skip the square root. The cache is keyed
//! by all 32 bytes of the encoding, so a hit returns exactly what decoding would; a key that
//! does not decode is never cached. An adversary choosing keys can only cause misses, which
//! cost what no cache costs.

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};

use crate::ed25519::PUBLIC_KEY_LENGTH;

/// A direct-mapped cache from key encodings to decoded points.
pub struct KeyCache {
    slots: Vec<Option<([u8; PUBLIC_KEY_LENGTH], EdwardsPoint)>>,
    mask: usize,
}

impl KeyCache {
    /// Slots in [`KeyCache::default`]: about 800 KiB.
    pub const DEFAULT_SLOTS: usize = 4096;

    /// A cache with `slots` entries, rounded up to a power of two (at least 1).
    pub fn new(slots: usize) -> KeyCache {
        let slots = slots.max(1).next_power_of_two();
        KeyCache { slots: vec![None; slots], mask: slots - 1 }
    }

    /// Decodes a public key (non-canonical encodings accepted, as ZIP-215 says), from the
    /// cache when it holds the same 32 bytes.
    pub fn decode(&mut self, public_key: &[u8]) -> Option<EdwardsPoint> {
        let bytes: [u8; PUBLIC_KEY_LENGTH] = public_key.try_into().ok()?;
        if let Some(point) = self.get(&bytes) {
            return Some(point);
        }
        let point = CompressedEdwardsY(bytes).decompress()?;
        self.insert(bytes, point);
        Some(point)
    }

    /// The cached point of exactly these 32 bytes, without decoding anything.
    pub(crate) fn get(&self, bytes: &[u8; PUBLIC_KEY_LENGTH]) -> Option<EdwardsPoint> {
        match &self.slots[self.slot(bytes)] {
            Some((cached, point)) if cached == bytes => Some(*point),
            _ => None,
        }
    }

    /// Remembers a point that `CompressedEdwardsY(bytes).decompress()` returned.
    pub(crate) fn insert(&mut self, bytes: [u8; PUBLIC_KEY_LENGTH], point: EdwardsPoint) {
        let slot = self.slot(&bytes);
        self.slots[slot] = Some((bytes, point));
    }

    fn slot(&self, bytes: &[u8; PUBLIC_KEY_LENGTH]) -> usize {
        let mut index = [0u8; 8];
        index.copy_from_slice(&bytes[..8]);
        u64::from_le_bytes(index) as usize & self.mask
    }
}

impl Default for KeyCache {
    fn default() -> KeyCache {
        KeyCache::new(KeyCache::DEFAULT_SLOTS)
    }
}
