"""Read a user's ZooKeeper log files into per-server election events.

Files may be plain or gzip-compressed, rotated (several files per server, ordered by their
first timestamp, whatever their names), and may mix other loggers' noise, stack traces
and garbage. Which server wrote a record comes from ``--server N=FILE``, else from its
``[myid:N]``, else from the election threads' names (``QuorumPeer[myid=N]``) or the "New
election. My id = N" line of the file. A new process (a restart) starts at its
"Reading configuration from" / "Starting quorum peer" record; each process is one *life*
of the server, whose election round restarts at 0. What cannot be used is counted and
reported, never fatal (``InputError`` only when nothing at all can be read).
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from zkcheck.conformance.fle_log import Event, classify
from zkcheck.errors import InputError
from zkcheck.logs.layout import KNOWN, Layout, Record, detect

_SID_IN_TEXT = re.compile(r"(?:QuorumPeer|WorkerReceiver)\[myid=(\d+)\]|New election\. My id = "
                          r"(\d+)")
_CONTINUATION = re.compile(r"^(\s|java\.|javax\.|Caused by|\.\.\. \d+ more|org\.apache\.)")
_CONFIG_PATH = re.compile(r"Reading configuration from: (.+)$")


@dataclass
class FileReport:
    """What was read from one file."""

    path: str
    layout: str = ""
    records: int = 0
    continuation: int = 0
    garbage: int = 0
    sids: tuple[int, ...] = ()
    problem: str = ""

    def text(self) -> str:
        if self.problem:
            return f"{self.path}: skipped ({self.problem})"
        extra = f", {self.garbage} unparsable line(s) skipped" if self.garbage else ""
        return (f"{self.path}: server {','.join(map(str, self.sids))}, {self.records} records "
                f"({self.layout} layout){extra}")


@dataclass
class Logs:
    """Every server's election events in its own order, and what the files said."""

    events: dict[int, list[Event]] = field(default_factory=dict)  # sid -> file order
    files: list[FileReport] = field(default_factory=list)
    config_paths: list[str] = field(default_factory=list)
    lives: dict[int, int] = field(default_factory=dict)
    debug: set[int] = field(default_factory=set)  # servers whose logs have DEBUG FLE lines

    @property
    def sids(self) -> list[int]:
        return sorted(self.events)


def _read_text(path: Path) -> list[str]:
    with path.open("rb") as f:
        head = f.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:  # type: ignore[operator]
        return f.readlines()


def expand(paths: list[str]) -> list[Path]:
    """Files named, and every regular file inside a named directory (sorted)."""
    out: list[Path] = []
    for name in paths:
        p = Path(name)
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*") if q.is_file()))
        elif p.is_file():
            out.append(p)
        else:
            raise InputError(f"{name}: no such file or directory")
    return out


def _records(lines: list[str], layout: Layout, report: FileReport) -> list[Record]:
    out = []
    for number, text in enumerate(lines, 1):
        rec = layout.parse(text, number)
        if rec is not None:
            out.append(rec)
        elif _CONTINUATION.match(text) or not text.strip():
            report.continuation += 1
        else:
            report.garbage += 1
    report.records = len(out)
    return out


def _sid_from_text(records: list[Record]) -> int | None:
    votes = Counter()
    for rec in records:
        if rec.myid is not None:
            votes[rec.myid] += 1
        for m in _SID_IN_TEXT.finditer(rec.thread + " " + rec.message):
            votes[int(m.group(1) or m.group(2))] += 1
    return votes.most_common(1)[0][0] if votes else None


def read_logs(paths: list[str], servers: dict[int, str] | None = None,
              pattern: str | None = None) -> Logs:
    """Read ``paths`` (files or directories) and the ``servers`` (sid -> file) options."""
    forced = {Path(f).resolve(): sid for sid, f in (servers or {}).items()}
    files: list[Path] = []
    for path in expand(paths) + expand(list((servers or {}).values())):
        if path.resolve() not in {f.resolve() for f in files}:  # each file once
            files.append(path)
    if not files:
        raise InputError("no log files given")
    layouts = (Layout(pattern, "custom"),) if pattern else KNOWN
    logs = Logs()
    per_sid: dict[int, list[list[Record]]] = {}
    for path in files:
        report = FileReport(str(path))
        logs.files.append(report)
        try:
            lines = _read_text(path)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            report.problem = f"unreadable: {exc}"
            continue
        layout = detect(lines[:2000], layouts)
        if layout is None:
            report.problem = ("no line has a known ZooKeeper layout; pass --pattern"
                              if not pattern else "no line matches --pattern")
            continue
        report.layout = layout.name
        records = _records(lines, layout, report)
        sid = forced.get(path.resolve())
        groups: dict[int, list[Record]] = {}
        if sid is None and len({r.myid for r in records if r.myid is not None}) > 1:
            for rec in records:  # one file with several servers' records: split by myid
                if rec.myid is not None:
                    groups.setdefault(rec.myid, []).append(rec)
        else:
            sid = sid if sid is not None else _sid_from_text(records)
            if sid is None:
                report.problem = "cannot tell which server wrote it; use --server N=FILE"
                continue
            groups[sid] = records
        report.sids = tuple(sorted(groups))
        for s, recs in groups.items():
            if recs:
                per_sid.setdefault(s, []).append(recs)
    for sid, chunks in per_sid.items():
        chunks.sort(key=lambda recs: recs[0].time)  # rotated files: oldest first
        logs.events[sid] = _events(sid, [r for recs in chunks for r in recs], logs)
    if not any(logs.events.values()):
        raise InputError("no ZooKeeper election lines found in " + ", ".join(
            r.path for r in logs.files))
    return logs


def _events(sid: int, records: list[Record], logs: Logs) -> list[Event]:
    """The server's election events, numbered in its own order; lives split at restarts."""
    out: list[Event] = []
    life, boundary = 1, True  # a boundary right after another one is the same start
    for number, rec in enumerate(records, 1):
        m = _CONFIG_PATH.search(rec.message) if rec.logger == "QuorumPeerConfig" else None
        if m is not None and m.group(1).strip() not in logs.config_paths:
            logs.config_paths.append(m.group(1).strip())
        starts = m is not None or (rec.logger == "QuorumPeerMain"
                                   and rec.message.startswith("Starting quorum peer"))
        if starts:
            if not boundary and out:
                life += 1
            boundary = True
            continue
        event = classify(rec.time, sid, life, rec.thread, rec.logger, rec.message, number)
        if event is None:
            continue
        boundary = False
        if event.kind in ("send", "add_vote", "update_proposal", "leave_fle"):
            logs.debug.add(sid)
        out.append(event)
    logs.lives[sid] = life
    return out
