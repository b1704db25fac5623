--------------------------- MODULE IdentityBroken ---------------------------
(***************************************************************************)
(* Deliberately broken: a key event only affects ordinary events that     *)
(* arrive after it. A node that accepted an event before it saw the       *)
(* revocation of its key keeps counting it valid; a node that saw the     *)
(* revocation first refuses it. TLC must find NoAcceptAfterRevocation     *)
(* violated (and OrderIndependence with it): the check can fail.          *)
(***************************************************************************)
EXTENDS IdentityRules

\* The broken rule: the verdicts already given are kept, whatever the key event says.
DeliverKeyEvent(n, e) ==
  /\ ReceiveKeyEvent(n, e)
  /\ UNCHANGED valid

Next == \E n \in Nodes, e \in Events : DeliverKeyEvent(n, e) \/ DeliverOrdinary(n, e)

Spec == Init /\ [][Next]_vars
=============================================================================
