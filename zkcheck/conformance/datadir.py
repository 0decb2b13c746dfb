"""A stopped server's persistent FLE inputs, read from its dataDir (``version-2``).

A server that is down votes, when it comes back, with what it reloads from disk: the
``currentEpoch``/``acceptedEpoch`` files (decimal text) and the last zxid of its data,
the larger of the newest snapshot's name (``snapshot.<hex zxid>``) and the last complete
transaction of its transaction logs. ``srvr`` cannot tell that value: a leader reports
its next-zxid counter (``epoch<<32`` right after its election, with nothing on disk in
that epoch), so a down ex-leader's last ``srvr`` value is not its vote.

Transaction log format (ZooKeeper 3.8 ``FileTxnLog``, big-endian jute): a 16-byte header
(magic ``ZKLG``, version, dbid), then records ``crc:int64, length:int32, txn[length],
0x42`` where the txn starts with its header ``clientId:int64, cxid:int32, zxid:int64``.
The file is preallocated with zeros: a zero length ends it, as does a record cut short
by a crash (ZooKeeper drops that one too).
"""

from __future__ import annotations

import struct
from pathlib import Path

LOG_MAGIC = b"ZKLG"
_HEADER = 16
_RECORD = struct.Struct(">qi")  # crc, txn length
_ZXID_AT = 12  # clientId (8) + cxid (4)
_EOR = 0x42


def epoch_file(version2: Path, name: str) -> int:
    """``currentEpoch``/``acceptedEpoch`` (0 when not written yet: a fresh server)."""
    path = version2 / name
    return int(path.read_text().strip()) if path.exists() else 0


def log_last_zxid(path: Path) -> int | None:
    """The zxid of the last complete record of one transaction log (None: no record).
    Reads record by record: the file is 64 MiB preallocated, its records a few KiB."""
    last = None
    with path.open("rb") as f:
        if f.read(_HEADER)[:4] != LOG_MAGIC:
            return None
        while len(head := f.read(_RECORD.size)) == _RECORD.size:
            _crc, length = _RECORD.unpack(head)
            if length < _ZXID_AT + 8:
                break
            body = f.read(length + 1)
            if len(body) != length + 1 or body[-1] != _EOR:
                break
            last = struct.unpack_from(">q", body, _ZXID_AT)[0]
    return last


def last_logged_zxid(version2: Path) -> int:
    """What the server reloads as its last zxid: the newest snapshot's or log record's."""
    found = [0]
    for path in version2.glob("snapshot.*"):
        try:
            found.append(int(path.name.partition(".")[2], 16))
        except ValueError:
            continue
    for path in version2.glob("log.*"):
        zxid = log_last_zxid(path)
        if zxid is not None:
            found.append(zxid)
    return max(found)
