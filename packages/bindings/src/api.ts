// The part of the public API that is the same in Node and in browsers.
export * from './errors.js';
export { packMessages, packSignatureBatch } from './packing.js';
export { BACKENDS } from './select.js';
export type {
  Backend,
  Core,
  HashAlgorithm,
  PackedMessages,
  PackedSignatureBatch,
  SignedItem,
} from './types.js';
