"""Read a real ZooKeeper ``zoo.cfg`` (or dynamic config file) into servers, groups, weights.

Only the keys that decide quorums are interpreted, exactly as QuorumPeerConfig and the
verifiers read them (ZooKeeper 3.5+ forms; 3.4 static forms are a subset):

* ``server.N=host:quorumport:electionport[:participant|:observer][;[clientaddr:]clientport]``
  (several addresses may be joined with ``|``; IPv6 hosts in ``[...]``),
* ``group.G=a:b:c`` and ``weight.N=w`` -- any key starting with ``group`` or ``weight``
  switches to hierarchical quorums, as in ZooKeeper,
* ``version=<hex>`` and ``dynamicConfigFile=<path>`` (followed; relative paths are tried
  from the working directory, then from the directory of the file),
* ``standaloneEnabled=true|false`` (default true), which decides, as in QuorumPeerConfig,
  whether a file with no participant, or with exactly one, is a standalone server (valid,
  nothing to prove) and refuses observers next to a lone participant ("Observers w/o
  quorum").

Ids are compared after number parsing, as ZooKeeper does: ``group.1`` and ``group.01`` are
one group whose servers are merged but which ZooKeeper counts twice (a warning; the
verifier reproduces it), while ``server.1``/``server.01`` (or two such ``weight`` keys) are
refused: which line wins would depend on Java's hash order.

Everything else (tickTime, dataDir, ...) is ignored. The file syntax is Java Properties
(``#``/``!`` comments, ``key=value``, ``key: value`` or ``key value``, backslash
continuation). A file ZooKeeper would reject, or one whose quorum meaning is ambiguous,
raises :class:`InputError` with one line ``FILE:LINE: message`` naming the first problem
in file order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from zkcheck.errors import InputError
from zkcheck.model.quorum import QuorumHierarchical, QuorumMaj

PARTICIPANT, OBSERVER = "participant", "observer"
_INT = re.compile(r"[+-]?\d+")
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class Server:
    """One ``server.N`` line: its id, role and addresses (kept for display only)."""

    sid: int
    role: str
    line: int
    addresses: tuple[str, ...]
    client: str | None = None


@dataclass
class ZooConfig:
    """The quorum-relevant content of one configuration file."""

    name: str
    servers: dict[int, Server] = field(default_factory=dict)
    groups: dict[int, tuple[int, ...]] = field(default_factory=dict)
    group_lines: dict[int, int] = field(default_factory=dict)
    weights: dict[int, int] = field(default_factory=dict)  # explicit weight.N only
    weight_lines: dict[int, int] = field(default_factory=dict)
    version: int | None = None
    hierarchical: bool = False
    dynamic_file: str | None = None
    via: str | None = None  # the static file whose dynamicConfigFile pointed here
    warnings: list[str] = field(default_factory=list)
    standalone_enabled: bool = True
    group_keys: int = 0  # group.* keys in the file (ZooKeeper counts keys, not ids)

    @property
    def standalone(self) -> bool:
        """ZooKeeper runs this file as a standalone server: no participant, or exactly one
        with standaloneEnabled=true (the server.N line is then ignored)."""
        n = len(self.participants)
        return n == 0 or (n == 1 and self.standalone_enabled)

    @property
    def participants(self) -> list[int]:
        return sorted(s for s, srv in self.servers.items() if srv.role == PARTICIPANT)

    @property
    def observers(self) -> list[int]:
        return sorted(s for s, srv in self.servers.items() if srv.role == OBSERVER)

    def weight(self, sid: int) -> int:
        """Effective weight of a voter (1 unless ``weight.N`` says otherwise)."""
        if not self.hierarchical:
            return 1 if sid in self.participants else 0
        return self.weights.get(sid, 1) if sid in self.participants else 0

    def group_of(self) -> dict[int, int]:
        return {sid: gid for gid, members in self.groups.items() for sid in members}

    def verifier(self) -> QuorumMaj | QuorumHierarchical:
        """The verifier ZooKeeper builds for this file (QuorumPeerConfig.createQuorumVerifier)."""
        if not self.hierarchical:
            return QuorumMaj(self.participants)
        return QuorumHierarchical(self.groups, {s: self.weight(s) for s in self.participants},
                                  self.group_keys)


class _Errors:
    """Collects problems; the one earliest in the file is raised."""

    def __init__(self, name: str):
        self.name = name
        self.found: list[tuple[int, str]] = []

    def add(self, line: int, message: str) -> None:
        self.found.append((line, message))

    def raise_first(self) -> None:
        if self.found:
            line, message = min(self.found, key=lambda item: item[0])
            raise InputError(f"{self.name}:{line}: {message}")


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Java Properties lines: comments dropped, backslash continuations joined."""
    out: list[tuple[int, str]] = []
    pending: str | None = None
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        piece = raw.lstrip()
        if pending is None:
            if not piece or piece[0] in "#!":
                continue
            start = number
            pending = ""
        trailing = len(piece) - len(piece.rstrip("\\"))
        if trailing % 2 == 1:
            pending += piece[:-1]
            continue
        out.append((start, pending + piece))
        pending = None
    if pending is not None:
        out.append((start, pending))
    return out


