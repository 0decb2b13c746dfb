"""Log layouts: a log4j/logback conversion pattern as a line parser.

ZooKeeper 3.8 ships two default layouts (upstream ``conf/logback.xml`` and Debian's
``/etc/zookeeper/conf/log4j.properties``); operators may use their own (``--pattern``).
A pattern is turned into one regular expression with named groups for the fields the
election analysis needs: the timestamp, ``myid`` (when the layout has ``%X{myid}``), the
level, the thread, the logger or class, and the message. Other conversions (``%L``,
``%M``, ``%F``, ``%x``, ``%r``, literal text) must be present but are not used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from zkcheck.errors import InputError

DEFAULT_LAYOUTS: dict[str, str] = {
    "upstream": "%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n",
    "debian": "%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m%n",
    "zkcheck": "%d{ISO8601} [myid:%X{myid}] %-5p [%t] %c{1} - %m%n",
}
"""ZooKeeper 3.8's logback.xml, Debian's log4j.properties, the conformance harness's."""

_ISO8601 = "yyyy-MM-dd HH:mm:ss,SSS"
_DATE_FIELDS = (("yyyy", r"\d{4}", "%Y"), ("MM", r"\d\d", "%m"), ("dd", r"\d\d", "%d"),
                ("HH", r"\d\d", "%H"), ("mm", r"\d\d", "%M"), ("ss", r"\d\d", "%S"),
                ("SSS", r"\d{3}", "%f"))
_CONVERSION = re.compile(r"%(-?\d*(?:\.\d+)?)([a-zA-Z]+)(?:\{([^}]*)\})?")
_FIELD = {  # conversion word -> (group name, regex); group None: matched, not kept
    "d": ("time", None), "date": ("time", None),
    "X": ("myid", r"\d*"), "mdc": ("myid", r"\d*"),
    "p": ("level", r"[A-Z]+"), "le": ("level", r"[A-Z]+"), "level": ("level", r"[A-Z]+"),
    "t": ("thread", r".*?"), "thread": ("thread", r".*?"),
    "c": ("logger", r"[\w$.]+"), "lo": ("logger", r"[\w$.]+"),
    "logger": ("logger", r"[\w$.]+"), "C": ("logger", r"[\w$.]+"),
    "class": ("logger", r"[\w$.]+"),
    "m": ("msg", r".*"), "msg": ("msg", r".*"), "message": ("msg", r".*"),
    "L": (None, r"\d*|\?"), "line": (None, r"\d*|\?"), "M": (None, r"[\w$<>?]*"),
    "method": (None, r"[\w$<>?]*"), "F": (None, r"[\w.?]*"), "file": (None, r"[\w.?]*"),
    "x": (None, r".*?"), "r": (None, r"\d+"), "relative": (None, r"\d+"),
    "contextName": (None, r"\S*"), "cn": (None, r"\S*"),
}


def _date_regex(fmt: str) -> tuple[str, str]:
    """A Java date format (only the numeric fields ZooKeeper layouts use) as a regex and a
    ``strptime`` format."""
    if fmt in ("", "ISO8601"):
        fmt = _ISO8601
    regex, strp, i = "", "", 0
    while i < len(fmt):
        for java, rx, py in _DATE_FIELDS:
            if fmt.startswith(java, i):
                regex, strp, i = regex + rx, strp + py, i + len(java)
                break
        else:
            if fmt[i].isalpha():
                raise InputError(f"--pattern: date field {fmt[i]!r} in %d{{{fmt}}} is not "
                                 "supported (use yyyy MM dd HH mm ss SSS)")
            regex, strp, i = regex + re.escape(fmt[i]), strp + fmt[i].replace("%", "%%"), i + 1
    return regex, strp


@dataclass(frozen=True)
class Record:
    """One log record: the fields of its first line (continuation lines are dropped)."""

    time: float
    myid: int | None
    level: str
    thread: str
    logger: str
    message: str
    line: int


class Layout:
    """A conversion pattern compiled into a line parser."""

    def __init__(self, pattern: str, name: str | None = None) -> None:
        self.pattern, self.name = pattern, name or pattern
        regex, pos, seen = "^", 0, set()
        self._strptime = _date_regex("")[1]
        for m in _CONVERSION.finditer(pattern):
            regex += re.escape(pattern[pos:m.start()])
            pos = m.end()
            word, arg = m.group(2), m.group(3)
            if word == "n":
                continue
            if word not in _FIELD:
                raise InputError(f"--pattern: conversion %{word} is not supported")
            group, rx = _FIELD[word]
            if group == "time":
                rx, self._strptime = _date_regex((arg or "").split(",")[0].strip())
            if group == "myid" and arg not in (None, "myid"):
                group = None
                rx = r"\S*"
            if group is not None and group in seen:
                group = None
            width = m.group(1)
            if group in ("level",) and width:
                rx = rf"{rx}\s*"
            regex += f"(?P<{group}>{rx})" if group else f"(?:{rx})"
            if group:
                seen.add(group)
        regex += re.escape(pattern[pos:].replace("%n", "")) + "$"
        missing = {"time", "thread", "logger", "msg"} - seen
        if missing:
            raise InputError(f"--pattern {pattern!r} lacks {', '.join(sorted(missing))} "
                             "(needs %d, %t, %c or %C, and %m)")
        self.regex = re.compile(regex)

    def parse(self, text: str, line: int) -> Record | None:
        """The record of one line, or None when the line does not have this layout."""
        m = self.regex.match(text.rstrip("\r\n"))
        if m is None:
            return None
        try:
            stamp = datetime.strptime(m["time"].replace(".", ",") if "%f" in self._strptime
                                      and "," in self._strptime else m["time"],
                                      self._strptime)
        except ValueError:
            return None
        if stamp.year == 1900:  # a layout without a date: keep the day 0
            stamp = stamp.replace(year=1970)
        myid = m.groupdict().get("myid")
        return Record(stamp.timestamp(), int(myid) if myid else None,
                      (m.groupdict().get("level") or "INFO").strip(), m["thread"],
                      m["logger"].rsplit(".", 1)[-1], m["msg"], line)


KNOWN = tuple(Layout(p, name) for name, p in DEFAULT_LAYOUTS.items())


def detect(lines: list[str], layouts: tuple[Layout, ...] = KNOWN) -> Layout | None:
    """The layout that parses most of ``lines`` (a sample from the top of a file), or None
    when none parses any."""
    best, score = None, 0
    for layout in layouts:
        n = sum(layout.parse(text, 0) is not None for text in lines)
        if n > score:
            best, score = layout, n
    return best
