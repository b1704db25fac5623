//! N-API shell over `commons-sync-core`. It converts types and maps errors, nothing more;
//! `crates/wasm/src/lib.rs` mirrors it function for function.
//!
//! Byte inputs are borrowed straight from the caller's `Uint8Array`/`Buffer` (no copy). Core
//! errors become JS errors whose `code` is the core's stable `ERR_...` code.

use std::cell::RefCell;

use commons_sync_core::{batch, ed25519, hash, rng::OsRandom, shamir, KeyCache};
use napi::bindgen_prelude::{Env, Uint8ArraySlice};
use napi_derive::napi;

thread_local! {
    /// Decoded public keys, one cache per thread (validators see the same authors again).
    static KEY_CACHE: RefCell<KeyCache> = RefCell::new(KeyCache::default());
}

fn with_cache<T>(f: impl FnOnce(&mut KeyCache) -> T) -> T {
    KEY_CACHE.with(|cache| f(&mut cache.borrow_mut()))
}

type Result<T> = std::result::Result<T, napi::Error<&'static str>>;

fn map_err(e: commons_sync_core::Error) -> napi::Error<&'static str> {
    napi::Error::new(e.code(), e.to_string())
}

fn map_shamir_err(e: shamir::ShamirError) -> napi::Error<&'static str> {
    napi::Error::new(e.code(), e.to_string())
}

/// Message `i` of packed data: `data[offsets[i]..offsets[i + 1]]`; the caller checked the layout.
fn unpack<'a>(data: &'a [u8], offsets: &[u32]) -> Vec<&'a [u8]> {
    offsets.windows(2).map(|w| &data[w[0] as usize..w[1] as usize]).collect()
}

/// Returns bytes as a plain Uint8Array over an ArrayBuffer copied into V8: for outputs of a few
/// dozen bytes this is cheaper than handing V8 an external Rust allocation with a finalizer
/// (and, unlike a Node Buffer, its `slice()` copies, as callers of a Uint8Array expect).
fn bytes<'e>(env: &'e Env, data: &[u8]) -> Result<Uint8ArraySlice<'e>> {
    Uint8ArraySlice::copy_from(env, data)
        .map_err(|e| napi::Error::new("ERR_NAPI", e.reason.clone()))
}

/// Verifies one Ed25519 signature under ZIP-215; wrong lengths give `false`.
#[napi]
pub fn ed25519_verify(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    with_cache(|cache| ed25519::verify_cached(cache, public_key, message, signature))
}

/// Verifies a packed batch (32-byte keys and 64-byte signatures back to back, messages as
/// data plus `n + 1` offsets); returns one byte per item, 1 when valid.
#[napi]
pub fn ed25519_verify_batch_packed<'e>(
    env: &'e Env,
    public_keys: &[u8],
    signatures: &[u8],
    messages: &[u8],
    offsets: &[u32],
) -> Result<Uint8ArraySlice<'e>> {
    let mut out = vec![0u8; offsets.len().saturating_sub(1)];
    with_cache(|cache| {
        batch::verify_batch_packed_cached(
            cache,
            public_keys,
            signatures,
            messages,
            offsets,
            &mut OsRandom,
            &mut out,
        )
    })
    .map_err(map_err)?;
    bytes(env, &out)
}

/// Signs `message` with the key of a 32-byte seed (RFC 8032).
#[napi]
pub fn ed25519_sign<'e>(env: &'e Env, seed: &[u8], message: &[u8]) -> Result<Uint8ArraySlice<'e>> {
    bytes(env, &ed25519::sign(seed, message).map_err(map_err)?)
}

/// The public key of a 32-byte seed.
#[napi]
pub fn ed25519_public_key<'e>(env: &'e Env, seed: &[u8]) -> Result<Uint8ArraySlice<'e>> {
    bytes(env, &ed25519::public_key(seed).map_err(map_err)?)
}

/// SHA-256.
#[napi]
pub fn sha256<'e>(env: &'e Env, data: &[u8]) -> Result<Uint8ArraySlice<'e>> {
    bytes(env, &hash::sha256(data))
}

/// SHA-512.
#[napi]
pub fn sha512<'e>(env: &'e Env, data: &[u8]) -> Result<Uint8ArraySlice<'e>> {
    bytes(env, &hash::sha512(data))
}

/// BLAKE3 (32-byte output).
#[napi]
pub fn blake3<'e>(env: &'e Env, data: &[u8]) -> Result<Uint8ArraySlice<'e>> {
    bytes(env, &hash::blake3(data))
}

/// Hashes every message of a packed batch (`algorithm`: `"sha256" | "sha512" | "blake3"`);
/// the digests come back to back.
#[napi]
pub fn hash_batch_packed<'e>(
    env: &'e Env,
    algorithm: String,
    data: &[u8],
    offsets: &[u32],
) -> Result<Uint8ArraySlice<'e>> {
    let algorithm = hash::HashAlgorithm::from_name(&algorithm).map_err(map_err)?;
    let n = offsets.len().saturating_sub(1);
    let mut out = vec![0u8; n * algorithm.digest_len()];
    hash::hash_batch(algorithm, data, offsets, &mut out).map_err(map_err)?;
    bytes(env, &out)
}

/// Extends a SHA-256 chain by one link per 32-byte leaf (`leaves` back to back):
/// `c[0] = SHA-256(head || leaf[0])`, `c[i] = SHA-256(c[i - 1] || leaf[i])`; the links come
/// back to back.
#[napi]
pub fn sha256_chain<'e>(env: &'e Env, head: &[u8], leaves: &[u8]) -> Result<Uint8ArraySlice<'e>> {
    let mut out = vec![0u8; leaves.len()];
    hash::sha256_chain(head, leaves, &mut out).map_err(map_err)?;
    bytes(env, &out)
}

/// Splits `secret` into `count` Shamir shares, any `threshold` of which restore it; the shares
/// (all the same length) come back to back.
#[napi]
pub fn shamir_split<'e>(
    env: &'e Env,
    secret: &[u8],
    threshold: u32,
    count: u32,
) -> Result<Uint8ArraySlice<'e>> {
    let shares = shamir::split(secret, threshold as usize, count as usize, &mut OsRandom)
        .map_err(map_shamir_err)?;
    bytes(env, &shares.concat())
}

/// As `shamirSplit`, with the split id and coefficients taken from `randomness` (vectors only).
#[napi]
pub fn shamir_split_with_randomness<'e>(
    env: &'e Env,
    secret: &[u8],
    threshold: u32,
    count: u32,
    randomness: &[u8],
) -> Result<Uint8ArraySlice<'e>> {
    let shares =
        shamir::split_with_randomness(secret, threshold as usize, count as usize, randomness)
            .map_err(map_shamir_err)?;
    bytes(env, &shares.concat())
}

/// Restores a secret from packed shares (data plus `n + 1` offsets).
#[napi]
pub fn shamir_combine<'e>(
    env: &'e Env,
    data: &[u8],
    offsets: &[u32],
) -> Result<Uint8ArraySlice<'e>> {
    let secret = shamir::combine(&unpack(data, offsets)).map_err(map_shamir_err)?;
    bytes(env, &secret)
}
