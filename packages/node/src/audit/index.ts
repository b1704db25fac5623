export {
  type Checkpoint,
  type CheckpointSigner,
  CHECKPOINT_DOMAIN,
  CHECKPOINT_DOMAIN_V2,
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
  encodeAuditEntry,
  ENTRY_FORMAT_VERSION,
  type EntryFormat,
} from './entry.js';
export * from './errors.js';
export {
  acceptDetail,
  EVENT_ROW_FORMAT_VERSION,
  type EventRowFields,
  packEventRows,
  packReplayKeyInputs,
  parseAcceptDetail,
  REPLAY_KEY_BYTES,
} from './event-row.js';
export { AUDIT_RULES, LOGGED_REJECT_REASONS } from './rules.js';
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
export {
  type AuditData,
  type AuditVerification,
  type BadRow,
  type Row,
  verifyAuditRows,
  type VerifyOptions,
} from './verify.js';
