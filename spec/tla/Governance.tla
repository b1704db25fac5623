----------------------------- MODULE Governance -----------------------------
(***************************************************************************)
(* Two nodes receive the same governance records (roots and critical       *)
(* actions) in every order, repeats included, each holding them one at a   *)
(* time as state.ts does (drop what can never count, wait for a connected  *)
(* root, connect roots as their priors connect).                           *)
(*                                                                         *)
(* TLC checks NoActionWithoutQuorumOfRootInForce, RootUpdateNeedsBoth-     *)
(* Thresholds, NoRollback, TipNeverMovesBack, IncrementalMatchesResolve    *)
(* and OrderIndependence over four scenarios (updates and actions,         *)
(* rollbacks and gaps, a fork, an attacker's root).                        *)
(***************************************************************************)
EXTENDS GovernanceRules

\* The correct rule: an update needs the prior's threshold and its own (§6.1).
Next == \E n \in Nodes, r \in Records : DeliverWith(n, r, FALSE)

Spec == Init /\ [][Next]_vars

\* The incremental holder keeps exactly what the definition keeps from the same records.
IncrementalMatchesResolve == \A n \in Nodes : st[n].kept = Kept(received[n], FALSE)
=============================================================================
