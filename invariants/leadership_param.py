"""Leadership for every ensemble size: a parameterized proof in the style of Ivy.

Servers are an uninterpreted sort ``Node`` (any number, finite or not), epochs a sort
``Epoch`` with a strict total order ``lt`` (only the order is used, never arithmetic), and
quorums a sort ``Quorum`` with a membership relation of which one thing is assumed: every
two quorums share a node. So a proof here holds for every N and for every quorum system
that intersects (majorities, ZooKeeper's hierarchical quorums with weights >= 0, ...).

The transition system is a coarser over-approximation of ``model/discovery_rules.py``,
chosen so that every formula stays in EPR (only universal invariants; the one function
between sorts besides ``ae``/``le`` : Node -> Epoch is the Skolem function Quorum x Quorum ->
Node of the intersection axiom, so the sort graph is acyclic and Z3 decides every query):

* ``lead``/``follow``/``quit`` as in the finite model (quit: any server, any time);
* ``followerinfo`` only opens the session (the FOLLOWERINFO contributions and the decision
  quorum are dropped): ``decide(l, e)`` may happen at any time during discovery, with any
  epoch ``e`` above the leader's own acceptedEpoch (the finite model's max + 1 is one such
  e);
* ``leaderinfo`` accepts (e > acceptedEpoch: raise, counted ACKEPOCH) or answers -1 (e =
  acceptedEpoch); e < acceptedEpoch ends the follower's role (a ``quit``);
* ``ackepoch`` joins the electing set while the epoch is decided (the currentEpoch / zxid
  check is dropped: both outcomes allowed, a rejection is a ``quit``);
* ``establish(l, q)``: electing contains the leader and every member of a quorum q; the
  history records (epoch, leader, q); NEWLEADER and currentEpoch are dropped.

Ghost ``acked(f, e, l)`` records that f raised its acceptedEpoch to e for l. The invariants
below are universal; Leadership follows from ``EstablishedByAckQuorum`` and ``AckOnce`` and
the intersection axiom. ``tests/test_leadership_param.py`` checks that every step of the
finite abstract model maps to at most three steps of this one (the refinement).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import z3

Node = z3.DeclareSort("Node")
Epoch = z3.DeclareSort("Epoch")
Quorum = z3.DeclareSort("Quorum")
BOOL = z3.BoolSort()
lt = z3.Function("lt", Epoch, Epoch, BOOL)
member = z3.Function("member", Node, Quorum, BOOL)

RELATIONS: dict[str, tuple] = {
    "leading": (Node,), "following": (Node, Node),
    "connect": (Node,), "info": (Node,), "ackp": (Node,), "ackm1": (Node,), "done": (Node,),
    "disc": (Node,), "decided": (Node,), "estab": (Node,),
    "electing": (Node, Node), "conn": (Node, Node),
    "acked": (Node, Epoch, Node), "estq": (Epoch, Node, Quorum),
}
FUNCTIONS: dict[str, tuple] = {"ae": (Node, Epoch), "le": (Node, Epoch)}
FOLLOWER_PHASES = ("connect", "info", "ackp", "ackm1", "done")
LEADER_PHASES = ("disc", "decided", "estab")
GHOSTS = ("acked",)

F, L, L2, X, E, Q, Q2 = (z3.Const("F", Node), z3.Const("L", Node), z3.Const("L2", Node),
                         z3.Const("X", Node), z3.Const("E", Epoch), z3.Const("Q", Quorum),
                         z3.Const("Q2", Quorum))
E2, E3 = z3.Const("E2", Epoch), z3.Const("E3", Epoch)


class PState:
    """One state: a fresh copy of every relation and function, named ``name@tag``."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.sym: dict[str, z3.FuncDeclRef] = {}
        for name, sorts in RELATIONS.items():
            self.sym[name] = z3.Function(f"{name}@{tag}", *sorts, BOOL)
        for name, (dom, rng) in FUNCTIONS.items():
            self.sym[name] = z3.Function(f"{name}@{tag}", dom, rng)

    def __getattr__(self, name: str) -> z3.FuncDeclRef:
        try:
            return self.__dict__["sym"][name]
        except KeyError as exc:
            raise AttributeError(name) from exc


