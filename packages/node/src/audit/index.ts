export {
  CHECKPOINT_DOMAIN,
  CHECKPOINT_DOMAIN_V2,
  type Checkpoint,
  type CheckpointSigner,
  checkpointEntryDetail,
  checkpointHash,
  checkpointMessage,
  parseCheckpointEntryDetail,
  verifyCheckpointSignature,
} from './checkpoint.js';
export {
  type AuditEntry,
  type AuditEntryType,
  type AuditRecord,
  ENTRY_FORMAT_VERSION,
  type EntryFormat,
  encodeAuditEntry,
} from './entry.js';
export * from './errors.js';
export {
  acceptDetail,
  acceptedEventDigests,
  EVENT_ROW_FORMAT_VERSION,
  type EventRowFields,
  type EventRowSource,
  packEventRows,
  packReplayKeyInputs,
  parseAcceptDetail,
  REPLAY_KEY_BYTES,
} from './event-row.js';
export {
  CompactRange,
  consistencyProof,
  emptyRoot,
  hashChildren,
  hashLeaf,
  inclusionProof,
  rootOfLeaves,
  type Sha256,
  STORED_NODE_LEVEL,
  type SubtreeHash,
  subtreeOfLeaves,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';
export { AUDIT_RULES, LOGGED_REJECT_REASONS } from './rules.js';
export {
  type AuditData,
  type AuditVerification,
  type BadRow,
  type Row,
  type VerifyOptions,
  verifyAuditRows,
} from './verify.js';
