--------------------------- MODULE GovernanceRules ---------------------------
(***************************************************************************)
(* The quorum and root-update rules of spec/GOVERNANCE.md (§6, §7) for     *)
(* did:key members, shared by Governance.tla and GovernanceBroken.tla.     *)
(* Names follow packages/node/src/governance:                              *)
(*   Tally                                  quorum.ts    tallyQuorum       *)
(*   CheckRootUpdate (rules 1-6 of §6.1)    chain.ts     checkRootUpdate   *)
(*   CheckActionAgainstRoot                 actions.ts                     *)
(*   Hold / Connect (a node, one record)    state.ts     GovernanceState   *)
(*   Kept (the set that is kept)            state.ts     resolveGovernance *)
(*   Chain, Forked, Applied                 chain.ts, actions.ts           *)
(* Records carry their signer set (all signatures verified); ids are       *)
(* names; a root's threshold stands for every kind (one kind of action).   *)
(* Dates, expiry and the fold's revocations are left to the property tests.*)
(***************************************************************************)
EXTENDS Integers, FiniteSets, Sequences

None == "none"

Root(id, version, prior, members, t, sigs) ==
  [id |-> id, type |-> "root", version |-> version, prior |-> prior, members |-> members, t |-> t, sigs |-> sigs, root |-> None]
\* Stands for "the named root is not connected" where a root is expected (TLC compares records only with records).
NoRoot == [id |-> None, type |-> "root", version |-> 0, prior |-> None, members |-> {}, t |-> 0, sigs |-> {}, root |-> None]
Action(id, root, sigs) ==
  [id |-> id, type |-> "action", version |-> 0, prior |-> None, members |-> {}, t |-> 0, sigs |-> sigs, root |-> root]

\* The anchor: version 1, members a, b, c, threshold 2 (2t > n), signed by a and b.
Anchor    == Root("A",      1, None,   {"a", "b", "c"}, 2, {"a", "b"})
\* The universe of records (small integers for versions).
R2        == Root("R2",     2, "A",    {"a", "b", "c"}, 2, {"a", "c"})
R2fork    == Root("R2fork", 2, "A",    {"a", "b", "c"}, 2, {"b", "c"})
R2short   == Root("R2short",2, "A",    {"a", "b", "c"}, 2, {"a"})
Evil      == Root("Evil",   2, "A",    {"x", "y"},      2, {"x", "y"})
EvilChild == Root("Evil3",  3, "Evil", {"x", "y"},      2, {"x", "y"})
R3        == Root("R3",     3, "R2",   {"a", "b", "c"}, 2, {"a", "b"})
R3gap     == Root("R3gap",  4, "R2",   {"a", "b", "c"}, 2, {"a", "b"})
Rollback  == Root("Roll",   2, "R2",   {"a", "b", "c"}, 2, {"a", "b"})
Old       == Root("Old",    1, "A",    {"a", "b", "c"}, 2, {"a", "b"})
ActA      == Action("actA",     "A",    {"a", "b"})
ActR2     == Action("actR2",    "R2",   {"b", "c"})
ActShort  == Action("actShort", "R2",   {"a", "a"})
ActStrange== Action("actX",     "R2",   {"a", "x"})
ActEvil   == Action("actEvil",  "Evil", {"x", "y"})
ActR3     == Action("actR3",    "R3",   {"a", "c"})

\* Each behaviour delivers one scenario's records to every node, in every order.
Scenarios == [
  update   |-> {R2, R3, ActA, ActR2, ActShort, ActStrange, ActR3},
  rollback |-> {R2, Rollback, R3gap, Old, R3, ActR3},
  fork     |-> {R2, R2fork, ActA, ActR2, R3},
  attack   |-> {Evil, EvilChild, ActEvil, R2short, ActA}
]

IsRoot(r) == r.type = "root"
Named(r) == IF IsRoot(r) THEN r.prior ELSE r.root

\* quorum.ts: distinct members among the signers (a key counts once; outsiders count zero).
Tally(members, sigs) == Cardinality(members \cap sigs)

\* chain.ts checkRootUpdate against a prior p (§6.1): version, then both thresholds. All
\* members are did:keys here, so every failure is final.
CheckRootUpdate(r, p) ==
  /\ r.version > Anchor.version
  /\ r.version = p.version + 1
  /\ Tally(p.members, r.sigs) >= p.t
  /\ Tally(r.members, r.sigs) >= r.t

\* The deliberately broken rule of GovernanceBroken.tla: the prior's members are never asked.
CheckOnlyNewThreshold(r, p) ==
  /\ r.version > Anchor.version
  /\ r.version = p.version + 1
  /\ Tally(r.members, r.sigs) >= r.t

\* The rule a node runs: `broken` selects the broken one (TLA+ recursion takes no operator arguments).
Check(broken, r, p) == IF broken THEN CheckOnlyNewThreshold(r, p) ELSE CheckRootUpdate(r, p)

\* actions.ts: the quorum of the named root's own content.
CheckActionAgainstRoot(a, root) == Tally(root.members, a.sigs) >= root.t

-----------------------------------------------------------------------------
\* The rules a node applies, parameterised by which root-update check it runs.

ById(S, i) == CHOOSE r \in S : r.id = i

\* A record that can never count, judged against the named root when it is connected (nr /= NoRoot).
FinalReject(r, nr, broken) ==
  IF IsRoot(r)
    THEN \/ r.version <= Anchor.version
         \/ r.prior = None
         \/ (nr /= NoRoot /\ ~Check(broken, r, nr))
    ELSE nr /= NoRoot /\ ~CheckActionAgainstRoot(r, nr)

\* state.ts: the node's holder. `kept` are the records held, `conn` the ids of connected roots.
RECURSIVE ConnectAll(_, _, _)
ConnectAll(st, roots, broken) ==
  IF roots = {} THEN st
  ELSE LET root == CHOOSE x \in roots : TRUE
           st1 == [st EXCEPT !.conn = @ \cup {root.id}]
           waiting == {x \in st1.kept : Named(x) = root.id /\ x.id \notin st1.conn}
           drop == {x \in waiting : FinalReject(x, root, broken)}
           st2 == [st1 EXCEPT !.kept = @ \ drop]
       IN ConnectAll(st2, (roots \ {root}) \cup {x \in waiting \ drop : IsRoot(x)}, broken)

Hold(st, r, broken) ==
  IF r \in st.kept \/ r = Anchor THEN st                          \* duplicate
  ELSE LET nr == IF Named(r) \in st.conn THEN ById(st.kept \cup {Anchor}, Named(r)) ELSE NoRoot
       IN IF FinalReject(r, nr, broken) THEN st                    \* dropped: final
          ELSE LET st1 == [st EXCEPT !.kept = @ \cup {r}]
               IN IF IsRoot(r) /\ nr /= NoRoot THEN ConnectAll(st1, {r}, broken) ELSE st1

\* state.ts resolveGovernance: the connected roots (least fixed point) and the kept set of S.
RECURSIVE ConnFix(_, _, _)
ConnFix(S, C, broken) ==
  LET D == C \cup {r.id : r \in {x \in S : IsRoot(x) /\ x.prior \in C /\ ~FinalReject(x, ById(S \cup {Anchor}, x.prior), broken)}}
  IN IF D = C THEN C ELSE ConnFix(S, D, broken)
Kept(S, broken) ==
  LET C == ConnFix(S, {Anchor.id}, broken)
  IN {r \in S \ {Anchor} : ~FinalReject(r, IF Named(r) \in C THEN ById(S \cup {Anchor}, Named(r)) ELSE NoRoot, broken)}

\* chain.ts: attached roots are the connected ones (every failure is final here); the chain
\* follows the unique successor and stops at a root with none (in force) or several (a fork).
Attached(kept, conn) == {Anchor} \cup {r \in kept : IsRoot(r) /\ r.id \in conn}
Successors(att, p) == {r \in att : IsRoot(r) /\ r.prior = p.id}
RECURSIVE ChainFrom(_, _)
ChainFrom(att, p) ==
  LET s == Successors(att, p) IN
  IF Cardinality(s) = 1 THEN <<p>> \o ChainFrom(att, CHOOSE x \in s : TRUE) ELSE <<p>>
Chain(kept, conn) == ChainFrom(Attached(kept, conn), Anchor)
Tip(kept, conn) == LET c == Chain(kept, conn) IN c[Len(c)]
Forked(kept, conn) == Cardinality(Successors(Attached(kept, conn), Tip(kept, conn))) >= 2

\* actions.ts: applied = the kept actions naming the root in force, with its quorum, while active.
Applied(kept, conn) ==
  IF Forked(kept, conn) THEN {}
  ELSE {a \in kept : ~IsRoot(a) /\ a.root = Tip(kept, conn).id /\ CheckActionAgainstRoot(a, Tip(kept, conn))}

-----------------------------------------------------------------------------
CONSTANTS Nodes

VARIABLES scenario,  \* which scenario this behaviour delivers
          received,  \* received[n]: every record node n was given
          st         \* st[n]: [kept, conn], maintained one record at a time (Hold)

vars == <<scenario, received, st>>
Records == Scenarios[scenario]

Init == /\ scenario \in DOMAIN Scenarios
        /\ received = [n \in Nodes |-> {}]
        /\ st = [n \in Nodes |-> [kept |-> {}, conn |-> {Anchor.id}]]

DeliverWith(n, r, broken) ==
  /\ r \in Records
  /\ received' = [received EXCEPT ![n] = @ \cup {r}]
  /\ st' = [st EXCEPT ![n] = Hold(@, r, broken)]
  /\ UNCHANGED scenario

-----------------------------------------------------------------------------
\* Properties (spec/GOVERNANCE.md §9), stated with the correct rules whatever the node runs.

ChainOf(n) == Chain(st[n].kept, st[n].conn)
TipOf(n) == Tip(st[n].kept, st[n].conn)
ForkedAt(n) == Forked(st[n].kept, st[n].conn)

TypeOK == \A n \in Nodes : st[n].kept \subseteq received[n] /\ Anchor.id \in st[n].conn

\* No critical action is applied without the quorum of the root in force, nor while forked.
NoActionWithoutQuorumOfRootInForce ==
  \A n \in Nodes : \A a \in Applied(st[n].kept, st[n].conn) :
     /\ ~ForkedAt(n)
     /\ a.root = TipOf(n).id
     /\ Tally(TipOf(n).members, a.sigs) >= TipOf(n).t

\* Every root after the anchor on a node's chain has both thresholds.
RootUpdateNeedsBothThresholds ==
  \A n \in Nodes : \A i \in 2..Len(ChainOf(n)) :
     LET r == ChainOf(n)[i]  p == ChainOf(n)[i - 1]
     IN Tally(p.members, r.sigs) >= p.t /\ Tally(r.members, r.sigs) >= r.t

\* No rollback: versions go up by one along the chain, from above the anchor's.
NoRollback ==
  \A n \in Nodes : \A i \in 2..Len(ChainOf(n)) : ChainOf(n)[i].version = ChainOf(n)[i - 1].version + 1

\* ...and the root in force never moves back while the chain is not forked.
TipNeverMovesBack ==
  [][\A n \in Nodes : ~ForkedAt(n)' => TipOf(n)'.version >= TipOf(n).version]_vars

\* Nodes given the same records agree on the chain and on what is applied.
OrderIndependence ==
  \A n, m \in Nodes : received[n] = received[m] =>
     /\ ChainOf(n) = ChainOf(m)
     /\ Applied(st[n].kept, st[n].conn) = Applied(st[m].kept, st[m].conn)
=============================================================================
