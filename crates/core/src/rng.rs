//! Where batch-verification coefficients come from.
//!
//! The core does not pick a random number generator itself, so that it builds for
//! `wasm32-unknown-unknown` without any JavaScript glue: the native build uses the operating
//! system's CSPRNG ([`OsRandom`], feature `os-rng`), and the WebAssembly binding supplies the
//! host's `crypto.getRandomValues`.

use crate::Error;

/// A cryptographically secure source of random bytes.
pub trait RandomSource {
    /// Fills `dest` with random bytes, or fails; it must never return predictable bytes.
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), Error>;
}

/// The operating system's CSPRNG (`getrandom(2)` on Linux).
#[cfg(feature = "os-rng")]
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

#[cfg(feature = "os-rng")]
impl RandomSource for OsRandom {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), Error> {
        getrandom::getrandom(dest).map_err(|_| Error::Randomness)
    }
}

impl<F: FnMut(&mut [u8]) -> Result<(), Error>> RandomSource for F {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), Error> {
        self(dest)
    }
}
