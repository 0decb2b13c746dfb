"""Toy models whose state counts, depths and verdicts are known by hand.

They exercise the explorer through the same code path as the FLE model (``zkcheck explore
--model grid:3,4``) and anchor its tests: if the explorer miscounts here, it miscounts
everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from zkcheck.errors import InputError
from zkcheck.explorer.model import Property, encode_tuple, invariant, liveness, witness


@dataclass(frozen=True)
class Grid:
    """Two bounded counters: (N+1)(M+1) states, diameter N+M, one deadlock at (N, M)."""

    n: int
    m: int

    @property
    def name(self) -> str:
        return f"grid:{self.n},{self.m}"

    def initial_states(self) -> tuple[tuple[int, int], ...]:
        return ((0, 0),)

    def actions(self, state: tuple[int, int]) -> Iterator[tuple[str, tuple[int, int]]]:
        x, y = state
        if x < self.n:
            yield "x+1", (x + 1, y)
        if y < self.m:
            yield "y+1", (x, y + 1)

    encode = staticmethod(encode_tuple)

    def properties(self) -> list[Property]:
        n, m = self.n, self.m
        return [
            invariant("InBounds", lambda s: 0 <= s[0] <= n and 0 <= s[1] <= m,
                      "both counters stay within their bounds"),
            invariant("NotCorner", lambda s: s != (n, m),
                      "the far corner is never reached (violated at depth N+M)"),
            witness("Corner", lambda s: s == (n, m), "the far corner is reachable"),
            witness("Beyond", lambda s: s[0] > n, "a counter passes its bound (never)"),
        ]

    def describe(self, state: tuple[int, int]) -> dict[str, int]:
        return {"x": state[0], "y": state[1]}


_MUTEX_PCS = ("idle", "checked", "critical")


@dataclass(frozen=True)
class Mutex:
    """Two processes guarding a critical section with flags.

    Broken (default): "test the other's flag, then set mine" in two steps, so both can pass
    the test before either sets its flag: mutual exclusion fails at depth 4, in a space of
    all 9 (pc1, pc2) pairs. Fixed: test-and-set is one atomic step; 3 states, it holds.
    A state is (pc1, pc2) with pc 0 idle, 1 checked, 2 critical; flag_i = (pc_i == 2).
    """

    fixed: bool = False

    @property
    def name(self) -> str:
        return "mutex:fixed" if self.fixed else "mutex"

    def initial_states(self) -> tuple[tuple[int, int], ...]:
        return ((0, 0),)

    def actions(self, state: tuple[int, int]) -> Iterator[tuple[str, tuple[int, int]]]:
        for me in (0, 1):
            pc, other = state[me], state[1 - me]
            if pc == 0 and other != 2:
                yield f"p{me + 1}:{'enter' if self.fixed else 'check'}", _set(
                    state, me, 2 if self.fixed else 1)
            elif pc == 1:
                yield f"p{me + 1}:enter", _set(state, me, 2)
            elif pc == 2:
                yield f"p{me + 1}:exit", _set(state, me, 0)

    encode = staticmethod(encode_tuple)

    def properties(self) -> list[Property]:
        return [
            invariant("MutualExclusion", lambda s: s != (2, 2),
                      "at most one process is in its critical section"),
            witness("Entered", lambda s: 2 in s, "some process can enter"),
        ]

    def describe(self, state: tuple[int, int]) -> dict[str, str]:
        return {"p1": _MUTEX_PCS[state[0]], "p2": _MUTEX_PCS[state[1]]}


@dataclass(frozen=True)
class Ring:
    """A counter modulo K: K states on one cycle, diameter K-1, no deadlock."""

    k: int

    @property
    def name(self) -> str:
        return f"ring:{self.k}"

    def initial_states(self) -> tuple[tuple[int], ...]:
        return ((0,),)

    def actions(self, state: tuple[int]) -> Iterator[tuple[str, tuple[int]]]:
        yield "inc", ((state[0] + 1) % self.k,)

    encode = staticmethod(encode_tuple)

    def properties(self) -> list[Property]:
        k = self.k
        return [
            invariant("InRange", lambda s: 0 <= s[0] < k, "the counter stays in range"),
            witness("Wrapped", lambda s: s[0] == k - 1, "the last value is reachable"),
        ]


@dataclass(frozen=True)
class Philosophers:
    """N dining philosophers, each taking the left fork, then the right one.

    A philosopher is 0 thinking, 1 holding the left fork, 2 eating (both forks). With N = 2
    there are 6 reachable states and one deadlock, (1, 1), at depth 2.
    """

    n: int

    @property
    def name(self) -> str:
        return f"philosophers:{self.n}"

    def initial_states(self) -> tuple[tuple[int, ...], ...]:
        return ((0,) * self.n,)

    def _fork_free(self, state: tuple[int, ...], fork: int) -> bool:
        left_owner, right_owner = fork, (fork - 1) % self.n
        return state[left_owner] == 0 and state[right_owner] != 2

    def actions(self, state: tuple[int, ...]) -> Iterator[tuple[str, tuple[int, ...]]]:
        for i, phase in enumerate(state):
            if phase == 0 and self._fork_free(state, i):
                yield f"p{i}:left", _set(state, i, 1)
            elif phase == 1 and self._fork_free(state, (i + 1) % self.n):
                yield f"p{i}:right", _set(state, i, 2)
            elif phase == 2:
                yield f"p{i}:release", _set(state, i, 0)

    encode = staticmethod(encode_tuple)

    def properties(self) -> list[Property]:
        return [
            invariant("ForksExclusive", self._forks_exclusive,
                      "no fork is held by two philosophers"),
            witness("SomeoneEats", lambda s: 2 in s, "a philosopher can eat"),
        ]

    def _forks_exclusive(self, state: tuple[int, ...]) -> bool:
        n = self.n
        return all(not (state[i] == 2 and state[(i + 1) % n] >= 1) for i in range(n))


@dataclass(frozen=True)
class Counter:
    """A counter 0..K-1 that must eventually reach K-1 (a liveness toy).

    ``inc`` and ``reset`` are weakly fair, ``wait`` (a self-loop) is not. Without reset the
    only cycles avoiding the top are the ``wait`` loops, which are unfair (``inc`` stays
    enabled): the property holds under weak fairness. With reset the cycle inc, reset
    between 0 and 1 is fair and avoids the top forever: a lasso with a loop of 2 steps.
    """

    k: int
    reset: bool = False

    @property
    def name(self) -> str:
        return f"counter:{self.k}{',reset' if self.reset else ''}"

    def initial_states(self) -> tuple[tuple[int], ...]:
        return ((0,),)

    def actions(self, state: tuple[int]) -> Iterator[tuple[str, tuple[int]]]:
        value = state[0]
        if value < self.k - 1:
            yield "inc", (value + 1,)
        if self.reset and value > 0:
            yield "reset", (0,)
        yield "wait", state

    @staticmethod
    def fairness(label: str) -> str | None:
        return None if label == "wait" else label

    encode = staticmethod(encode_tuple)

    def properties(self) -> list[Property]:
        top = self.k - 1
        return [liveness("ReachesTop", lambda s: s[0] == top, "the counter eventually tops out")]


def _set(state: tuple[int, ...], index: int, value: int) -> tuple[int, ...]:
    return state[:index] + (value,) + state[index + 1 :]


TOYS = {"grid": "grid:N,M", "mutex": "mutex or mutex:fixed", "ring": "ring:K",
        "philosophers": "philosophers:N", "counter": "counter:K or counter:K,reset"}


def toy_model(spec: str):
    """Build a toy model from ``name[:params]``; InputError with one line if malformed."""
    name, _, params = spec.partition(":")
    try:
        fields = [p for p in params.split(",") if p != "reset"] if params else []
        numbers = [int(p) for p in fields] if name != "mutex" else []
    except ValueError:
        raise InputError(f"bad toy model {spec!r}: expected {TOYS.get(name, name)}") from None
    if any(v < 1 for v in numbers):
        raise InputError(f"bad toy model {spec!r}: parameters must be >= 1")
    if name == "grid" and len(numbers) == 2:
        return Grid(*numbers)
    if name == "mutex" and params in ("", "fixed"):
        return Mutex(fixed=params == "fixed")
    if name == "ring" and len(numbers) == 1:
        return Ring(numbers[0])
    if name == "philosophers" and len(numbers) == 1:
        return Philosophers(numbers[0])
    if name == "counter" and len(numbers) == 1:
        return Counter(numbers[0], reset=params.endswith(",reset"))
    choices = ", ".join(TOYS.values())
    raise InputError(f"unknown model {spec!r} (fle, or a toy: {choices})")
