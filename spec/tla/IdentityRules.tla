--------------------------- MODULE IdentityRules ---------------------------
(***************************************************************************)
(* The key event rules of spec/IDENTITY.md for one identity and its        *)
(* ordinary events, shared by Identity.tla and IdentityBroken.tla. Names   *)
(* follow packages/node/src/identity:                                      *)
(*   CheckInception, CheckSuccessor, CheckVeto, StartOf  attach.ts         *)
(*   Attached(S) = the attached set of resolve(set)      resolve.ts        *)
(*   Apply (one key event, with escrow)                  log.ts  add       *)
(*   Chain (key states with windows, duplicity)          chain.ts          *)
(*   Verdict (an ordinary event by the identity)         verdict.ts        *)
(* Keys are 1-of-1 sets; the next-keys commitment is modelled by naming   *)
(* the next key set itself (equality of the digest = equality of sets).   *)
(* Ordinary events are records of type "ordinary" whose `prior` is their   *)
(* key_state reference and whose `sigs` are the keys that signed.          *)
(***************************************************************************)
EXTENDS Integers, FiniteSets, Sequences, TLC

CONSTANTS Nodes, GuardianThreshold, RecoveryDelay

Guardians == {"g1", "g2"}
Forever == 1000       \* the end of an open window
None == "none"

\* One record shape for every event, so that TLC compares them freely.
Ev(id, type, prior, seq, t, keys, next, sigs, revokedFrom, target) ==
  [id |-> id, type |-> type, prior |-> prior, seq |-> seq, t |-> t, keys |-> keys,
   next |-> next, sigs |-> sigs, revokedFrom |-> revokedFrom, target |-> target]
Ordinary(keyState, t, signer) == Ev("o-" \o keyState \o "-" \o ToString(t) \o "-" \o signer,
                                    "ordinary", keyState, 0, t, {}, {}, {signer}, 0, None)

\* The universe of key events (times in small integers; RecoveryDelay = 2).
Icp      == Ev("icp",      "inception",  None,  0, 0, {"k0"}, {"k1"}, {"k0"},       0, None)
RotA     == Ev("rotA",     "rotation",   "icp", 1, 2, {"k1"}, {"k2"}, {"k1"},       0, None)
RotB     == Ev("rotB",     "rotation",   "icp", 1, 3, {"k1"}, {"kx"}, {"k1"},       0, None)
RotBad   == Ev("rotBad",   "rotation",   "icp", 1, 2, {"kx"}, {"k2"}, {"kx"},       0, None)
Rev      == Ev("rev",      "revocation", "icp", 1, 3, {"k1"}, {"k2"}, {"k1"},       1, None)
Rot2     == Ev("rot2",     "rotation",   "rotA", 2, 4, {"k2"}, {"k3"}, {"k2"},      0, None)
Rec      == Ev("rec",      "recovery",   "icp", 1, 1, {"kr"}, {"ks"}, {"g1", "g2"}, 0, None)
RecWeak  == Ev("recWeak",  "recovery",   "icp", 1, 1, {"kw"}, {"ks"}, {"g1"},       0, None)
Veto     == Ev("veto",     "veto",       None,  0, 2, {},     {},     {"k0"},       0, "rec")
VetoLate == Ev("vetoLate", "veto",       None,  0, 3, {},     {},     {"k0"},       0, "rec")

\* Each behaviour delivers one scenario's events to every node, in every order.
Scenarios == [
  revocation  |-> {Icp, Rev, Ordinary("icp", 0, "k0"), Ordinary("icp", 2, "k0"), Ordinary("rev", 3, "k1")},
  duplicity   |-> {Icp, RotA, RotB, Ordinary("icp", 1, "k0"), Ordinary("icp", 2, "k0"), Ordinary("rotA", 2, "k1")},
  resolved    |-> {Icp, RotA, RotB, Rec, Ordinary("rec", 3, "kr"), Ordinary("icp", 2, "k0")},
  vetoed      |-> {Icp, Rec, Veto, Ordinary("rec", 3, "kr"), Ordinary("icp", 4, "k0")},
  lateVeto    |-> {Icp, Rec, VetoLate, RecWeak, Ordinary("rec", 3, "kr"), Ordinary("rec", 2, "kr"), Ordinary("icp", 3, "k0")},
  rotationWins |-> {Icp, RotA, Rec, RotBad, Ordinary("icp", 2, "k0"), Ordinary("rotA", 2, "k1"), Ordinary("rec", 3, "kr")},
  escrow      |-> {Icp, RotA, Rot2, Ordinary("rot2", 4, "k2"), Ordinary("rotA", 3, "k1")}
]