def _vars(sorts: tuple) -> list[z3.ExprRef]:
    names = {Node: iter("ABCD"), Epoch: iter(("EA", "EB")), Quorum: iter(("QA",))}
    return [z3.Const(f"v{next(names[s])}", s) for s in sorts]


def axioms() -> z3.BoolRef:
    """lt is a strict total order; every two quorums intersect."""
    return z3.And(
        z3.ForAll([E], z3.Not(lt(E, E))),
        z3.ForAll([E, E2, E3], z3.Implies(z3.And(lt(E, E2), lt(E2, E3)), lt(E, E3))),
        z3.ForAll([E, E2], z3.Or(E == E2, lt(E, E2), lt(E2, E))),
        z3.ForAll([Q, Q2], z3.Exists([X], z3.And(member(X, Q), member(X, Q2)))))


def _frame(pre: PState, post: PState, changes: dict[str, Callable]) -> z3.BoolRef:
    """post = pre except ``changes[name](*args)`` gives the new value of a symbol."""
    cs = []
    for name, sorts in {**RELATIONS, **{k: (v[0],) for k, v in FUNCTIONS.items()}}.items():
        xs = _vars(sorts)
        new = changes[name](*xs) if name in changes else pre.sym[name](*xs)
        cs.append(z3.ForAll(xs, post.sym[name](*xs) == new))
    return z3.And(cs)


def looking(s: PState, n: z3.ExprRef) -> z3.BoolRef:
    return z3.And(z3.Not(s.leading(n)), z3.ForAll([X], z3.Not(s.following(n, X))))


def _upd(old: Callable, at: Callable[..., z3.BoolRef], value: Callable) -> Callable:
    """A symbol that is ``value`` where ``at`` holds and ``old`` elsewhere."""
    return lambda *xs: z3.If(at(*xs), value(*xs), old(*xs))


@dataclass(frozen=True)
class PAction:
    name: str
    params: tuple[str, ...]  # sorts by name: n, l (Node), e (Epoch), q (Quorum)


ACTIONS = (PAction("lead", ("n",)), PAction("follow", ("n", "l")), PAction("quit", ("n",)),
           PAction("followerinfo", ("n", "l")), PAction("decide", ("l", "e")),
           PAction("leaderinfo-accept", ("n", "l")), PAction("leaderinfo-same", ("n", "l")),
           PAction("ackepoch-count", ("n", "l")), PAction("ackepoch-skip", ("n", "l")),
           PAction("establish", ("l", "q")))
_SORT = {"n": Node, "l": Node, "e": Epoch, "q": Quorum}


