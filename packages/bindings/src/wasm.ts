import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import { BackendUnavailableError } from './errors.js';
import type { RawBackend } from './types.js';

/** The wasm-bindgen module (crates/wasm, built by wasm-pack into ../wasm, CommonJS). */
interface WasmModule {
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  ed25519VerifyBatchPacked(
    publicKeys: Uint8Array,
    signatures: Uint8Array,
    messages: Uint8Array,
    offsets: Uint32Array,
  ): Uint8Array;
  ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array;
  ed25519PublicKey(seed: Uint8Array): Uint8Array;
  sha256(data: Uint8Array): Uint8Array;
  sha512(data: Uint8Array): Uint8Array;
  blake3(data: Uint8Array): Uint8Array;
  hashBatchPacked(algorithm: string, data: Uint8Array, offsets: Uint32Array): Uint8Array;
}

/** Loads the WebAssembly module, or throws {@link BackendUnavailableError} naming what is missing. */
export function loadWasmBackend(): RawBackend {
  const path = fileURLToPath(new URL('../wasm/commons_sync_wasm.js', import.meta.url));
  if (!existsSync(path)) {
    throw new BackendUnavailableError(
      `wasm backend: ${path} is missing (build it with \`npm run build\` from the repository ` +
        'root, which runs wasm-pack)',
    );
  }
  if (!('WebAssembly' in globalThis)) {
    throw new BackendUnavailableError('wasm backend: this runtime has no WebAssembly');
  }
  let m: WasmModule;
  try {
    m = createRequire(import.meta.url)(path) as WasmModule;
  } catch (cause) {
    throw new BackendUnavailableError(`wasm backend: ${path} failed to load: ${String(cause)}`, {
      cause,
    });
  }
  return {
    verify: m.ed25519Verify,
    verifyBatchPacked: m.ed25519VerifyBatchPacked,
    sign: m.ed25519Sign,
    publicKey: m.ed25519PublicKey,
    sha256: m.sha256,
    sha512: m.sha512,
    blake3: m.blake3,
    hashBatchPacked: m.hashBatchPacked,
  };
}