def _split_key(line: str) -> tuple[str, str]:
    match = re.match(r"([^=:\s]*)\s*[=:]?\s*(.*)$", line)
    assert match is not None  # the pattern matches every string
    return match.group(1), match.group(2).strip()


def _number(text: str, what: str, *, signed: bool = False) -> int:
    text = text.strip()
    if not _INT.fullmatch(text) or (not signed and text[0] in "+-"):
        kind = "an integer" if signed else "a non-negative integer"
        raise ValueError(f"{what} '{text}' is not {kind}")
    value = int(text)
    if not _LONG_MIN <= value <= _LONG_MAX:
        raise ValueError(f"{what} '{text}' does not fit in a Java long")
    return value


def _host_and_rest(address: str) -> list[str]:
    """ConfigUtils.getHostAndPort: ``[v6]:a:b`` or ``host:a:b`` split on colons."""
    if address.startswith("["):
        end = address.find("]")
        if end < 0 or (end + 1 < len(address) and address[end + 1] != ":"):
            raise ValueError(f"bad IPv6 address '{address}'")
        rest = address[end + 2:]
        return [address[: end + 1]] + (rest.split(":") if rest else [])
    return address.split(":")


def _port(text: str) -> int:
    port = _number(text, "port")
    if port > 65535:
        raise ValueError(f"port {port} is out of range")
    return port


_SERVER_FORM = "host:port:port[:participant|:observer][;[clientaddr:]clientport]"


def _parse_server(sid: int, value: str, line: int) -> Server:
    parts = value.split(";")
    if len(parts) > 2 or not parts[0]:
        raise ValueError(f"'{value}' is not of the form {_SERVER_FORM}")
    client = None
    if len(parts) == 2:
        client_parts = _host_and_rest(parts[1].strip())
        if len(client_parts) > 2:
            raise ValueError(f"client address '{parts[1]}' is not [host:]port")
        _port(client_parts[-1])
        client = parts[1].strip()
    role: str | None = None
    addresses = []
    for address in parts[0].strip().split("|"):
        pieces = _host_and_rest(address.strip())
        if not 3 <= len(pieces) <= 4 or not pieces[0]:
            raise ValueError(f"'{value}' is not of the form {_SERVER_FORM}")
        quorum_port, election_port = _port(pieces[1]), _port(pieces[2])
        if quorum_port == election_port:
            raise ValueError(f"quorum port and election port are both {quorum_port}")
        this_role = PARTICIPANT
        if len(pieces) == 4:
            this_role = pieces[3].strip().lower()
            if this_role not in (PARTICIPANT, OBSERVER):
                raise ValueError(f"unknown role '{pieces[3]}' (participant or observer)")
        if role is not None and role != this_role:
            raise ValueError("the addresses of one server must have the same role")
        role = this_role
        addresses.append(f"{pieces[0]}:{quorum_port}:{election_port}")
    return Server(sid, role or PARTICIPANT, line, tuple(addresses), client)


