---------------------------- MODULE SyncBroken ----------------------------
(***************************************************************************)
(* Sync with one bug TLC must find: a node acknowledges a client's event   *)
(* as soon as it has validated it, before it is durable. A crash in        *)
(* between loses an acknowledged event: AckedIsDurable is violated (and    *)
(* NothingAckedLost with it). The code acknowledges only after the commit  *)
(* (SimNode.fsync, the pipeline's durable commit), and the simulator checks *)
(* the same invariant on every step.                                       *)
(***************************************************************************)
EXTENDS Sync

SubmitAckedEarly(n, e) ==
  /\ up[n] /\ e \in Valid \ submitted
  /\ pending' = [pending EXCEPT ![n] = Take(n, e)]
  /\ acked' = [acked EXCEPT ![n] = acked[n] \cup {e}]
  /\ submitted' = submitted \cup {e}
  /\ UNCHANGED <<store, up, split, crashes, partitions>>

NextBroken == Next \/ \E n \in Nodes, e \in Events : SubmitAckedEarly(n, e)

SpecBroken == Init /\ [][NextBroken]_vars /\ Fairness
=============================================================================
