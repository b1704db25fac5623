export {
  type Checkpoint,
  type CheckpointSigner,
  CHECKPOINT_DOMAIN,
  CHECKPOINT_DOMAIN_V2,
  checkpointHash,
  checkpointMessage,
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
export { AuditLog, CheckpointSignerError, STORED_NODE_LEVEL } from './log.js';
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
  type SubtreeHash,
  subtreeOfLeaves,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';
export { type AuditVerification, type BadRow, verifyAuditData, type VerifyOptions } from './verify.js';