IsKeyEvent(e) == e.type /= "ordinary"
Ref(e) == IF e.type = "veto" THEN e.target ELSE e.prior
Signed(e, keys) == Cardinality(e.sigs \cap keys)
ById(A, i) == CHOOSE e \in A : e.id = i
Holds(A, i) == \E e \in A : e.id = i

\* attach.ts: startOf. The model has one recovery delay for every key state.
StartOf(e) == IF e.type = "recovery" THEN e.t + RecoveryDelay ELSE e.t

CheckInception(e) == Signed(e, e.keys) >= 1

CheckSuccessor(e, p) ==
  /\ e.seq = p.seq + 1
  /\ e.t >= StartOf(p)
  /\ IF e.type = "recovery"
       THEN Signed(e, Guardians) >= GuardianThreshold
       ELSE e.keys = p.next /\ Signed(e, e.keys) >= 1

CheckVeto(v, target, A) ==
  /\ target.type = "recovery"
  /\ Signed(v, ById(A, target.prior).keys) >= 1
  /\ target.t <= v.t /\ v.t < target.t + RecoveryDelay

\* Whether key event e joins, given the attached set A (its reference must be in A).
Joins(e, A) ==
  IF e.type = "inception" THEN CheckInception(e)
  ELSE /\ Holds(A, Ref(e))
       /\ IF e.type = "veto" THEN CheckVeto(e, ById(A, Ref(e)), A)
                             ELSE CheckSuccessor(e, ById(A, Ref(e)))

\* resolve.ts: the attached set of a set of events is a least fixed point; it has no order.
RECURSIVE Fix(_, _)
Fix(S, A) == LET B == A \cup {e \in S : Joins(e, A)} IN IF B = A THEN A ELSE Fix(S, B)
Attached(S) == Fix({e \in S : IsKeyEvent(e)}, {})

\* log.ts: escrowed events whose reference joined are tried (they join or are dropped).
RECURSIVE Drain(_, _)
Drain(A, escrow) ==
  LET ready == {x \in escrow : Holds(A, Ref(x))}
  IN IF ready = {} THEN [attached |-> A, escrow |-> escrow]
     ELSE Drain(A \cup {x \in ready : Joins(x, A)}, escrow \ ready)

\* log.ts add: one key event, in whatever order it comes.
Apply(kel, e) ==
  IF e \in kel.attached \/ e \in kel.escrow THEN kel                         \* duplicate
  ELSE IF e.type /= "inception" /\ ~Holds(kel.attached, Ref(e))
    THEN [kel EXCEPT !.escrow = @ \cup {e}]                                   \* escrowed
  ELSE IF Joins(e, kel.attached) THEN Drain(kel.attached \cup {e}, kel.escrow) \* accepted
  ELSE kel                                                                    \* refused

\* chain.ts: the chain of key states with their windows [start, end).
Retire(x) == IF x.type = "revocation" THEN x.revokedFrom ELSE StartOf(x)
Vetoed(A, r) == \E v \in A : v.type = "veto" /\ v.target = r.id
Min(S) == CHOOSE m \in S : \A s \in S : m <= s

RECURSIVE ChainFrom(_, _)
ChainFrom(A, s) ==
  LET C == {x \in A : x.type \in {"rotation", "revocation", "recovery"} /\ x.prior = s.id}
      R == {x \in C : x.type \in {"rotation", "revocation"}}
      G == {x \in C : x.type = "recovery" /\ ~Vetoed(A, x)}
      W == IF Cardinality(R) = 1 THEN R ELSE IF Cardinality(G) = 1 THEN G ELSE {}
      disputed == Cardinality(R) >= 2 \/ Cardinality(G) >= 2
      link(end, cause) == [id |-> s.id, keys |-> s.keys, type |-> s.type, start |-> StartOf(s), end |-> end, cause |-> cause]
  IN IF W /= {}
       THEN LET w == CHOOSE x \in W : TRUE
            IN <<link(Retire(w), IF w.type = "revocation" THEN "revoked" ELSE "rotated")>> \o ChainFrom(A, w)
     ELSE IF disputed THEN <<link(Min({Retire(x) : x \in R \cup G}), "frozen")>>
     ELSE <<link(Forever, "open")>>

