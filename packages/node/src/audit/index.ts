export {
  type Checkpoint,
  type CheckpointSigner,
  CHECKPOINT_DOMAIN,
  checkpointMessage,
  verifyCheckpointSignature,
} from './checkpoint.js';
export {
  type AuditEntry,
  type AuditEntryType,
  type AuditRecord,
  encodeAuditEntry,
  ENTRY_FORMAT_VERSION,
} from './entry.js';
export { AuditLog, CheckpointSignerError, STORED_NODE_LEVEL } from './log.js';
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
