"""Reading a stopped server's persistent inputs from its dataDir (no ZooKeeper needed)."""

import struct

from zkcheck.conformance.datadir import epoch_file, last_logged_zxid, log_last_zxid


def _record(zxid: int, payload: bytes = b"") -> bytes:
    txn = struct.pack(">qiqqi", 0x30000A0F476, 1, zxid, 1_700_000_000_000, 1) + payload
    return struct.pack(">qi", 0x51C6D660, len(txn)) + txn + b"B"


def _log(*records: bytes, tail: bytes = b"\0" * 4096) -> bytes:
    return b"ZKLG" + struct.pack(">iq", 2, 0) + b"".join(records) + tail


def test_last_record_of_a_preallocated_log(tmp_path):
    path = tmp_path / "log.100000001"
    path.write_bytes(_log(_record(0x100000001), _record(0x100000002, b"/zkcheck-1"),
                          _record(0x100000005)))
    assert log_last_zxid(path) == 0x100000005


def test_a_record_cut_short_by_a_crash_is_not_counted(tmp_path):
    path = tmp_path / "log.100000001"
    path.write_bytes(_log(_record(0x100000001), _record(0x100000002)[:20], tail=b""))
    assert log_last_zxid(path) == 0x100000001
    (tmp_path / "log.x").write_bytes(b"not a log")
    assert log_last_zxid(tmp_path / "log.x") is None


def test_last_logged_zxid_takes_the_newest_snapshot_or_record(tmp_path):
    # a leader of epoch 2 that logged nothing in it: srvr says 0x200000000, disk (1, 5)
    (tmp_path / "snapshot.0").write_bytes(b"")
    (tmp_path / "snapshot.100000005").write_bytes(b"")
    (tmp_path / "log.100000001").write_bytes(_log(_record(0x100000005)))
    (tmp_path / "currentEpoch").write_text("2\n")
    assert last_logged_zxid(tmp_path) == 0x100000005
    # a follower synced by SNAP in epoch 3 holds the leader's (3, 0) snapshot
    (tmp_path / "snapshot.300000000").write_bytes(b"")
    assert last_logged_zxid(tmp_path) == 0x300000000
    assert epoch_file(tmp_path, "currentEpoch") == 2
    assert epoch_file(tmp_path, "acceptedEpoch") == 0
    assert last_logged_zxid(tmp_path / "missing") == 0
