import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import { BackendUnavailableError } from './errors.js';
import type { HashAlgorithm, RawBackend } from './types.js';

/** The generated N-API module (crates/napi, built by @napi-rs/cli into ../native). */
interface NativeModule {
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
  hashBatchPacked(algorithm: HashAlgorithm, data: Uint8Array, offsets: Uint32Array): Uint8Array;
}

function platformTriple(): string {
  const { platform, arch } = process;
  if (platform !== 'linux') return `${platform}-${arch}`;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } };
  return `${platform}-${arch}-${report?.header?.glibcVersionRuntime ? 'gnu' : 'musl'}`;
}

/** Loads the native addon, or throws {@link BackendUnavailableError} naming what is missing. */
export function loadNativeBackend(): RawBackend {
  const file = `commons-sync.${platformTriple()}.node`;
  const path = fileURLToPath(new URL(`../native/${file}`, import.meta.url));
  if (!existsSync(path)) {
    throw new BackendUnavailableError(
      `native backend: no prebuilt addon ${file} at ${path} ` +
        '(build it with `npm run build` from the repository root, which runs @napi-rs/cli)',
    );
  }
  let m: NativeModule;
  try {
    m = createRequire(import.meta.url)(path) as NativeModule;
  } catch (cause) {
    throw new BackendUnavailableError(`native backend: ${path} failed to load: ${String(cause)}`, {
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
