/**
 * The JSON form of a proposal's status (what `POST /v1/governance/status` answers and the CLI
 * prints as "N signatures still missing"): per side of the tally, who signed and who did not.
 */
import type { ProposalStatus } from './governance.js';

export interface ProposalStatusJson {
  judged_against: string;
  tallies: Array<{
    side: 'prior' | 'own' | 'in-force';
    threshold: number;
    counted: number;
    missing: number;
    members: Array<{ id: string; standing: string; detail?: string }>;
  }>;
  /** Members still to sign, summed over the sides (0: ready to submit, unless blocked). */
  missing: number;
  /** A rule no signature can fix (a stale root, a rollback...), or null. */
  blocked: { reason: string; detail: string } | null;
}

export function proposalStatusToJson(s: ProposalStatus): ProposalStatusJson {
  return {
    judged_against: s.judgedAgainst,
    tallies: s.tallies.map(({ side, tally }) => ({
      side,
      threshold: tally.threshold,
      counted: tally.counted,
      missing: tally.missing,
      members: tally.members.map((m) => ({
        id: m.id,
        standing: m.standing,
        ...(m.detail === undefined ? {} : { detail: m.detail }),
      })),
    })),
    missing: s.missing,
    blocked: s.blocked === null ? null : { reason: s.blocked.reason, detail: s.blocked.detail },
  };
}
