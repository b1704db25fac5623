//! WebAssembly shell over `commons-sync-core`. It converts types and maps errors, nothing
//! more; `crates/napi/src/lib.rs` mirrors it function for function.
//!
//! Byte inputs are copied once into linear memory by wasm-bindgen (WebAssembly cannot read JS
//! memory in place). Core errors become JS `Error`s whose `code` is the core's `ERR_...` code.

use std::cell::RefCell;

use commons_sync_core::{batch, ed25519, hash, shamir, Error, KeyCache};
use wasm_bindgen::prelude::*;

thread_local! {
    /// Decoded public keys, one cache per thread (validators see the same authors again).
    static KEY_CACHE: RefCell<KeyCache> = RefCell::new(KeyCache::default());
}

fn with_cache<T>(f: impl FnOnce(&mut KeyCache) -> T) -> T {
    KEY_CACHE.with(|cache| f(&mut cache.borrow_mut()))
}

fn map_err(e: Error) -> JsValue {
    let error = js_sys::Error::new(&e.to_string());
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&error, &"code".into(), &e.code().into());
    error.into()
}

fn map_shamir_err(e: shamir::ShamirError) -> JsValue {
    let error = js_sys::Error::new(&e.to_string());
    let _ = js_sys::Reflect::set(&error, &"code".into(), &e.code().into());
    error.into()
}

/// Message `i` of packed data: `data[offsets[i]..offsets[i + 1]]`; the caller checked the layout.
fn unpack<'a>(data: &'a [u8], offsets: &[u32]) -> Vec<&'a [u8]> {
    offsets.windows(2).map(|w| &data[w[0] as usize..w[1] as usize]).collect()
}

fn host_random(dest: &mut [u8]) -> Result<(), Error> {
    getrandom::getrandom(dest).map_err(|_| Error::Randomness)
}

/// Verifies one Ed25519 signature under ZIP-215; wrong lengths give `false`.
#[wasm_bindgen(js_name = ed25519Verify)]
pub fn ed25519_verify(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    with_cache(|cache| ed25519::verify_cached(cache, public_key, message, signature))
}

/// Verifies a packed batch (32-byte keys and 64-byte signatures back to back, messages as
/// data plus `n + 1` offsets); returns one byte per item, 1 when valid.
#[wasm_bindgen(js_name = ed25519VerifyBatchPacked)]
pub fn ed25519_verify_batch_packed(
    public_keys: &[u8],
    signatures: &[u8],
    messages: &[u8],
    offsets: &[u32],
) -> Result<Vec<u8>, JsValue> {
    let mut out = vec![0u8; offsets.len().saturating_sub(1)];
    with_cache(|cache| {
        batch::verify_batch_packed_cached(
            cache,
            public_keys,
            signatures,
            messages,
            offsets,
            &mut host_random,
            &mut out,
        )
    })
    .map_err(map_err)?;
    Ok(out)
}

/// Signs `message` with the key of a 32-byte seed (RFC 8032).
#[wasm_bindgen(js_name = ed25519Sign)]
pub fn ed25519_sign(seed: &[u8], message: &[u8]) -> Result<Vec<u8>, JsValue> {
    Ok(ed25519::sign(seed, message).map_err(map_err)?.to_vec())
}

/// The public key of a 32-byte seed.
#[wasm_bindgen(js_name = ed25519PublicKey)]
pub fn ed25519_public_key(seed: &[u8]) -> Result<Vec<u8>, JsValue> {
    Ok(ed25519::public_key(seed).map_err(map_err)?.to_vec())
}

/// SHA-256.
#[wasm_bindgen]
pub fn sha256(data: &[u8]) -> Vec<u8> {
    hash::sha256(data).to_vec()
}

/// SHA-512.
#[wasm_bindgen]
pub fn sha512(data: &[u8]) -> Vec<u8> {
    hash::sha512(data).to_vec()
}

/// BLAKE3 (32-byte output).
#[wasm_bindgen]
pub fn blake3(data: &[u8]) -> Vec<u8> {
    hash::blake3(data).to_vec()
}

/// Hashes every message of a packed batch (`algorithm`: `"sha256" | "sha512" | "blake3"`);
/// the digests come back to back.
#[wasm_bindgen(js_name = hashBatchPacked)]
pub fn hash_batch_packed(
    algorithm: &str,
    data: &[u8],
    offsets: &[u32],
) -> Result<Vec<u8>, JsValue> {
    let algorithm = hash::HashAlgorithm::from_name(algorithm).map_err(map_err)?;
    let n = offsets.len().saturating_sub(1);
    let mut out = vec![0u8; n * algorithm.digest_len()];
    hash::hash_batch(algorithm, data, offsets, &mut out).map_err(map_err)?;
    Ok(out)
}

/// Extends a SHA-256 chain by one link per 32-byte leaf (`leaves` back to back):
/// `c[0] = SHA-256(head || leaf[0])`, `c[i] = SHA-256(c[i - 1] || leaf[i])`; the links come
/// back to back.
#[wasm_bindgen(js_name = sha256Chain)]
pub fn sha256_chain(head: &[u8], leaves: &[u8]) -> Result<Vec<u8>, JsValue> {
    let mut out = vec![0u8; leaves.len()];
    hash::sha256_chain(head, leaves, &mut out).map_err(map_err)?;
    Ok(out)
}

/// Splits `secret` into `count` Shamir shares, any `threshold` of which restore it; the shares
/// (all the same length) come back to back.
#[wasm_bindgen(js_name = shamirSplit)]
pub fn shamir_split(secret: &[u8], threshold: u32, count: u32) -> Result<Vec<u8>, JsValue> {
    let shares = shamir::split(secret, threshold as usize, count as usize, &mut host_random)
        .map_err(map_shamir_err)?;
    Ok(shares.concat())
}

/// As `shamirSplit`, with the split id and coefficients taken from `randomness` (vectors only).
#[wasm_bindgen(js_name = shamirSplitWithRandomness)]
pub fn shamir_split_with_randomness(
    secret: &[u8],
    threshold: u32,
    count: u32,
    randomness: &[u8],
) -> Result<Vec<u8>, JsValue> {
    let shares =
        shamir::split_with_randomness(secret, threshold as usize, count as usize, randomness)
            .map_err(map_shamir_err)?;
    Ok(shares.concat())
}

/// Restores a secret from packed shares (data plus `n + 1` offsets).
#[wasm_bindgen(js_name = shamirCombine)]
pub fn shamir_combine(data: &[u8], offsets: &[u32]) -> Result<Vec<u8>, JsValue> {
    shamir::combine(&unpack(data, offsets)).map_err(map_shamir_err)
}