def step(pre: PState, post: PState, a: PAction, args: dict[str, z3.ExprRef]) -> z3.BoolRef:
    """Guard and effect of action ``a`` with parameters ``args``."""
    p, n, lk = pre, args.get("n"), args.get("l")
    e, q = args.get("e"), args.get("q")

    def only(*at: z3.ExprRef) -> Callable[..., z3.BoolRef]:
        return lambda *xs: z3.And([x == y for x, y in zip(xs, at, strict=True)])

    def phase(to: str) -> dict[str, Callable]:
        """n's follower phase becomes ``to`` ("": none)."""
        return {ph: _upd(p.sym[ph], only(n), lambda *_, on=(ph == to): z3.BoolVal(on))
                for ph in FOLLOWER_PHASES}

    session = z3.And(p.following(n, lk), p.leading(lk), p.conn(lk, n)) if n is not None \
        and lk is not None else None
    if a.name == "lead":
        guard = looking(p, n)
        ch = {**phase(""), "leading": _upd(p.leading, only(n), lambda *_: z3.BoolVal(True)),
              "disc": _upd(p.disc, only(n), lambda *_: z3.BoolVal(True)),
              "electing": lambda x, y: z3.And(x != n, p.electing(x, y)),
              "conn": lambda x, y: z3.And(x != n, p.conn(x, y))}
    elif a.name == "follow":
        guard = z3.And(looking(p, n), n != lk)
        ch = {"following": lambda x, y: z3.Or(p.following(x, y), z3.And(x == n, y == lk)),
              **phase("connect")}
    elif a.name == "quit":
        guard = z3.BoolVal(True)
        ch = {"leading": lambda x: z3.And(x != n, p.leading(x)),
              "following": lambda x, y: z3.And(x != n, p.following(x, y)),
              **{ph: lambda x, r=p.sym[ph]: z3.And(x != n, r(x))
                 for ph in FOLLOWER_PHASES + LEADER_PHASES},
              "electing": lambda x, y: z3.And(x != n, p.electing(x, y)),
              "conn": lambda x, y: z3.And(x != n, y != n, p.conn(x, y))}
    elif a.name == "followerinfo":
        guard = z3.And(p.following(n, lk), p.leading(lk), p.connect(n))
        ch = {**phase("info"),
              "conn": lambda x, y: z3.Or(p.conn(x, y), z3.And(x == lk, y == n))}
    elif a.name == "decide":
        guard = z3.And(p.leading(lk), p.disc(lk), lt(p.ae(lk), e))
        ch = {"disc": lambda x: z3.And(x != lk, p.disc(x)),
              "decided": lambda x: z3.Or(x == lk, p.decided(x)),
              "le": _upd(p.le, only(lk), lambda *_: e),
              "ae": _upd(p.ae, only(lk), lambda *_: e),
              "electing": lambda x, y: z3.If(x == lk, y == lk, p.electing(x, y)),
              "acked": lambda f, ee, ll: z3.Or(p.acked(f, ee, ll),
                                               z3.And(f == lk, ee == e, ll == lk))}
    elif a.name == "leaderinfo-accept":
        guard = z3.And(session, p.info(n), z3.Or(p.decided(lk), p.estab(lk)),
                       lt(p.ae(n), p.le(lk)))
        ch = {**phase("ackp"), "ae": _upd(p.ae, only(n), lambda *_: p.le(lk)),
              "acked": lambda f, ee, ll: z3.Or(p.acked(f, ee, ll),
                                               z3.And(f == n, ee == p.le(lk), ll == lk))}
    elif a.name == "leaderinfo-same":
        guard = z3.And(session, p.info(n), z3.Or(p.decided(lk), p.estab(lk)),
                       p.ae(n) == p.le(lk))
        ch = phase("ackm1")
    elif a.name == "ackepoch-count":
        guard = z3.And(session, p.ackp(n), p.decided(lk))
        ch = {**phase("done"),
              "electing": lambda x, y: z3.Or(p.electing(x, y), z3.And(x == lk, y == n))}
    elif a.name == "ackepoch-skip":
        guard = z3.And(session, z3.Or(p.ackm1(n), z3.And(p.ackp(n), z3.Not(p.decided(lk)))))
        ch = phase("done")
    elif a.name == "establish":
        guard = z3.And(p.leading(lk), p.decided(lk), p.electing(lk, lk),
                       z3.ForAll([X], z3.Implies(member(X, q), p.electing(lk, X))))
        ch = {"decided": lambda x: z3.And(x != lk, p.decided(x)),
              "estab": lambda x: z3.Or(x == lk, p.estab(x)),
              "electing": lambda x, y: z3.And(x != lk, p.electing(x, y)),
              "estq": lambda ee, ll, qq: z3.Or(p.estq(ee, ll, qq), z3.And(
                  ee == p.le(lk), ll == lk, qq == q))}
    else:
        raise ValueError(a.name)
    return z3.And(guard, _frame(pre, post, ch))


def transition(pre: PState, post: PState, tag: str) -> z3.BoolRef:
    """Some action with some parameters (fresh constants named ``param@tag``)."""
    cases = []
    for a in ACTIONS:
        args = {x: z3.Const(f"{a.name}.{x}@{tag}", _SORT[x]) for x in a.params}
        cases.append(step(pre, post, a, args))
    return z3.Or(cases)


def initial(s: PState) -> z3.BoolRef:
    """Nobody leads or follows, no sessions, no history, no ghosts; epochs arbitrary."""
    cs = []
    for name, sorts in RELATIONS.items():
        xs = _vars(sorts)
        cs.append(z3.ForAll(xs, z3.Not(s.sym[name](*xs))))
    return z3.And(cs)


