"""One JSON document shape for every command's ``--json`` (docs/json.md).

Every document is an object that starts with the same envelope: ``schema`` (this
version's id), ``zkcheck_version``, ``command``, ``exit_code`` and ``ok``; the command's
typed fields follow. ``zkcheck-report.schema.json`` next to this file is the JSON Schema
the tests validate every command's output against.
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any

SCHEMA_ID = "zkcheck-report/2"
SCHEMA_FILE = Path(__file__).with_name("zkcheck-report.schema.json")


def zkcheck_version() -> str:
    try:
        return metadata.version("zkcheck")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "0+unknown"


def envelope(command: str, exit_code: int, **fields: Any) -> dict[str, Any]:
    """The document of one command run: the envelope, then ``fields`` in order."""
    head = {"schema": SCHEMA_ID, "zkcheck_version": zkcheck_version(), "command": command,
            "exit_code": exit_code, "ok": exit_code == 0}
    clash = set(head) & set(fields)
    if clash:
        raise ValueError(f"a command's field may not replace the envelope's {sorted(clash)}")
    return {**head, **fields}


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, default=str)


def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text())