Chain(A) == IF \E e \in A : e.type = "inception"
              THEN ChainFrom(A, CHOOSE e \in A : e.type = "inception") ELSE <<>>
Links(A) == LET c == Chain(A) IN {c[i] : i \in 1..Len(c)}

\* verdict.ts: checkIdentityAuthor, reduced to valid or not, given the links of the chain.
VerdictIn(o, links) == \E k \in links : /\ k.id = o.prior /\ k.start <= o.t /\ o.t < k.end
                                         /\ o.sigs \cap k.keys /= {}
Verdict(o, A) == VerdictIn(o, Links(A))

-----------------------------------------------------------------------------
VARIABLES scenario,  \* which scenario this behaviour delivers
          held,      \* held[n]: every event node n received
          kel,       \* kel[n]: [attached, escrow], maintained one event at a time (Apply)
          valid      \* valid[n]: the ordinary events node n counts as valid

vars == <<scenario, held, kel, valid>>
Events == Scenarios[scenario]

Init == /\ scenario \in DOMAIN Scenarios
        /\ held = [n \in Nodes |-> {}]
        /\ kel = [n \in Nodes |-> [attached |-> {}, escrow |-> {}]]
        /\ valid = [n \in Nodes |-> {}]

\* An ordinary event is judged against the node's state when it arrives.
DeliverOrdinary(n, o) ==
  /\ o \in Events /\ ~IsKeyEvent(o)
  /\ held' = [held EXCEPT ![n] = @ \cup {o}]
  /\ valid' = [valid EXCEPT ![n] = IF Verdict(o, kel[n].attached) THEN @ \cup {o} ELSE @]
  /\ UNCHANGED <<scenario, kel>>

\* A key event joins (or waits, or is refused) on arrival; what the node does with the ordinary
\* events it already judged is the difference between Identity and IdentityBroken.
ReceiveKeyEvent(n, e) ==
  /\ e \in Events /\ IsKeyEvent(e)
  /\ held' = [held EXCEPT ![n] = @ \cup {e}]
  /\ kel' = [kel EXCEPT ![n] = Apply(@, e)]
  /\ UNCHANGED scenario

-----------------------------------------------------------------------------
\* Properties (spec/IDENTITY.md §10). Each is stated against resolve(set), not the node's state.

TypeOK == /\ \A n \in Nodes : held[n] \subseteq Events /\ valid[n] \subseteq held[n]
          /\ \A n \in Nodes : kel[n].attached \cup kel[n].escrow \subseteq held[n]

\* The incremental log (Apply, any order) holds exactly resolve(set) of what the node holds.
IncrementalMatchesResolve == \A n \in Nodes : kel[n].attached = Attached(held[n])

\* Nodes that hold the same events agree on the identity state and on every verdict.
OrderIndependence ==
  \A n, m \in Nodes : held[n] = held[m] =>
     /\ Chain(kel[n].attached) = Chain(kel[m].attached)
     /\ valid[n] = valid[m]

\* No ordinary event counts as valid under a key after that key's revocation takes effect.
NoAcceptAfterRevocation ==
  \A n \in Nodes : LET links == Links(Attached(held[n])) IN
     \A o \in valid[n], k \in links : (k.id = o.prior /\ k.cause = "revoked") => o.t < k.end

\* A recovery in force had its guardians and no veto inside its window, and its keys sign
\* only from the end of that window.
RecoveryNeedsGuardiansAndWindow ==
  \A n \in Nodes : \A k \in Links(Attached(held[n])) :
     LET r == ById(held[n], k.id) IN
     r.type = "recovery" =>
       /\ Cardinality(r.sigs \cap Guardians) >= GuardianThreshold
       /\ ~\E v \in held[n] : /\ v.type = "veto" /\ v.target = r.id
                              /\ r.t <= v.t /\ v.t < r.t + RecoveryDelay
                              /\ v.sigs \cap ById(held[n], r.prior).keys /= {}
       /\ \A o \in valid[n] : o.prior = r.id => o.t >= r.t + RecoveryDelay
=============================================================================