# ---------------------------------------------------------------------- invariants

def _exactly_one(s: PState, names: tuple[str, ...], x: z3.ExprRef) -> z3.BoolRef:
    some = z3.Or([s.sym[p](x) for p in names])
    pairs = [z3.Not(z3.And(s.sym[a](x), s.sym[b](x)))
             for i, a in enumerate(names) for b in names[i + 1:]]
    return z3.And(some, *pairs)


def _any(s: PState, names: tuple[str, ...], x: z3.ExprRef) -> z3.BoolRef:
    return z3.Or([s.sym[p](x) for p in names])


INVARIANTS: tuple[tuple[str, Callable[[PState], z3.BoolRef], str], ...] = (
    ("FollowOne", lambda s: z3.ForAll([F, L, L2], z3.Implies(
        z3.And(s.following(F, L), s.following(F, L2)), L == L2)),
     "a server follows at most one leader"),
    ("RolesApart", lambda s: z3.ForAll([F, L], z3.Implies(
        s.following(F, L), z3.And(z3.Not(s.leading(F)), _exactly_one(
            s, FOLLOWER_PHASES, F)))), "a follower does not lead and is in one phase"),
    ("FollowerPhaseNeedsLeader", lambda s: z3.ForAll([F], z3.Implies(
        _any(s, FOLLOWER_PHASES, F), z3.Not(s.leading(F)))),
     "a server in a follower phase does not lead"),
    ("PhasesApart", lambda s: z3.ForAll([F], z3.And(
        *[z3.Not(z3.And(s.sym[a](F), s.sym[b](F)))
          for i, a in enumerate(FOLLOWER_PHASES) for b in FOLLOWER_PHASES[i + 1:]])),
     "follower phases exclude each other"),
    ("LeaderPhase", lambda s: z3.ForAll([L], z3.And(
        z3.Implies(s.leading(L), _exactly_one(s, LEADER_PHASES, L)),
        z3.Implies(_any(s, LEADER_PHASES, L), s.leading(L)))),
     "a leader is in exactly one leader phase, and only leaders are"),
    ("HandlersAreFollowers", lambda s: z3.ForAll([L, F], z3.Implies(
        s.conn(L, F), z3.And(s.following(F, L), s.leading(L), z3.Not(s.connect(F))))),
     "a leader has a handler only for a server that follows it and sent FOLLOWERINFO"),
    ("SessionAfterDecision", lambda s: z3.ForAll([L, F], z3.Implies(
        z3.And(s.conn(L, F), z3.Or(s.ackp(F), s.ackm1(F), s.done(F))),
        z3.Or(s.decided(L), s.estab(L)))),
     "a follower past LEADERINFO in a live session has a leader whose epoch is decided"),
    ("PendingAckForLeader", lambda s: z3.ForAll([L, F], z3.Implies(
        z3.And(s.conn(L, F), s.ackp(F)), s.acked(F, s.le(L), L))),
     "a counted ACKEPOCH pending in a live session comes from a follower that acknowledged "
     "the leader's epoch to it"),
    ("ElectingAckedForLeader", lambda s: z3.ForAll([L, F], z3.Implies(
        s.electing(L, F), z3.And(s.decided(L), s.acked(F, s.le(L), L)))),
     "every member of an electing set acknowledged the leader's decided epoch to it"),
    ("AckedHasAcceptedEpoch", lambda s: z3.ForAll([F, E, L], z3.Implies(
        s.acked(F, E, L), z3.Not(lt(s.ae(F), E)))),
     "a server that acknowledged epoch e has acceptedEpoch >= e (it never decreases)"),
    ("AckOnce", lambda s: z3.ForAll([F, E, L, L2], z3.Implies(
        z3.And(s.acked(F, E, L), s.acked(F, E, L2)), L == L2)),
     "a server acknowledges an epoch to one leader only"),
    ("EstablishedByAckQuorum", lambda s: z3.ForAll([E, L, Q, F], z3.Implies(
        z3.And(s.estq(E, L, Q), member(F, Q)), s.acked(F, E, L))),
     "an establishment of e by l used a quorum whose members all acknowledged e to l"),
    ("Leadership", lambda s: z3.ForAll([E, L, L2, Q, Q2], z3.Implies(
        z3.And(s.estq(E, L, Q), s.estq(E, L2, Q2)), L == L2)),
     "the property: no two different leaders establish the same epoch"),
)
INVARIANT_NAMES = tuple(name for name, _, _ in INVARIANTS)


