------------------------------- MODULE Sync -------------------------------
(***************************************************************************)
(* Reconciliation and propagation of Commons Sync (spec/SYNC.md), at the   *)
(* level of whole events and whole reconciliation rounds.                  *)
(*                                                                         *)
(* Names map to the code (packages/node/src/net):                          *)
(*   store[n]    the node's durable store; what its SyncIndex holds        *)
(*   pending[n]  validated, not yet durable (the write buffer): lost in a  *)
(*               crash                                                     *)
(*   acked[n]    events n acknowledged (to a client, or to its engine as   *)
(*               `accepted`)                                               *)
(*   Push        an EVENTS frame from n to m, folded into its delivery: a  *)
(*               lost frame is a Push that never happens, a late one a     *)
(*               later Push; duplicates and reordering change nothing for  *)
(*               sets of events                                            *)
(*   Inject      a hostile peer's EVENTS: any event, valid or not          *)
(*   Reconcile   one completed reconciliation round (Initiator.start ...   *)
(*               receive until done): n learns what m holds and fetches it *)
(*               through validation. That a round finds exactly the        *)
(*               difference is tested on the code (net-reconcile tests).   *)
(*   Valid       what validateEvent accepts (time is abstracted away)      *)
(***************************************************************************)
EXTENDS FiniteSets, Naturals

CONSTANTS Nodes, Events, Valid, Side, MaxCrashes, MaxPartitions

ASSUME Valid \subseteq Events /\ Side \subseteq Nodes

VARIABLES store, pending, acked, up, split, crashes, partitions, submitted

vars == <<store, pending, acked, up, split, crashes, partitions, submitted>>

Connected(n, m) == n # m /\ up[n] /\ up[m] /\ (~split \/ ((n \in Side) = (m \in Side)))

Init ==
  /\ store = [n \in Nodes |-> {}]
  /\ pending = [n \in Nodes |-> {}]
  /\ acked = [n \in Nodes |-> {}]
  /\ up = [n \in Nodes |-> TRUE]
  /\ split = FALSE
  /\ crashes = 0
  /\ partitions = 0
  /\ submitted = {}

\* Validation: the node takes an event only if it is valid and new to it.
Take(n, e) == IF e \in Valid /\ e \notin store[n] THEN pending[n] \cup {e} ELSE pending[n]

\* A client submits a new valid event to a live node (an invalid one is refused: no change).
Submit(n, e) ==
  /\ up[n] /\ e \in Valid \ submitted
  /\ pending' = [pending EXCEPT ![n] = Take(n, e)]
  /\ submitted' = submitted \cup {e}
  /\ UNCHANGED <<store, acked, up, split, crashes, partitions>>

\* The write buffer becomes durable; only then is it acknowledged.
Commit(n) ==
  /\ up[n] /\ pending[n] # {}
  /\ store' = [store EXCEPT ![n] = store[n] \cup pending[n]]
  /\ acked' = [acked EXCEPT ![n] = acked[n] \cup pending[n]]
  /\ pending' = [pending EXCEPT ![n] = {}]
  /\ UNCHANGED <<up, split, crashes, partitions, submitted>>

\* Gossip: a held event reaches a connected peer that does not hold it, and is validated there.
Push(n, m, e) ==
  /\ Connected(n, m) /\ e \in store[n] /\ e \notin store[m] \cup pending[m]
  /\ pending' = [pending EXCEPT ![m] = Take(m, e)]
  /\ UNCHANGED <<store, acked, up, split, crashes, partitions, submitted>>

\* A hostile peer sends any event, valid or not, and the node validates it on arrival.
Inject(m, e) ==
  /\ up[m]
  /\ pending' = [pending EXCEPT ![m] = Take(m, e)]
  /\ UNCHANGED <<store, acked, up, split, crashes, partitions, submitted>>

\* One reconciliation round: n finds what m holds and it lacks, and fetches it (validated).
Reconcile(n, m) ==
  /\ Connected(n, m)
  /\ store[m] \ (store[n] \cup pending[n]) # {}
  /\ pending' = [pending EXCEPT ![n] = pending[n] \cup ((store[m] \ store[n]) \cap Valid)]
  /\ UNCHANGED <<store, acked, up, split, crashes, partitions, submitted>>

Crash(n) ==
  /\ up[n] /\ crashes < MaxCrashes
  /\ up' = [up EXCEPT ![n] = FALSE]
  /\ pending' = [pending EXCEPT ![n] = {}]
  /\ crashes' = crashes + 1
  /\ UNCHANGED <<store, acked, split, partitions, submitted>>

Restart(n) ==
  /\ ~up[n]
  /\ up' = [up EXCEPT ![n] = TRUE]
  /\ UNCHANGED <<store, pending, acked, split, crashes, partitions, submitted>>

Partition ==
  /\ ~split /\ partitions < MaxPartitions
  /\ split' = TRUE /\ partitions' = partitions + 1
  /\ UNCHANGED <<store, pending, acked, up, crashes, submitted>>

Heal ==
  /\ split
  /\ split' = FALSE
  /\ UNCHANGED <<store, pending, acked, up, crashes, partitions, submitted>>

Next ==
  \/ \E n \in Nodes, e \in Events : Submit(n, e) \/ Inject(n, e)
  \/ \E n \in Nodes : Commit(n) \/ Crash(n) \/ Restart(n)
  \/ \E n, m \in Nodes, e \in Events : Push(n, m, e)
  \/ \E n, m \in Nodes : Reconcile(n, m)
  \/ Partition \/ Heal

Fairness ==
  /\ \A n \in Nodes : WF_vars(Commit(n)) /\ WF_vars(Restart(n))
  /\ \A n, m \in Nodes : WF_vars(Reconcile(n, m))
  /\ WF_vars(Heal)

Spec == Init /\ [][Next]_vars /\ Fairness

TypeOK ==
  /\ \A n \in Nodes : store[n] \subseteq Events /\ pending[n] \subseteq Events /\ acked[n] \subseteq Events
  /\ up \in [Nodes -> BOOLEAN] /\ split \in BOOLEAN

\* Safety: only valid events are accepted.
OnlyValid == \A n \in Nodes : store[n] \subseteq Valid

\* Safety: what a node acknowledged is in its durable store, crashes or not...
AckedIsDurable == \A n \in Nodes : acked[n] \subseteq store[n]

\* ... and stays there.
NothingAckedLost == [][\A n \in Nodes : acked[n] \subseteq store'[n]]_vars

\* Liveness: once faults stop (they are bounded, and heal and restart are fair), every
\* node ends up holding the same events; with AckedIsDurable and NothingAckedLost, every
\* acknowledged event reaches every node.
Converge == <>[](\A n, m \in Nodes : store[n] = store[m])

=============================================================================
