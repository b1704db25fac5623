/** The audit layer's errors, shared by the code that throws them and the code that catches them. */
import { CommonsSyncError } from '../errors.js';

/** A checkpoint signer whose signature does not verify under its own public key. */
export class CheckpointSignerError extends CommonsSyncError {
  static readonly code = 'ERR_CHECKPOINT_SIGNER';
  constructor(message: string) {
    super(CheckpointSignerError.code, message);
  }
}

/** A proof or checkpoint that does not hold; `message` says which check failed. */
export class ProofError extends CommonsSyncError {
  static readonly code = 'ERR_PROOF_INVALID';
  constructor(message: string) {
    super(ProofError.code, message);
  }
}