def invariant(s: PState, without: tuple[str, ...] = ()) -> z3.BoolRef:
    return z3.And([f(s) for name, f, _ in INVARIANTS if name not in without])


# ---------------------------------------------------------------------- the proof

@dataclass
class ParamResult:
    proven: bool
    sanity: dict[str, tuple[bool, str]] = field(default_factory=dict)
    base_failure: str | None = None
    step_failure: str | None = None  # invariant not preserved
    step_action: str | None = None
    unknown: str | None = None  # Z3 gave no answer for this query
    seconds: float = 0.0
    query_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def sane(self) -> bool:
        return all(ok for ok, _ in self.sanity.values())


def _solver(timeout_ms: int) -> z3.Solver:
    s = z3.Solver()
    s.set("timeout", timeout_ms)
    return s


def witness_query(depth: int = 3) -> z3.BoolRef:
    """A run of ``depth`` steps from an initial state that establishes some epoch."""
    states = [PState(f"w{j}") for j in range(depth + 1)]
    path = [initial(states[0])] + [transition(states[j], states[j + 1], f"w{j}")
                                   for j in range(depth)]
    last = states[-1]
    return z3.And(*path, z3.Exists([E, L, Q], last.estq(E, L, Q)))


def prove_param(without: tuple[str, ...] = (), timeout_ms: int = 120_000) -> ParamResult:
    """Sanity, base case and induction step, one invariant (and action) at a time."""
    start = time.perf_counter()
    out = ParamResult(proven=False)
    pre, post = PState("pre"), PState("post")

    def check(label: str, *formulas: z3.BoolRef) -> z3.CheckSatResult:
        s = _solver(timeout_ms)
        s.add(axioms(), *formulas)
        tick = time.perf_counter()
        r = s.check()
        out.query_seconds[label] = time.perf_counter() - tick
        if r == z3.unknown and out.unknown is None:
            out.unknown = f"{label}: {s.reason_unknown()}"
        return r

    init_ok = check("initial condition", initial(pre)) == z3.sat
    out.sanity["initial condition satisfiable"] = (
        init_ok, "some state satisfies the initial condition and the axioms" if init_ok
        else "no state satisfies the initial condition and the axioms")
    inv_ok = check("invariant and step", invariant(pre, without),
                   transition(pre, post, "s")) == z3.sat
    out.sanity["invariant holds with a step enabled"] = (
        inv_ok, "some state satisfies the inductive invariant and has a successor" if inv_ok
        else "no state satisfying the invariant has an enabled step")
    wit_ok = check("establishment witness", witness_query(3)) == z3.sat
    out.sanity["a leader can be established"] = (
        wit_ok, "lead, decide, establish: 3 steps" if wit_ok
        else "no run of 3 steps establishes an epoch")
    if not out.sane or out.unknown:
        out.seconds = time.perf_counter() - start
        return out
    for name, f, _ in INVARIANTS:
        if name in without:
            continue
        if check(f"base {name}", initial(pre), z3.Not(f(pre))) != z3.unsat:
            out.base_failure = name
            out.seconds = time.perf_counter() - start
            return out
    for name, f, _ in INVARIANTS:
        if name in without:
            continue
        for a in ACTIONS:
            args = {x: z3.Const(f"{a.name}.{x}", _SORT[x]) for x in a.params}
            r = check(f"step {name} / {a.name}", invariant(pre, without),
                      step(pre, post, a, args), z3.Not(f(post)))
            if r != z3.unsat:
                out.step_failure, out.step_action = name, a.name
                out.seconds = time.perf_counter() - start
                return out
    out.proven = True
    out.seconds = time.perf_counter() - start
    return out
