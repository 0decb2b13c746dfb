"""Your own model for zkcheck: the Die Hard water jugs, as in the TLA+ examples.

A 5-gallon and a 3-gallon jug, a tap and a drain: can you measure exactly 4 gallons?
The invariant ``BigNotFour`` says "never", so zkcheck's counterexample is the shortest
way to do it (6 steps).

    zkcheck explore --model examples/diehard.py:DieHard
    zkcheck explore --model examples/diehard.py:Pumps --depth 20

``Pumps`` shows a state constraint: a counter that grows forever (water pumped), kept
finite by ``constraint`` the way TLC's CONSTRAINT does. See docs/models.md.
"""

from __future__ import annotations

from collections.abc import Iterator

from zkcheck.explorer.model import encode_tuple, invariant, witness

State = tuple[int, int]  # (big, small): gallons in each jug


class DieHard:
    """The jugs: six actions, 16 reachable states."""

    name = "diehard"
    BIG, SMALL = 5, 3

    def initial_states(self) -> list[State]:
        return [(0, 0)]

    def actions(self, state: State) -> Iterator[tuple[str, State]]:
        big, small = state
        pour = min(big, self.SMALL - small)  # big -> small
        back = min(small, self.BIG - big)  # small -> big
        yield "FillBig", (self.BIG, small)
        yield "FillSmall", (big, self.SMALL)
        yield "EmptyBig", (0, small)
        yield "EmptySmall", (big, 0)
        yield "BigToSmall", (big - pour, small + pour)
        yield "SmallToBig", (big + back, small - back)

    encode = staticmethod(encode_tuple)  # canonical bytes of a tuple state

    def properties(self):
        return [
            invariant("TypeOK", lambda s: 0 <= s[0] <= self.BIG and 0 <= s[1] <= self.SMALL,
                      "Each jug holds between 0 gallons and its capacity."),
            invariant("BigNotFour", lambda s: s[0] != 4,
                      "The big jug never holds exactly 4 gallons (false: this is the "
                      "puzzle's solution)."),
            witness("SmallFull", lambda s: s[1] == self.SMALL,
                    "Some reachable state has a full small jug."),
        ]

    def describe(self, state: State) -> dict[str, int]:
        return {"big": state[0], "small": state[1]}

    def action_kinds(self) -> list[str]:
        return ["FillBig", "FillSmall", "EmptyBig", "EmptySmall", "BigToSmall", "SmallToBig"]


class Pumps(DieHard):
    """The jugs plus a meter of water drawn from the tap, which grows without end; the
    state constraint keeps the search finite (like TLC's CONSTRAINT)."""

    name = "diehard-pumps"
    METER_LIMIT = 6

    def initial_states(self) -> list[tuple[int, int, int]]:
        return [(0, 0, 0)]

    def actions(self, state):  # type: ignore[override]
        big, small, meter = state
        for label, (b, s) in super().actions((big, small)):
            drawn = (b + s) - (big + small) if label.startswith("Fill") else 0
            yield label, (b, s, meter + drawn)

    def constraint(self, state) -> bool:
        """Explore only runs that drew at most METER_LIMIT gallons."""
        return state[2] <= self.METER_LIMIT

    def properties(self):
        return [invariant("BigNotFour", lambda s: s[0] != 4,
                          "The big jug never holds exactly 4 gallons.")]

    def describe(self, state) -> dict[str, int]:
        return {"big": state[0], "small": state[1], "meter": state[2]}
