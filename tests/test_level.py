"""A breadth-first level (``explorer/frontier.py``): every block packed, kept in memory up to
the budget, spilled beyond it; reading, giving away and saving return exactly what was
appended, wherever the blocks were."""

from __future__ import annotations

import marshal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkcheck.explorer.frontier import BLOCK, Level, decompress, marshal_pack


def state(i: int) -> tuple:
    return (i, ("server", i % 7, (i % 3, None)), ((), (i,)))


def batch(start: int, n: int) -> tuple[np.ndarray, list]:
    return np.arange(start, start + n, dtype=np.uint64), [state(i) for i in range(start, start + n)]


def level(tmp_path, budget: int, spill: bool = True) -> Level:
    return Level(tmp_path / "level.bin" if spill else None, marshal_pack, marshal.loads, budget)


def read_all(lv: Level) -> tuple[list[int], list]:
    fps, states = [], []
    while (block := lv.next_block()) is not None:
        fps += block[0].tolist()
        states += block[1]
    return fps, states


@pytest.mark.parametrize(("budget", "spill", "on_disk"), [
    (0, True, 3 * BLOCK), (BLOCK, True, 2 * BLOCK), (10 * BLOCK, True, 0),
    (0, False, 0)])  # without a spill file every packed block stays in memory
def test_blocks_are_packed_and_spilled_beyond_the_budget(tmp_path, budget, spill, on_disk
                                                         ) -> None:
    lv = level(tmp_path, budget, spill)
    fps, states = batch(0, 3 * BLOCK + 100)
    lv.append(fps, states)
    assert lv.packed_states == 3 * BLOCK  # the last 100 wait for a whole block
    assert lv.spilled_states == on_disk
    assert lv.in_memory == 3 * BLOCK - on_disk
    assert 0 < lv.spilled_bytes <= lv.packed_bytes if on_disk else lv.spilled_bytes == 0
    assert lv.unread == lv.count == len(fps)
    assert read_all(lv) == (fps.tolist(), states)
    assert lv.unread == 0 and lv.in_memory == 0
    assert lv.packed_states == 3 * BLOCK  # the partial block was read as it was
    lv.close()
    assert not (tmp_path / "level.bin").exists()


def test_reading_continues_with_what_is_appended_while_reading(tmp_path) -> None:
    # partial-order reduction appends to the level being read
    lv = level(tmp_path, BLOCK)
    lv.append(*batch(0, 2 * BLOCK))
    first = lv.next_block()
    lv.append(*batch(10_000, 30))
    fps, states = read_all(lv)
    assert first[0].tolist() + fps == list(range(2 * BLOCK)) + list(range(10_000, 10_030))
    assert states[-1] == state(10_029)


def test_blocks_given_away_travel_packed(tmp_path) -> None:
    giver = level(tmp_path, BLOCK)
    taker = Level(tmp_path / "taker.bin", marshal_pack, marshal.loads, 0)
    fps, states = batch(0, 2 * BLOCK + 5)
    giver.append(fps, states)
    moved = 0
    while giver.unread > BLOCK:
        got_fps, packed = giver.take_last()
        assert isinstance(packed, bytes)
        taker.append_packed(got_fps, packed)
        moved += len(got_fps)
    assert moved == BLOCK + 5 and taker.unread == moved and giver.unread == BLOCK
    assert taker.spilled_states == moved  # a budget of 0: straight to the spill file
    back = list(zip(*read_all(giver), strict=True)) + list(zip(*read_all(taker), strict=True))
    assert sorted(back) == sorted(zip(fps.tolist(), states, strict=True))
    assert giver.in_memory == 0


def test_a_saved_level_restores_whole_or_in_part(tmp_path) -> None:
    lv = level(tmp_path, BLOCK)
    fps, states = batch(0, 3 * BLOCK + 7)
    lv.append(fps, states)
    lv.next_block()  # read blocks are not saved
    lv.save(tmp_path / "saved.bin")
    whole = Level(tmp_path / "whole.bin", marshal_pack, marshal.loads, BLOCK)
    whole.restore(tmp_path / "saved.bin", None)
    assert read_all(whole) == (fps[BLOCK:].tolist(), states[BLOCK:])
    even = Level(None, marshal_pack, marshal.loads, BLOCK)
    even.restore(tmp_path / "saved.bin", lambda f: f % np.uint64(2) == 0)
    assert read_all(even)[0] == [i for i in range(BLOCK, len(fps)) if i % 2 == 0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.tuples(st.just("append"), st.integers(1, 2500)),
                          st.tuples(st.just("read"), st.just(0)),
                          st.tuples(st.just("give"), st.just(0))), max_size=12),
       st.sampled_from([0, 1, BLOCK, 3 * BLOCK, 10**6]))
def test_every_state_appended_is_read_or_given_exactly_once(tmp_path_factory, ops, budget
                                                            ) -> None:
    tmp = tmp_path_factory.mktemp("lv")
    lv = Level(tmp / "l.bin", marshal_pack, marshal.loads, budget)
    appended, out, nxt = {}, {}, 0
    for op, n in ops:
        if op == "append":
            fps, states = batch(nxt, n)
            lv.append(fps, states)
            appended.update(zip(fps.tolist(), states, strict=True))
            nxt += n
        elif op == "read" and (block := lv.next_block()) is not None:
            out.update(zip(block[0].tolist(), block[1], strict=True))
        elif op == "give" and lv.unread:
            fps, packed = lv.take_last()
            out.update(zip(fps.tolist(), marshal.loads(decompress(packed)), strict=True))
        assert lv.unread == len(appended) - len(out)
    fps, states = read_all(lv)
    assert not set(fps) & set(out)
    out.update(zip(fps, states, strict=True))
    assert out == appended
    assert lv.in_memory == 0 and lv.unread == 0
    lv.close()
