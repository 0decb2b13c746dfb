"""zoo.cfg parsing: the forms ZooKeeper accepts, and one exact error line per bad file."""

from __future__ import annotations

from pathlib import Path

import pytest

from zkcheck.errors import InputError
from zkcheck.model.quorum import QuorumHierarchical, QuorumMaj
from zkcheck.model.zoocfg import OBSERVER, PARTICIPANT, load_zoocfg, parse_zoocfg

DATA = Path(__file__).parent / "data" / "zoocfg"


def test_static_majority_with_properties_syntax_and_observers():
    cfg = load_zoocfg(DATA / "observers.cfg")
    assert cfg.participants == [1, 2, 3, 4] and cfg.observers == [5, 6]
    assert not cfg.hierarchical and isinstance(cfg.verifier(), QuorumMaj)
    assert cfg.servers[4].line == 6 and cfg.servers[4].addresses == ("zoo4:2888:3888",)
    assert cfg.servers[6].role == OBSERVER and cfg.servers[6].client == "2181"


def test_hierarchical_admin_guide_example():
    cfg = load_zoocfg(DATA / "hier_3x3.cfg")
    verifier = cfg.verifier()
    assert isinstance(verifier, QuorumHierarchical)
    assert verifier.groups == {1: (1, 2, 3), 2: (4, 5, 6), 3: (7, 8, 9)}
    assert all(verifier.weight(s) == 1 for s in range(1, 10))
    assert cfg.group_lines == {1: 17, 2: 18, 3: 19}


def test_zero_weights_and_sid_zero():
    verifier = load_zoocfg(DATA / "hier_zero_weight.cfg").verifier()
    assert verifier.voters == frozenset(range(9)) and verifier.weight(0) == 1
    assert verifier.weight(3) == 0 and verifier.counted_groups == 1


def test_dynamic_file_directly_and_through_dynamic_config_file():
    direct = load_zoocfg(DATA / "dynamic.cfg.dynamic.100000000")
    assert direct.version == 0x100000000 and direct.via is None
    assert direct.participants == [1, 2, 3] and direct.observers == [4]
    assert direct.servers[3].addresses == ("[::1]:2890:3890",)
    followed = load_zoocfg(DATA / "with_dynamic.cfg")
    assert followed.participants == [1, 2, 3] and followed.via.endswith("with_dynamic.cfg")


def test_multi_address_and_role_case():
    cfg = parse_zoocfg("server.1=a:1:2|b:1:2:Participant;c:2181\nserver.2=x:1:2\n", "z.cfg")
    assert cfg.servers[1].addresses == ("a:1:2", "b:1:2")
    assert cfg.servers[1].role == PARTICIPANT and cfg.servers[1].client == "c:2181"


def test_negative_and_observer_weights_are_warnings_not_errors():
    text = ("server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2:observer\n"
            "group.1=1:2\nweight.1=3\nweight.2=-1\nweight.3=5\n")
    cfg = parse_zoocfg(text, "z.cfg")
    assert cfg.weight(2) == -1 and cfg.weight(3) == 0
    assert cfg.warnings == [
        "z.cfg:6: weight.2=-1 is negative; ZooKeeper accepts it, but quorums are then not "
        "monotone and may not intersect",
        "z.cfg:7: weight.3 is ignored: server 3 is an observer",
    ]


