"""Configuration validation and the FLE command-line options: one clear line per error."""

from __future__ import annotations

import pytest

from zkcheck.cli import main
from zkcheck.errors import InputError
from zkcheck.fle_options import build_config, build_fle_model
from zkcheck.model.config import Bounds, ModelConfig, ServerInit
from zkcheck.model.variants import Variant


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"servers": [1, 1, 2]}, "duplicate server id 1"),
    ({"servers": []}, "at least one server"),
    ({"servers": [1, 2], "observers": [1, 2]}, "at least one voter"),
    ({"observers": [7]}, "observer 7 is not one of the servers"),
    ({"late": [0]}, "late starter 0 is not one of the servers"),
    ({"initial": {2: ServerInit(2, 1, (0, 0))}}, "acceptedEpoch 1 < currentEpoch 2"),
    ({"initial": {2: ServerInit(1, 1, (2, 0))}}, "lastZxid epoch 2 > currentEpoch 1"),
    ({"initial": {9: ServerInit()}}, "initial state of server 9 is not one of the servers"),
    ({"timeouts": -1}, "bound timeouts must be an integer >= 0"),
    ({"max_round": 0}, "max-round must be in 1.."),
    ({"wire_capacity": 0}, "wire-capacity must be >= 1"),
    ({"crashes": -2}, "fault budget crashes must be an integer >= 0"),
    ({"scenario": "boot"}, "unknown scenario 'boot'"),
    ({"speed": 3}, "unknown configuration field 'speed'"),
])
def test_config_validation_errors(kwargs, message):
    servers = kwargs.pop("servers", 3)
    with pytest.raises(InputError) as info:
        ModelConfig.make(servers, **kwargs)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_config_defaults():
    config = ModelConfig.make(3)
    assert config.servers == (1, 2, 3) and config.voters == (1, 2, 3)
    assert config.bounds == Bounds(max_round=2, timeouts=0, wire_capacity=1, client_writes=0)
    assert config.variant == Variant() and config.variant.name == "3.8"


def test_leader_crash_needs_an_established_quorum():
    with pytest.raises(InputError, match="currentEpoch >= 1"):
        build_fle_model(scenario="leader-crash", epoch=("1=0", "2=0", "3=0"))
    with pytest.raises(InputError, match="not a quorum"):
        build_fle_model(scenario="leader-crash", epoch=("1=1", "2=2", "3=3"))


@pytest.mark.parametrize(("options", "message"), [
    ({"zxid": ("2:1:1",)}, "expected SID=VALUE"),
    ({"zxid": ("2=1",)}, "expected EPOCH:COUNTER"),
    ({"zxid": ("x=1:1",)}, "not a server id"),
    ({"zxid": ("2=a:1",)}, "must be integers"),
    ({"zxid": ("2=1:1", "2=1:2")}, "given twice for server 2"),
    ({"epoch": ("2=1:2:3",)}, "expected CUR or CUR:ACC"),
    ({"epoch": ("5=1",)}, "server 5 in --zxid/--epoch is not one of the servers 1..3"),
    ({"servers": 0}, "--servers must be >= 1"),
    ({"servers": 12}, "too many"),
    ({"observers": 3}, "--observers must be between 0 and 2"),
    ({"variant_flags": ("no_such_flag",)}, "unknown variant flag 'no_such_flag'"),
    ({"max_round": -1}, "max-round"),
    ({"frobnicate": 1}, "unknown FLE option 'frobnicate'"),
])
def test_option_errors(options, message):
    with pytest.raises(InputError) as info:
        build_fle_model(**options)
    assert message in str(info.value)


def test_options_build_the_configuration():
    config = build_config(servers=4, zxid=("2=1:5",), epoch=("2=2:3", "3=1"), late=(4,),
                          observers=1, crashes=1, variant_flags=("vote_order_1419",))
    assert config.servers == (1, 2, 3, 4) and config.observers == {4}
    assert config.init_of(2) == ServerInit(2, 3, (1, 5))
    assert config.init_of(3) == ServerInit(1, 1, (0, 0))
    assert config.late == {4} and config.faults.crashes == 1
    assert config.variant.vote_order_1419
    leader_crash = build_config(scenario="leader-crash")
    assert leader_crash.init_of(1) == ServerInit(1, 1, (0, 0))


def test_cli_reports_bad_input_as_one_line(capsys):
    assert main(["explore", "--servers", "3", "--epoch", "2=1:0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "zkcheck: error: server 2: acceptedEpoch 0 < currentEpoch 1 " \
                  "(ZooKeeper refuses to start)"
