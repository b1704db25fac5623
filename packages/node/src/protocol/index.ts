/** The Commons Sync protocol (spec/PROTOCOL.md): formats, encodings and the pure rules. */
export * from './reasons.js';
export * from './limits.js';
export * from './cbor.js';
export * from './did.js';
export * from './event.js';
export * from './json.js';
export * from './json-reader.js';
export * from './json-batch.js';
export * from './rules.js';
export * from './validate.js';
export { toHex, fromHex, equalBytes, compareBytes } from './bytes.js';
export type { VerifiedEvent, VerifiedEventFields } from './verified-event.js';