BAD = {
    "dup_server": "4: duplicate server.2 (first defined at line 3)",
    "weight_unknown": "7: weight.9 names unknown server 9",
    "group_unknown": "4: group.2 names unknown server 7",
    "two_groups": "5: group.2: server 2 is already in group.1 (line 4)",
    "observer_in_group": "4: group.1 names server 3, an observer (observers cannot be in a "
                         "group)",
    "syntax_server": "2: server.1: 'a:2888' is not of the form host:port:port"
                     "[:participant|:observer][;[clientaddr:]clientport]",
    "bad_role": "1: server.1: unknown role 'leader' (participant or observer)",
    "id_not_number": "2: server.x: server id 'x' is not a non-negative integer",
    "negative_id": "1: server.-1: server id '-1' is not a non-negative integer",
    "weight_not_number": "3: weight.1: weight 'heavy' is not an integer",
    "group_member_not_number": "3: group.1: server id 'two' is not a non-negative integer",
    "no_group": "3: server.3 is a participant in no group (hierarchical quorums need every "
                "participant in a group)",
    "only_observers": "2: Observers w/o participants is an invalid configuration",
    "observers_without_quorum": "2: Observers w/o quorum is an invalid configuration (one "
                                "participant with standaloneEnabled=true, the default)",
    "server_id_twice": "2: server.01: same server id 1 as server.1 (line 1) after number "
                       "parsing; which one ZooKeeper keeps depends on hash order",
    "standalone_value": "1: standaloneEnabled: 'yes' is not true or false",
    "standalone_disabled_no_voters": "1: standaloneEnabled=false needs at least one "
                                     "participant",
    "same_ports": "1: server.1: quorum port and election port are both 2888",
    "dup_group": "4: duplicate group.1 (first defined at line 3)",
    "version": "2: version: 'xyz' is not a hexadecimal number",
    "dynamic_mixed": "2: server.1 must be in the dynamic config file when dynamicConfigFile "
                     "is set (line 1)",
    "dynamic_missing": "2: dynamicConfigFile /nonexistent/zoo.cfg.dynamic not found",
    "group_key": "2: groups: expected group.<number>",
    "port_range": "1: server.1: port 99999 is out of range",
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_file_gives_one_exact_line(name):
    path = DATA / f"bad_{name}.cfg"
    with pytest.raises(InputError) as info:
        load_zoocfg(path)
    assert str(info.value) == f"{path}:{BAD[name]}"
    assert "\n" not in str(info.value)


def test_every_bad_fixture_is_covered():
    assert {p.stem[len("bad_"):] for p in DATA.glob("bad_*.cfg")} == set(BAD)


def test_first_problem_in_file_order_wins():
    text = "server.1=a:1:2\nweight.7=1\ngroup.1=1:8\n"
    with pytest.raises(InputError, match=r"^z\.cfg:2: weight\.7 names unknown server 7$"):
        parse_zoocfg(text, "z.cfg")


def test_server_listed_twice_in_one_group():
    with pytest.raises(InputError, match=r"^z\.cfg:2: group\.1: server 1 is twice$"):
        parse_zoocfg("server.1=a:1:2\ngroup.1=1:1\n", "z.cfg")


def test_unknown_keys_are_ignored_but_not_in_a_dynamic_file():
    text = "tickTime=2000\nserver.1=a:1:2\n"
    assert parse_zoocfg(text, "z.cfg").participants == [1]
    with pytest.raises(InputError, match=r"^z\.cfg:1: unrecognised parameter 'tickTime'"):
        parse_zoocfg(text, "z.cfg", dynamic=True)


def test_missing_file():
    with pytest.raises(InputError, match=r"nope\.cfg: cannot read"):
        load_zoocfg(DATA / "nope.cfg")


def test_oracle_path_is_a_warning():
    cfg = parse_zoocfg("oraclePath=/tmp/oracle\nserver.1=a:1:2\nserver.2=b:1:2\n", "z.cfg")
    assert cfg.warnings == ["z.cfg:1: oraclePath (QuorumOracleMaj) is not modelled; quorums "
                            "are checked as plain majority"]


@pytest.mark.parametrize("name, standalone, voters", [
    ("debian_standalone", True, []), ("standalone_no_servers", True, []),
    ("single_voter_not_standalone", False, [1]), ("maj3", False, [1, 2, 3])])
def test_standalone_as_quorum_peer_config_decides(name, standalone, voters):
    cfg = load_zoocfg(DATA / f"{name}.cfg")
    assert cfg.standalone == standalone and cfg.participants == voters
    lone = parse_zoocfg("server.1=a:1:2\n", "z.cfg")
    assert lone.standalone and lone.standalone_enabled


def test_group_ids_compared_after_number_parsing():
    cfg = load_zoocfg(DATA / "hier_group_id_twice.cfg")
    verifier = cfg.verifier()
    assert cfg.groups == {1: (1, 2, 3, 4)} and cfg.group_keys == 2
    assert verifier.counted_groups == 2
    assert not any(verifier.is_quorum(s) for s in ({1, 2, 3}, {1, 2, 3, 4}))
    assert "are both group 1 after number parsing" in cfg.warnings[0]


def test_all_zero_weights_are_accepted_like_zookeeper():
    verifier = load_zoocfg(DATA / "hier_all_zero_weight.cfg").verifier()
    assert verifier.counted_groups == 0 and not verifier.is_quorum({1, 2})
