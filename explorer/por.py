"""Partial-order reduction for breadth-first search: singleton ample sets, checked.

The model proposes, the explorer disposes. A model that supports POR has
``ample_for(property_names) -> AmpleFn | None``: for the given properties it returns
``ample(state, actions) -> index | None``, the position of one enabled action ``a`` whose
singleton ``{a}`` satisfies, *by the model's own argument* (documented with it):

* C0 ``{a}`` is non-empty (trivially);
* C1 on every path from ``state`` that does not take ``a``, every action is independent of
  ``a`` (commutes with it and neither disables the other), or *absorbs* it (``a`` followed
  by that action reaches the same state as the action alone, e.g. a crash of ``a``'s
  server); and ``a`` stays enabled with the same effect on the properties;
* C2 ``a`` is invisible: no checked property changes its value along ``a``;
* termination: chains of reduced steps are finite (checked through ``por_measure``).

The explorer adds, per state:

* the cycle proviso C3: if the model has ``por_measure(state) -> int`` (a well-founded
  measure), a state is reduced only if its ample step strictly decreases the measure, so
  the reduced graph has no cycle of reduced states at all; without a measure, the
  breadth-first proviso: the state is fully expanded if its ample successor is already
  stored (every reduced edge then leads to a state stored *after* its source). Either way
  every cycle of the reduced graph contains a fully expanded state;
* a run-time visibility guard: the state is fully expanded if any checked invariant or
  witness differs between it and its ample successor;
* ``check_independence=k``: on every k-th reduced state, ``a`` is executed against every
  other enabled action ``b`` in both orders (``a`` after ``b`` must be enabled, ``b`` after
  ``a`` must be enabled, the results must be equal -- or, for a pair the model declares
  absorbing, ``b`` after ``a`` must equal ``b`` alone), and the properties must agree
  along ``a`` after ``b``; then the same again in every state one such ``b`` leads to
  (paths of ``CHECK_PATH_LENGTH`` actions avoiding ``a``: C1 speaks of paths, and a
  dependence often shows only after another action, e.g. a message first transmitted
  and then delivered); a failure raises ``PorError``.

Depth. A reduced step costs 0: its successor joins the *current* breadth-first level. By
induction on (steps left, queue measure), for every path of n steps to a state there is a
reduced path of cost <= n to a state with the same property values (C1 moves ``a`` to the
front or prepends it; C2 keeps the values; the measure bounds the 0-cost steps), so a
depth bound d covers every state full search sees within d. The reduced search may see
states *deeper* than d and its traces may be longer than the shortest, so ``exact_traces``
re-runs full breadth-first search for the properties whose verdict hangs on a trace (every
violated invariant, requested witnesses, and any trace longer than the bound) up to the
found length: verdicts, witness results and counterexample lengths are those of full
search.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from zkcheck.explorer.model import PropertyKind
from zkcheck.explorer.result import Bounds
from zkcheck.explorer.trace import successor

if TYPE_CHECKING:
    from zkcheck.explorer.search import Search

AmpleFn = Callable[[Any, Sequence[tuple[str, Any]]], "int | None"]


CHECK_PATH_LENGTH = 2
"""``check_independence`` follows paths of this many actions that avoid the ample one."""


class PorError(RuntimeError):
    """The model's independence claim failed a run-time check."""


