//! # commons-sync-core
//!
//! The performance-critical cryptography of Commons Sync, in plain Rust with no binding
//! dependencies: it builds for native targets and for `wasm32-unknown-unknown` alike.
//!
//! * Ed25519 key derivation, signing and verification under the **ZIP-215** rule
//!   (see [`ed25519`]), which single and batch verification share so that they agree on every
//!   input.
//! * Batch verification with one verdict per item (see [`batch`]).
//! * A cache of decoded public keys ([`KeyCache`]) that single and batch verification share.
//! * Point decoding many at once (see [`decode`]): eight square roots side by side in AVX-512
//!   IFMA lanes where the CPU has them, dalek's `decompress` elsewhere, the same result always.
//! * SHA-256, SHA-512 and BLAKE3, one message or many per call, and a SHA-256 hash chain of many
//!   links in one call (see [`hash`]).
//! * Shamir secret sharing over GF(2^8) with checksummed, versioned shares (see [`shamir`]).
//!
//! Errors are a small [`Error`] enum with stable codes; a signature that does not verify is
//! `false`, never an error.
//!
//! `unsafe` is denied in the workspace. The one exception is the private module `decode::ifma`
//! (it says `#![allow(unsafe_code)]` and why): calling a function compiled for AVX-512 IFMA is
//! `unsafe` in Rust, so the module makes that call, and only that call, after checking the CPU at
//! run time. It is not compiled for other targets (wasm32 included).

pub mod batch;
pub mod decode;
pub mod ed25519;
mod error;
pub mod hash;
mod key_cache;
pub mod rng;
pub mod shamir;

pub use error::Error;
pub use key_cache::KeyCache;