def _key_id(key: str, prefix: str) -> int:
    if not key.startswith(prefix + "."):
        raise ValueError(f"expected {prefix}.<number>")
    return _number(key[len(prefix) + 1:], f"{prefix} id")


def parse_zoocfg(text: str, name: str, *, base_dir: Path | None = None,
                 dynamic: bool = False, standalone_enabled: bool = True) -> ZooConfig:
    """Parse configuration text; ``name`` is what error lines call the file (a dynamic file
    takes ``standaloneEnabled`` from its static file)."""
    cfg = ZooConfig(name, standalone_enabled=standalone_enabled)
    ids: dict[tuple[str, int], tuple[str, int]] = {}  # (kind, parsed id) -> (key, line)
    errors = _Errors(name)
    seen: dict[str, int] = {}
    group_keys: list[tuple[int, int, str]] = []  # (line, gid, value)
    weight_keys: list[tuple[int, int, str]] = []
    quorum_key_lines: list[tuple[int, str]] = []
    dynamic_line = 0
    last_line = max(1, len(text.splitlines()))
    for line, content in _logical_lines(text):
        key, value = _split_key(content)
        if not (key.startswith(("server.", "group", "weight")) or key == "version"):
            if dynamic:
                errors.add(line, f"unrecognised parameter '{key}' in a dynamic config file")
            elif key == "dynamicConfigFile":
                cfg.dynamic_file, dynamic_line = value, line
            elif key == "standaloneEnabled":
                if value.lower() not in ("true", "false"):
                    errors.add(line, f"standaloneEnabled: '{value}' is not true or false")
                cfg.standalone_enabled = value.lower() != "false"
            elif key == "oraclePath":
                cfg.warnings.append(f"{name}:{line}: oraclePath (QuorumOracleMaj) is not "
                                    "modelled; quorums are checked as plain majority")
            continue
        if key in seen:
            errors.add(line, f"duplicate {key} (first defined at line {seen[key]})")
            continue
        seen[key] = line
        try:
            if key == "version":
                if not re.fullmatch(r"[0-9a-fA-F]+", value):
                    raise ValueError(f"'{value}' is not a hexadecimal number")
                cfg.version = int(value, 16)
                continue
            quorum_key_lines.append((line, key))
            if key.startswith("server."):
                sid = _number(key[len("server."):], "server id")
                _same_id(ids, "server", sid, key, line)
                cfg.servers[sid] = _parse_server(sid, value, line)
            elif key.startswith("group"):
                cfg.hierarchical = True
                group_keys.append((line, _key_id(key, "group"), value))
                cfg.group_keys += 1
            else:
                cfg.hierarchical = True
                sid = _key_id(key, "weight")
                _same_id(ids, "weight", sid, key, line)
                weight_keys.append((line, sid, value))
        except ValueError as exc:
            errors.add(line, f"{key}: {exc}")
    errors.raise_first()

    if cfg.dynamic_file is not None:
        if quorum_key_lines:
            line, key = quorum_key_lines[0]
            errors.add(line, f"{key} must be in the dynamic config file when "
                             f"dynamicConfigFile is set (line {dynamic_line})")
            errors.raise_first()
        return _follow_dynamic(cfg.dynamic_file, name, dynamic_line, base_dir,
                               cfg.standalone_enabled)

    _check_weights(cfg, weight_keys, errors)
    _check_groups(cfg, group_keys, errors)
    errors.raise_first()
    if cfg.hierarchical:
        for sid in cfg.participants:
            if sid not in cfg.group_of():
                errors.add(cfg.servers[sid].line, f"server.{sid} is a participant in no group "
                           "(hierarchical quorums need every participant in a group)")
    errors.raise_first()
    _check_nonempty(cfg, errors, last_line)
    errors.raise_first()
    return cfg


def _same_id(ids: dict, kind: str, number: int, key: str, line: int) -> None:
    """Two keys naming the same id after number parsing (server.1, server.01)."""
    if (kind, number) in ids:
        other, other_line = ids[(kind, number)]
        raise ValueError(f"same {kind} id {number} as {other} (line {other_line}) after number "
                         "parsing; which one ZooKeeper keeps depends on hash order")
    ids[(kind, number)] = (key, line)


