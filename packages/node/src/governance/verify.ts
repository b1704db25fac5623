/**
 * Signature verification of governance records (spec/GOVERNANCE.md §7 step 6) through the
 * crypto core, every signature of a batch in one `ed25519VerifyBatch` call (ZIP-215). As for
 * events, one signature that does not verify makes the record invalid; which signers count
 * toward a threshold is decided later, against the root (`quorum.ts`).
 *
 * A signature that does not verify over this record but does over the record it names (a root's
 * prior, an action's root, a revocation's target) was lifted from that document: a
 * mix-and-match attempt, refused with its own code.
 *
 * Only this module creates a {@link VerifiedRecord}, so a record whose signatures were not
 * checked cannot reach the governance state by accident.
 */
import type { BatchVerifier } from '../identity/verify.js';
import type { SignatureCheck } from '../protocol/event.js';
import { Reason } from '../protocol/reasons.js';
import { GovReason, type GovResult, govAccept, govReject } from './reasons.js';
import {
  type DecodedRecord,
  type GovernanceRecord,
  recordSignatureChecks,
  recordSigningInput,
  referenceOf,
} from './record.js';

declare const verifiedRecord: unique symbol;

/** A decoded governance record whose every signature verified. */
export type VerifiedRecord<R extends GovernanceRecord = GovernanceRecord> = DecodedRecord<R> & {
  readonly [verifiedRecord]: true;
};

/** Verifies all signatures of all records in one batch; one result per record, in order. */
export function verifyRecords(
  core: BatchVerifier,
  records: readonly DecodedRecord[],
): GovResult<VerifiedRecord>[] {
  const checks = records.flatMap((r) => recordSignatureChecks(r));
  const verdicts = checks.length === 0 ? [] : core.ed25519VerifyBatch(checks);
  // The first failing entry of each record, checked again over the id the record names.
  const lifted: Array<{ record: number; index: number }> = [];
  const liftedChecks: SignatureCheck[] = [];
  let at = 0;
  const firstBad = records.map((r, i) => {
    const n = r.record.signatures.length;
    const bad = verdicts.slice(at, at + n).indexOf(false);
    at += n;
    const ref = referenceOf(r.record);
    if (bad >= 0 && ref !== undefined) {
      lifted.push({ record: i, index: bad });
      const check = checks[at - n + bad] as SignatureCheck;
      liftedChecks.push({ ...check, message: recordSigningInput(ref) });
    }
    return bad;
  });
  const liftedVerdicts = liftedChecks.length === 0 ? [] : core.ed25519VerifyBatch(liftedChecks);
  const mixed = new Set(lifted.filter((_, k) => liftedVerdicts[k] === true).map((l) => l.record));
  return records.map((r, i) => {
    const bad = firstBad[i] as number;
    if (bad < 0) return govAccept(r as VerifiedRecord);
    const signer = r.record.signatures[bad]?.signer;
    if (mixed.has(i)) {
      return govReject(
        GovReason.MIX_AND_MATCH,
        `signature ${bad} (${signer}) was made over the record this one names, not over this one`,
      );
    }
    return govReject(Reason.BAD_SIGNATURE, `signature ${bad} (${signer}) does not verify`);
  });
}

/** {@link verifyRecords} for one record. */
export function verifyRecord(
  core: BatchVerifier,
  record: DecodedRecord,
): GovResult<VerifiedRecord> {
  return verifyRecords(core, [record])[0] as GovResult<VerifiedRecord>;
}