class Reducer:
    """Splits a chunk of states into fully expanded ones and reduced (ample) steps."""

    def __init__(self, search: Search, ample: AmpleFn, check_every: int):
        self.search = search
        self.ample = ample
        self.check_every = check_every
        self.predicates = [p.predicate for p in search.properties
                           if p.kind in (PropertyKind.INVARIANT, PropertyKind.WITNESS)]
        # predicates true only in deadlock states need no invisibility: persistent sets
        # reach every deadlock state itself (the run-time guard still applies)
        exempt = set(getattr(search.model, "por_deadlock_only", ()))
        self.invisible = [p.predicate for p in search.properties
                          if p.kind in (PropertyKind.INVARIANT, PropertyKind.WITNESS)
                          and p.name not in exempt]
        self.absorbs = getattr(search.model, "por_absorbs", None)
        self.measure = getattr(search.model, "por_measure", None)
        self.reduced = 0
        self.full = 0
        self.proviso = 0
        self.visible = 0
        self.pruned = 0
        self.checked = 0

    def split(self, chunk: list[tuple[int, Any]]) -> tuple[list, list]:
        """``(full, reduced)``: ``(parent, state)`` pairs to expand fully, and reduced
        steps ``(parent, label, successor, fingerprint, position of the action)``."""
        actions, ample = self.search.model.actions, self.ample
        full: list[tuple[int, Any]] = []
        candidates = []
        for parent, state in chunk:
            acts = actions(state)
            if type(acts) is not list:
                acts = list(acts)
            choice = ample(state, acts) if len(acts) > 1 else None
            if choice is None:
                full.append((parent, state))
            else:
                candidates.append((parent, state, acts, choice))
        reduced = []
        if candidates:
            fps = self.search._fp_many([c[2][c[3]][1] for c in candidates])
            measure = self.measure
            if measure is None:
                seen = self.search.known(fps).tolist()
            else:
                seen = [measure(c[2][c[3]][1]) >= measure(c[1]) for c in candidates]
            predicates = self.predicates
            for (parent, state, acts, choice), fp, old in zip(candidates, fps, seen,
                                                              strict=True):
                label, successor = acts[choice]
                if old:
                    self.proviso += 1
                    full.append((parent, state))
                elif any(p(state) != p(successor) for p in predicates):
                    self.visible += 1
                    full.append((parent, state))
                else:
                    reduced.append((parent, label, successor, fp, choice))
                    self.pruned += len(acts) - 1
                    if self.check_every and self.reduced % self.check_every == 0:
                        self.check(state, acts, choice)
                    self.reduced += 1
        self.full += len(full)
        return full, reduced

    # ------------------------------------------------------------------ debug mode
    def check(self, state: Any, acts: Sequence[tuple[str, Any]], choice: int) -> None:
        """Both orders of the ample action and every other enabled action (see module)."""
        self.checked += 1
        self._check_paths(acts[choice], acts, state, CHECK_PATH_LENGTH)

    def _check_paths(self, ample: tuple[str, Any], acts: Sequence[tuple[str, Any]],
                     state: Any, length: int) -> None:
        """``ample`` against every other action enabled in ``state``, then again after each
        of them, along paths of up to ``length`` actions that avoid it: C1 is a claim about
        such paths, not only about the actions enabled now."""
        model = self.search.model
        encode = model.encode
        label, after_a = ample
        for other, after_b in acts:
            if other == label:
                continue
            ba = successor(model, after_a, other)
            if self.absorbs is not None and self.absorbs(label, other):
                if ba is None or encode(ba) != encode(after_b):
                    raise PorError(f"{other!r} does not absorb {label!r} in state {state!r}")
                continue
            ab = successor(model, after_b, label)
            if ab is None:
                raise PorError(f"{other!r} disables the ample action {label!r} in {state!r}")
            if ba is None:
                raise PorError(f"the ample action {label!r} disables {other!r} in {state!r}")
            if encode(ab) != encode(ba):
                raise PorError(f"{label!r} and {other!r} do not commute in {state!r}")
            for p in self.invisible:
                if p(after_b) != p(ab):
                    raise PorError(f"{label!r} is visible after {other!r} in {state!r}")
            if length > 1:
                self._check_paths((label, ab), model.actions(after_b), after_b, length - 1)

    def stats(self) -> dict[str, Any]:
        return {
            "enabled": True,
            "reduced_states": self.reduced,
            "fully_expanded_states": self.full,
            "proviso_expansions": self.proviso,
            "proviso": "measure" if self.measure is not None else "stored successor",
            "visibility_expansions": self.visible,
            "pruned_transitions": self.pruned,
            "independence_checks": self.checked,
        }


def make_reducer(search: Search, check_every: int) -> tuple[Reducer | None, str]:
    """The reducer for ``search``, or None and the reason POR is off."""
    ample_for = getattr(search.model, "ample_for", None)
    if search.search != "bfs":
        return None, "partial-order reduction is implemented for breadth-first search only"
    if search.record_graph:
        return None, "off: the full graph is recorded (liveness, pictures)"
    if search.check_deadlock:
        return None, "off: deadlock counts are those of the full graph"
    if ample_for is None:
        return None, f"off: model {search.model.name!r} declares no independence"
    if getattr(search.model, "constraint", None) is not None:
        return None, "off: the model has a state constraint (its independence proof ignores it)"
    # liveness properties are judged on a recorded full graph (POR is off then) or not at all
    names = [p.name for p in search.properties
             if p.kind in (PropertyKind.INVARIANT, PropertyKind.WITNESS)]
    ample = ample_for(names)
    if ample is None:
        refusal = getattr(search.model, "por_refusal", None)
        reason = refusal(names) if refusal is not None else None
        return None, reason or "off: the model's independence proof does not cover this run"
    return Reducer(search, ample, check_every), ""


def exact_traces(search: Search) -> None:
    """After a reduced search: full breadth-first search decides what depends on a trace.

    Re-searched: violated invariants, witnesses that were requested by name, and any trace
    longer than the depth bound (full search to the bound decides whether the property is
    violated / the witness found within it). Up to the longest such trace (and at most the
    bound), stopping as soon as all are decided; the traces found are shortest.
    """
    bound = search.bounds.max_depth
    targets: dict[str, int] = {}
    for name, index in [*search.violations.items(), *search.witnesses.items()]:
        trace = search.trace_to(index)
        too_deep = bound is not None and len(trace) > bound
        if name in search.violations or search.witnesses_required or too_deep:
            targets[name] = len(trace)
        search._traces[name] = trace
    if not targets:
        return
    depth = max(targets.values()) if bound is None else min(max(targets.values()), bound)
    seconds = None
    if search.bounds.max_seconds is not None:
        spent = time.perf_counter() - search._started
        seconds = max(search.bounds.max_seconds - spent, 1.0)
    # the re-search gets the run's own state budget too: its memory and time stay within
    # what the user allowed (it is a full search, often larger than the reduced one)
    sub = search._sub_search(properties=list(targets),
                             bounds=replace(Bounds(), max_depth=depth, max_seconds=seconds,
                                            max_states=search.bounds.max_states))
    sub._stop_when_decided = True
    sub.run()
    cut = next((hit.bound for hit in sub.bounds_hit if hit.bound in ("time", "states")), None)
    for name in targets:
        found = sub.violations.get(name, sub.witnesses.get(name))
        if found is not None:
            search._traces[name] = sub.trace_to(found)
            continue
        if cut is not None:
            search._notes[name] = f"shortest trace not confirmed ({cut} bound)"
            continue
        # not within the bound in full search: the reduced search saw it deeper
        search.violations.pop(name, None)
        search.witnesses.pop(name, None)
        search._traces.pop(name, None)
    search.extra["por_research"] = {"depth": depth, "distinct_states": sub.store.count,
                                    "properties": sorted(targets)}