def _check_weights(cfg: ZooConfig, keys: list[tuple[int, int, str]], errors: _Errors) -> None:
    for line, sid, value in keys:
        try:
            weight = _number(value, "weight", signed=True)
        except ValueError as exc:
            errors.add(line, f"weight.{sid}: {exc}")
            continue
        if sid not in cfg.servers:
            errors.add(line, f"weight.{sid} names unknown server {sid}")
            continue
        cfg.weights[sid], cfg.weight_lines[sid] = weight, line
        if cfg.servers[sid].role == OBSERVER:
            cfg.warnings.append(f"{cfg.name}:{line}: weight.{sid} is ignored: "
                                f"server {sid} is an observer")
        elif weight < 0:
            cfg.warnings.append(
                f"{cfg.name}:{line}: weight.{sid}={weight} is negative; ZooKeeper accepts it, "
                "but quorums are then not monotone and may not intersect")


def _check_groups(cfg: ZooConfig, keys: list[tuple[int, int, str]], errors: _Errors) -> None:
    owner: dict[int, tuple[int, int]] = {}
    for line, gid, value in sorted(keys):
        if gid in cfg.group_lines:
            cfg.warnings.append(
                f"{cfg.name}:{line}: this group key and the one at line {cfg.group_lines[gid]} "
                f"are both group {gid} after number parsing: ZooKeeper merges their servers "
                "into one group but counts the group twice, so a quorum needs more majority "
                "groups than there are")
        members: list[int] = []
        try:
            for text in value.split(":"):
                members.append(_number(text, "server id"))
        except ValueError as exc:
            errors.add(line, f"group.{gid}: {exc}")
            continue
        for sid in members:
            if sid not in cfg.servers:
                errors.add(line, f"group.{gid} names unknown server {sid}")
            elif cfg.servers[sid].role == OBSERVER:
                errors.add(line, f"group.{gid} names server {sid}, an observer "
                                 "(observers cannot be in a group)")
            elif sid in owner:
                other_gid, other_line = owner[sid]
                where = "twice" if other_gid == gid else \
                    f"already in group.{other_gid} (line {other_line})"
                errors.add(line, f"group.{gid}: server {sid} is {where}")
            else:
                owner[sid] = (gid, line)
        cfg.groups[gid] = tuple(sorted(set(members) | set(cfg.groups.get(gid, ()))))
        cfg.group_lines.setdefault(gid, line)


def _check_nonempty(cfg: ZooConfig, errors: _Errors, last_line: int) -> None:
    """QuorumPeerConfig's rules on the number of participants and observers."""
    voters, observers = len(cfg.participants), len(cfg.observers)
    if voters == 0 and not cfg.standalone_enabled:
        errors.add(last_line, "standaloneEnabled=false needs at least one participant")
    elif voters == 0 and observers:
        errors.add(last_line, "Observers w/o participants is an invalid configuration")
    elif voters == 1 and cfg.standalone_enabled and observers:
        errors.add(last_line, "Observers w/o quorum is an invalid configuration (one "
                              "participant with standaloneEnabled=true, the default)")


def _follow_dynamic(target: str, name: str, line: int, base_dir: Path | None,
                    standalone_enabled: bool) -> ZooConfig:
    candidates = [Path(target)]
    if base_dir is not None and not Path(target).is_absolute():
        candidates.append(base_dir / target)
    for path in candidates:
        if path.is_file():
            loaded = load_zoocfg(path, dynamic=True, standalone_enabled=standalone_enabled)
            loaded.via = name
            return loaded
    raise InputError(f"{name}:{line}: dynamicConfigFile {target} not found")


def load_zoocfg(path: str | Path, *, dynamic: bool = False,
                standalone_enabled: bool = True) -> ZooConfig:
    """Read and check one configuration file (see the module docstring)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return parse_zoocfg(text, str(path), base_dir=path.parent, dynamic=dynamic,
                        standalone_enabled=standalone_enabled)
