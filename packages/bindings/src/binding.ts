import type * as NativeAddon from '../native/index.js';
import type { RawBackend } from './types.js';

/**
 * What the generated modules export: the N-API addon's types as `napi build --dts` wrote them
 * (native/index.d.ts, generated from the Rust doc comments). The wasm-bindgen module is passed
 * where this type is expected too, so tsc checks that crates/napi and crates/wasm export the same
 * functions with compatible signatures.
 */
export type BindingModule = typeof NativeAddon;

/** A generated module as a {@link RawBackend}. */
export function rawFromBinding(m: BindingModule): RawBackend {
  return {
    verify: m.ed25519Verify,
    verifyBatchPacked: m.ed25519VerifyBatchPacked,
    sign: m.ed25519Sign,
    publicKey: m.ed25519PublicKey,
    sha256: m.sha256,
    sha512: m.sha512,
    blake3: m.blake3,
    hashBatchPacked: m.hashBatchPacked,
    sha256Chain: m.sha256Chain,
    shamirSplit: m.shamirSplit,
    shamirSplitWithRandomness: m.shamirSplitWithRandomness,
    shamirCombine: m.shamirCombine,
  };
}
