/** The Commons Sync protocol (spec/PROTOCOL.md): formats, encodings and the pure rules. */

export { compareBytes, equalBytes, fromHex, toHex } from './bytes.js';
export * from './cbor.js';
export * from './did.js';
export * from './event.js';
export * from './json.js';
export * from './json-batch.js';
export * from './json-reader.js';
export * from './limits.js';
export * from './reasons.js';
export * from './rules.js';
export * from './validate.js';
export type { VerifiedEvent, VerifiedEventFields } from './verified-event.js';
