// sodium-native ships no types; only what the benchmark calls is declared. It is CommonJS, so
// from ESM its exports arrive as the default import.
declare module 'sodium-native' {
  const sodium: {
    crypto_sign_verify_detached(
      signature: Uint8Array,
      message: Uint8Array,
      publicKey: Uint8Array,
    ): boolean;
  };
  export default sodium;
}
