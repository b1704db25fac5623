------------------------------ MODULE Identity ------------------------------
(***************************************************************************)
(* Two nodes receive the same key events and ordinary events of one       *)
(* identity in every order (and repeats). When a key event joins, a node  *)
(* re-evaluates the ordinary events it already judged (spec/IDENTITY.md   *)
(* §8: `affectedKeyStates` in verdict.ts names which): an accepted event   *)
(* may become invalid evidence, a refused one may be revived.             *)
(*                                                                         *)
(* TLC checks IncrementalMatchesResolve, OrderIndependence,               *)
(* NoAcceptAfterRevocation and RecoveryNeedsGuardiansAndWindow.           *)
(***************************************************************************)
EXTENDS IdentityRules

\* The correct rule: verdicts follow the key events, whenever they arrive.
DeliverKeyEvent(n, e) ==
  /\ ReceiveKeyEvent(n, e)
  /\ LET links == Links(kel'[n].attached)
     IN valid' = [valid EXCEPT ![n] = {o \in held'[n] : ~IsKeyEvent(o) /\ VerdictIn(o, links)}]

Next == \E n \in Nodes, e \in Events : DeliverKeyEvent(n, e) \/ DeliverOrdinary(n, e)

Spec == Init /\ [][Next]_vars
=============================================================================
