"""The model interface the explorer talks to; the explorer knows nothing else about a protocol.

In the spirit of Stateright's ``Model`` trait and a TLA+ ``Init``/``Next`` pair:

* ``initial_states()`` -- the states a run may start in;
* ``actions(state)`` -- every enabled action as ``(label, successor)``. Labels are short,
  human-readable and **unique among the actions of one state**, so that a trace can be
  stored as labels and replayed by re-executing them;
* ``encode(state)`` -- a canonical byte encoding: equal states give equal bytes on every
  run and process (fingerprints are hashed from it, never from Python's salted ``hash()``);
* ``properties()`` -- named invariants, witnesses and liveness properties; each may carry
  ``explain(trace)``, which says in terms of the trace why its last step (or its loop)
  breaks or witnesses the property -- data (``Explanation``), which renderers show;
* ``constraint(state)`` (optional) -- TLC's state constraint: successors outside it are
  counted as generated, not stored, and do not make their parent a deadlock.

States must be immutable and hashable (tuples of small ints, or frozen dataclasses that
reduce to them). A readable view is derived when rendering (``describe``), never stored.
"""

from __future__ import annotations

import marshal
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

S = TypeVar("S")


class PropertyKind(StrEnum):
    """What a property claims about the reachable states."""

    INVARIANT = "invariant"  # must hold in every reachable state
    WITNESS = "witness"  # some reachable state must satisfy it (proves a run is not vacuous)
    LIVENESS = "liveness"  # "eventually goal" under fairness; checked on complete graphs


Explanation = dict[str, Any]
"""Why a trace breaks (or witnesses) a property: ``text`` (one or two sentences about the
trace: which server, which step, which values), ``step`` (the state index to mark, 0 =
initial), ``servers`` (the actors to mark: the model's ids, e.g. sids) and optionally
``detail`` (typed values behind the text, e.g. the two votes)."""


@dataclass(frozen=True)
class Property(Generic[S]):
    """A named predicate over states.

    For an invariant the predicate says "this state is fine"; for a witness "this state is
    the one we are looking for"; for a liveness property it is the goal that every fair run
    must eventually reach. ``description`` is the property's statement (one paragraph);
    ``explain(trace)`` (optional) returns an ``Explanation`` of a trace of this property.
    ``assume`` (liveness only, optional) is the environment assumption under which the goal
    is promised, e.g. "a quorum of servers is up": a run is judged only if it eventually
    stays in states satisfying it, so a deadlock or a cycle outside it is no counterexample
    (``zkcheck.explorer.liveness``).
    """

    name: str
    kind: PropertyKind
    predicate: Callable[[S], bool]
    description: str = ""
    explain: Callable[[Any], Explanation | None] | None = None
    assume: Callable[[S], bool] | None = None


def invariant(name: str, predicate: Callable[[Any], bool], description: str = "") -> Property:
    return Property(name, PropertyKind.INVARIANT, predicate, description)


def witness(name: str, predicate: Callable[[Any], bool], description: str = "") -> Property:
    return Property(name, PropertyKind.WITNESS, predicate, description)


def liveness(name: str, goal: Callable[[Any], bool], description: str = "",
             assume: Callable[[Any], bool] | None = None) -> Property:
    return Property(name, PropertyKind.LIVENESS, goal, description, assume=assume)


@runtime_checkable
class Model(Protocol[S]):
    """A finite transition system with named properties."""

    name: str

    def initial_states(self) -> Sequence[S]: ...

    def actions(self, state: S) -> Iterable[tuple[str, S]]: ...

    def encode(self, state: S) -> bytes: ...

    def properties(self) -> Sequence[Property[S]]: ...


def encode_tuple(state: Any) -> bytes:
    """Canonical bytes of a value built from tuples, ints, bools, None and strings.

    ``marshal`` version 2 writes no back-references, so the bytes depend only on the value,
    not on which sub-objects happen to be shared in memory (versions >= 3 would).
    """
    return marshal.dumps(state, 2)


def explanation_of(prop: Property, trace: Any) -> Explanation | None:
    """The property's explanation of ``trace`` (None without an explainer or a trace)."""
    if prop.explain is None or trace is None:
        return None
    return prop.explain(trace)


def describe(model: Model, state: Any) -> Any:
    """A readable view of ``state``: the model's ``describe`` if it has one, else the state."""
    view = getattr(model, "describe", None)
    return view(state) if view is not None else state


def select_properties(all_props: Sequence[Property], names: Sequence[str] | None) -> list[Property]:
    """The properties named in ``names`` (every one for None), in that order, each once; an
    unknown name raises KeyError naming the known ones (the CLI turns it into exit 2)."""
    if names is None:
        return list(all_props)
    by_name = {p.name: p for p in all_props}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        known = ", ".join(sorted(by_name)) or "none"
        raise KeyError(f"unknown property {unknown[0]!r} (known: {known})")
    return [by_name[n] for n in dict.fromkeys(names)]
