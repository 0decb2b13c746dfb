"""Swarm testing (Groce, Zhang, Eide, Chen, Regehr, ISSTA 2012): each walk runs with a
random subset of the optional behaviours switched on.

A model that supports swarm declares its *knobs* through two optional methods:

* ``swarm_knobs() -> list[Knob]``: named budgets (fault kinds and the like) with the
  maximum the user configured; a knob with maximum 0 is off for every walk;
* ``with_knobs(values: dict[str, int]) -> Model``: the same model with those budgets.

The names are the model's option names, so a walk's configuration is the base options
updated with its knob values (what a trace file records to replay it). Each walk draws its
knobs from its own random generator before its first step, so the subset is part of the
reproducible seed: one fair coin per knob, then a budget uniform in 1..maximum if on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Knob:
    name: str
    maximum: int


def knobs_of(model: Any) -> list[Knob]:
    """The model's swarm knobs (empty when it declares none)."""
    hook = getattr(model, "swarm_knobs", None)
    return [k for k in hook() if k.maximum > 0] if hook is not None else []


def draw_knobs(knobs: list[Knob], rng: np.random.Generator) -> dict[str, int]:
    """One walk's budgets: each knob on with probability 1/2, then 1..maximum."""
    values = {}
    for knob in knobs:
        on = rng.random() < 0.5
        values[knob.name] = int(rng.integers(1, knob.maximum + 1)) if on else 0
    return values
