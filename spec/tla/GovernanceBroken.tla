-------------------------- MODULE GovernanceBroken --------------------------
(***************************************************************************)
(* Deliberately broken: a root update is checked only against the new     *)
(* root's own members (CheckOnlyNewThreshold). An attacker who names its  *)
(* own keys as the members of "version 2" moves the root, and then        *)
(* authorises actions with them. TLC must find                            *)
(* RootUpdateNeedsBothThresholds violated: the check can fail.            *)
(***************************************************************************)
EXTENDS GovernanceRules

\* The broken rule: the prior's members are never asked.
Next == \E n \in Nodes, r \in Records : DeliverWith(n, r, TRUE)

Spec == Init /\ [][Next]_vars

IncrementalMatchesResolve == \A n \in Nodes : st[n].kept = Kept(received[n], TRUE)
=============================================================================
