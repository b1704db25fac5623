/**
 * Identities that survive their keys (spec/IDENTITY.md): the did:cs method, key events and
 * their encodings, the key event log as a pure state machine, and the verdict on events that an
 * identity authored. No I/O: the node stores and replays what this accepts.
 */

export * from './attach.js';
export * from './chain.js';
export * from './identifier.js';
export * from './key-event.js';
export * from './key-event-json.js';
export * from './log.js';
export * from './reasons.js';
export * from './registry.js';
export * from './resolve.js';
export * from './verdict.js';
export * from './verify.js';
