"""The public Python API: build a model from options, explore it, replay traces.

The command line is a thin layer over these functions::

    from zkcheck.api import build_model, explore, Bounds
    model = build_model("fle", servers=3)
    result = explore(model, search="bfs", bounds=Bounds(max_depth=20))
"""

from __future__ import annotations

from typing import Any

from zkcheck.errors import InputError
from zkcheck.explorer import Bounds, Result, Trace, explore, replay
from zkcheck.explorer.model import Model

__all__ = ["Bounds", "Result", "Trace", "build_model", "explore", "replay"]


def build_model(spec: str = "fle", **fle_options: Any) -> Model:
    """``fle`` (configured by the FLE options), a toy model such as ``grid:3,4``, or your
    own: ``package.module:Class`` or ``path/to/file.py:Class`` (``zkcheck.user_model``)."""
    if spec == "fle":
        from zkcheck.fle_options import build_fle_model

        return build_fle_model(**fle_options)
    if fle_options:
        raise InputError(f"model {spec!r} takes no FLE options")
    from zkcheck.user_model import is_user_model, load_user_model

    if is_user_model(spec):
        return load_user_model(spec)
    from zkcheck.model.toys import toy_model

    return toy_model(spec)
