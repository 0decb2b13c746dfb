"""Your own models and properties: ``--model package.module:Class`` or ``path/file.py:Class``.

A user's model is any object with the ``zkcheck.explorer.model.Model`` interface
(``name``, ``initial_states``, ``actions``, ``encode``, ``properties``; optionally
``constraint``, ``describe``, ``action_kinds``). ``Class`` is called without arguments
(a class or a factory function); the name may also be a ready-made model object.

A spec file can add property functions from a Python file to any model
(``extended_model``): each function takes a state and returns a bool; its docstring is the
property's statement. Everything here raises ``InputError`` with one line.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import marshal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from zkcheck.errors import InputError
from zkcheck.explorer.model import Model, Property, PropertyKind

_REQUIRED = ("initial_states", "actions", "encode", "properties")


def is_user_model(spec: str) -> bool:
    """``module:Name`` or ``file.py:Name`` (a toy's ``name:params`` is not one)."""
    from zkcheck.model.toys import TOYS

    source, sep, attr = spec.rpartition(":")
    return bool(sep) and source not in TOYS and attr.isidentifier()


def load_module(source: str) -> ModuleType:
    """A module by dotted name, or a Python file by path (imported once per process under
    a name derived from its absolute path, so worker processes see the same classes)."""
    if source.endswith(".py") or "/" in source or "\\" in source:
        path = Path(source).expanduser().resolve()
        if not path.is_file():
            raise InputError(f"--model: no such Python file {source!r}")
        digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
        name = f"zkcheck_user_{path.stem}_{digest}"
        if name in sys.modules:
            return sys.modules[name]
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise InputError(f"--model: cannot import {source!r}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001 - the user's code: one line, exit 2
            del sys.modules[name]
            raise InputError(f"--model: importing {source} failed: "
                             f"{type(exc).__name__}: {exc}") from None
        return module
    try:
        return importlib.import_module(source)
    except ImportError as exc:
        raise InputError(f"--model: cannot import module {source!r}: {exc}") from None


def load_user_model(spec: str) -> Model:
    """The model named by ``source:Name`` (see the module docstring)."""
    source, _, attr = spec.rpartition(":")
    module = load_module(source)
    target = getattr(module, attr, None)
    if target is None:
        raise InputError(f"--model: {source} defines no {attr!r}")
    model = target
    if isinstance(target, type) or (callable(target) and
                                    not hasattr(target, "initial_states")):
        try:
            model = target()
        except Exception as exc:  # noqa: BLE001 - the user's code: one line, exit 2
            raise InputError(f"--model: {attr}() failed: {type(exc).__name__}: {exc}") from None
    missing = [m for m in _REQUIRED if not callable(getattr(model, m, None))]
    if missing:
        raise InputError(f"--model: {spec} is not a zkcheck Model: it has no "
                         f"{', '.join(missing)}() (see docs/models.md)")
    if not isinstance(getattr(model, "name", None), str):
        raise InputError(f"--model: {spec} has no 'name' string attribute")
    _check_states(model, spec)
    return model


def _check_states(model: Any, spec: str) -> None:
    """Initial states must exist and travel between processes (marshal: tuples of ints,
    strings, bools, None) unless the model packs them itself."""
    try:
        initial = list(model.initial_states())
    except Exception as exc:  # noqa: BLE001 - the user's code: one line, exit 2
        raise InputError(f"--model: {spec}: initial_states() failed: "
                         f"{type(exc).__name__}: {exc}") from None
    if not initial:
        raise InputError(f"--model: {spec} has no initial states")
    if getattr(model, "pack_states", None) is None:
        try:
            marshal.dumps(initial[0], 2)
        except ValueError:
            raise InputError(f"--model: {spec}: a state must be built from tuples, ints, "
                             "strings, bools and None (or the model defines pack_states and "
                             "unpack_states)") from None


class ExtendedModel:
    """A model with extra properties; every other attribute is the wrapped model's."""

    def __init__(self, model: Any, extra: Sequence[Property]) -> None:
        self._model = model
        self._extra = list(extra)
        self.name = model.name

    def properties(self) -> list[Property]:
        return list(self._model.properties()) + self._extra

    def __getattr__(self, name: str) -> Any:
        if name == "_model":  # not set yet (e.g. while unpickling): no recursion
            raise AttributeError(name)
        return getattr(self._model, name)


def property_functions(path: Path, invariants: Sequence[str], witnesses: Sequence[str],
                       where: str) -> list[Property]:
    """Properties named after functions of the Python file ``path``."""
    module = load_module(str(path))
    props = []
    for kind, names in ((PropertyKind.INVARIANT, invariants), (PropertyKind.WITNESS, witnesses)):
        for name in names:
            function: Callable[[Any], bool] | None = getattr(module, name, None)
            if not callable(function):
                raise InputError(f"{where}: {path} defines no function {name!r}")
            doc = " ".join((function.__doc__ or "").split())
            props.append(Property(name, kind, function, doc))
    return props


def extended_model(model: Any, extra: Sequence[Property], where: str) -> Any:
    """``model`` with ``extra`` properties (their names must be new)."""
    if not extra:
        return model
    known = {p.name for p in model.properties()}
    for prop in extra:
        if prop.name in known:
            raise InputError(f"{where}: property {prop.name!r} is already one of the "
                             f"model's")
    return ExtendedModel(model, extra)
