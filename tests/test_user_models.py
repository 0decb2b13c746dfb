"""Your own models and properties: --model FILE.py:Class / module:Class, the state
constraint with TLC's semantics, "generated" with initial states, spec [properties]."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zkcheck.api import build_model
from zkcheck.cli import main
from zkcheck.errors import InputError
from zkcheck.explorer import Bounds, Search
from zkcheck.explorer.model import encode_tuple, invariant
from zkcheck.explorer.parallel import ParallelSearch

ROOT = Path(__file__).resolve().parent.parent
DIEHARD = str(ROOT / "examples" / "diehard.py")
KINDS = ["BigToSmall", "EmptyBig", "EmptySmall", "FillBig", "FillSmall", "SmallToBig"]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_diehard_from_a_file_matches_tlc(capsys) -> None:
    """TLC on DieHard.tla: 97 states generated, 16 distinct (initial state included)."""
    code, out, _ = run(capsys, "explore", "--model", f"{DIEHARD}:DieHard", "--json")
    assert code == 1
    data = json.loads(out)
    assert data["stats"]["distinct_states"] == 16
    assert data["stats"]["generated_states"] == 97
    verdicts = {v["property"]: v for v in data["verdicts"]}
    assert verdicts["BigNotFour"]["status"] == "violated"
    assert verdicts["BigNotFour"]["trace"]["length"] == 6
    assert verdicts["TypeOK"]["status"] == "holds"
    coverage = data["coverage"]
    assert coverage["transitions_per_action_kind"] == {k: 16 for k in KINDS}
    assert coverage["never_fired"] == []


def test_model_from_a_module_on_the_path(capsys, monkeypatch, tmp_path) -> None:
    (tmp_path / "team_models.py").write_text(
        "from zkcheck.explorer.model import encode_tuple, invariant\n"
        "class Counter:\n"
        "    name = 'counter3'\n"
        "    def initial_states(self):\n        return [(0,)]\n"
        "    def actions(self, s):\n        return [('inc', (s[0] + 1,))] if s[0] < 3 else []\n"
        "    encode = staticmethod(encode_tuple)\n"
        "    def properties(self):\n"
        "        return [invariant('Small', lambda s: s[0] < 3, 'stays below 3')]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, _ = run(capsys, "explore", "--model", "team_models:Counter", "--no-progress")
    assert code == 1
    assert "statistics: 4 distinct states, 4 generated" in out
    assert "Small" in out and "violated at depth 3" in out


def test_bad_user_models_exit_2(capsys, tmp_path) -> None:
    missing = run(capsys, "explore", "--model", f"{tmp_path}/nope.py:X")
    assert missing[0] == 2 and "no such Python file" in missing[2]
    (tmp_path / "half.py").write_text("class Half:\n    name = 'half'\n")
    half = run(capsys, "explore", "--model", f"{tmp_path}/half.py:Half")
    assert half[0] == 2 and "is not a zkcheck Model" in half[2]
    absent = run(capsys, "explore", "--model", f"{DIEHARD}:Nothing")
    assert absent[0] == 2 and "defines no 'Nothing'" in absent[2]
    (tmp_path / "boom.py").write_text("raise RuntimeError('bad import')\n")
    boom = run(capsys, "explore", "--model", f"{tmp_path}/boom.py:X")
    assert boom[0] == 2 and "RuntimeError: bad import" in boom[2]


def test_constraint_prunes_with_tlc_semantics() -> None:
    """Pumps: successors beyond the meter limit are generated, not stored; the counts are
    the same for single-process BFS, DFS and the partitioned search with any workers."""
    model = build_model(f"{DIEHARD}:Pumps")
    bfs = Search(model).run()
    assert (bfs.stats.distinct, bfs.stats.generated) == (22, 133)
    assert bfs.verdicts["BigNotFour"].status == "holds"
    dfs = Search(model, search="dfs").run()
    assert (dfs.stats.distinct, dfs.stats.generated) == (22, 133)
    for workers, backend in ((1, "in-process"), (2, "processes"), (3, "processes")):
        par = ParallelSearch(model, workers=workers, backend=backend).run()
        assert (par.stats.distinct, par.stats.generated) == (22, 133), workers
        assert par.extra["coverage"] == bfs.extra["coverage"]


class Line:
    """0 -> 1 -> 2 -> 3 -> 4 (a deadlock at 4); constraint: x <= 2."""

    name = "line"
    encode = staticmethod(encode_tuple)

    def initial_states(self):
        return [(0,), (9,)]  # (9,) lies outside the constraint: generated, not stored

    def actions(self, s):
        return [("step", (s[0] + 1,))] if s[0] < 4 else []

    def properties(self):
        return [invariant("NotThree", lambda s: s[0] != 3, "never 3")]

    def constraint(self, s):
        return s[0] <= 2


@pytest.mark.parametrize("search", ["bfs", "dfs"])
def test_a_successor_outside_is_no_deadlock(search: str) -> None:
    result = Search(Line(), search=search, check_deadlock=True).run()
    assert result.stats.distinct == 3  # 0, 1, 2
    assert result.stats.generated == 5  # 2 initial states + 3 transitions
    assert result.stats.deadlocks == 0  # 2's successor 3 is outside, 2 is not stuck
    assert result.verdicts["NotThree"].status == "holds"
    bounded = Search(Line(), search=search, bounds=Bounds(max_depth=2)).run()
    assert bounded.complete  # nothing inside the constraint lies beyond depth 2


def test_spec_with_own_model_and_property_functions(capsys, tmp_path) -> None:
    (tmp_path / "team_checks.py").write_text(
        "def small_never_two(state):\n    '''The small jug never holds 2 gallons.'''\n"
        "    return state[1] != 2\n\n"
        "def big_one(state):\n    return state[0] == 1\n")
    (tmp_path / "diehard.toml").write_text(
        f'model = "{DIEHARD}:DieHard"\n'
        '[properties]\nfile = "team_checks.py"\n'
        'invariants = ["small_never_two"]\nwitnesses = ["big_one"]\n'
        '[expect]\ndistinct_states = 16\n[expect.verdicts]\n'
        'small_never_two = { status = "violated", length = 4 }\n'
        'big_one = { status = "witness found", length = 6 }\n'
        'TypeOK = "holds"\n')
    code, out, _ = run(capsys, "check", str(tmp_path))
    assert code == 0, out
    assert "1 passed, 0 failed" in out
    (tmp_path / "diehard.toml").write_text(
        f'model = "{DIEHARD}:DieHard"\n[properties]\nfile = "team_checks.py"\n'
        'invariants = ["absent"]\n[expect.verdicts]\nabsent = "holds"\n')
    code, _, err = run(capsys, "check", str(tmp_path))
    assert code == 2 and "defines no function 'absent'" in err


def test_extended_model_refuses_a_clash() -> None:
    from zkcheck.user_model import extended_model

    model = build_model(f"{DIEHARD}:DieHard")
    with pytest.raises(InputError, match="already one of the model's"):
        extended_model(model, [invariant("TypeOK", bool)], "here")
