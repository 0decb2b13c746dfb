"""The smallest link of a fingerprint: which parent a state's trace goes through, the same
for every worker count. ``LinkStore.offer`` keeps it within a batch, and ``Shard._ask``
sends only it to another owner."""

from __future__ import annotations

import marshal

import numpy as np
from fle_testlib import model
from hypothesis import given
from hypothesis import strategies as st

from zkcheck.explorer.linkstore import LinkStore, smallest_links
from zkcheck.explorer.shard import Shard, ShardPlan

links = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3), st.integers(0, 3)),
                 min_size=1, max_size=40)


def arrays(batch: list[tuple[int, int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    fps, parents, pos = zip(*batch, strict=True)
    return (np.array(fps, dtype=np.uint64), np.array(parents, dtype=np.uint64),
            np.array(pos, dtype=np.int64))


# full-width fingerprints and parents, positions up to uint16's end (the sort compares a
# parent's rank and its position as one integer)
wide = st.lists(st.tuples(st.sampled_from([0, 1, 2**63, 2**64 - 2, 2**64 - 1]),
                          st.sampled_from([0, 7, 2**63 - 1, 2**63, 2**64 - 1]),
                          st.sampled_from([0, 1, 255, 256, 65_534, 65_535])),
                min_size=1, max_size=60)


@given(st.one_of(links, wide))
def test_smallest_links_is_the_first_smallest_per_fingerprint(batch) -> None:
    expected: dict[int, int] = {}
    for i, (fp, parent, pos) in enumerate(batch):
        best = expected.get(fp)
        if best is None or (parent, pos) < batch[best][1:]:
            expected[fp] = i
    fps, parents, pos = arrays(batch)
    assert smallest_links(fps, parents, pos).tolist() == sorted(expected.values())
    assert smallest_links(fps, parents, pos, by_fingerprint=True).tolist() == [
        expected[fp] for fp in sorted(expected)]


@given(st.one_of(links, wide))
def test_a_deduplicated_batch_stores_the_same_links(batch) -> None:
    # what the owner keeps from the whole batch and from the batch ``_ask`` sends
    whole, sent = LinkStore(), LinkStore()
    fps, parents, pos = arrays(batch)
    whole.offer(fps, parents, pos, 1)
    best = smallest_links(fps, parents, pos)
    sent.offer(fps[best], parents[best], pos[best], 1)
    assert [whole.link(int(fp)) for fp in set(fps.tolist())] == [
        sent.link(int(fp)) for fp in set(fps.tolist())]


def test_ask_sends_each_fingerprint_once_with_its_smallest_link() -> None:
    shard = Shard(model(3), 0, ShardPlan(2, ()))
    fps = np.array([5, 7, 5, 9, 7, 3], dtype=np.uint64)
    parents = np.array([3, 1, 2, 1, 1, 8], dtype=np.uint64)
    pos = np.array([0, 0, 4, 1, 0, 0], dtype=np.int64)
    states = ["a", "b", "c", "d", "e", "f"]
    index = np.arange(6)
    probe = np.array([4, 2, 4], dtype=np.uint64)
    data = shard._ask({"next": (fps, parents, pos, states, index),
                       "probe": (probe, None, None, None, None)}, chunk=1)
    sender, batch, wire = marshal.loads(data)
    assert (sender, batch) == (0, 1)
    assert np.frombuffer(wire["next"][0], dtype=np.uint64).tolist() == [7, 5, 9, 3]
    assert np.frombuffer(wire["next"][1], dtype=np.uint64).tolist() == [1, 2, 1, 8]
    assert np.frombuffer(wire["next"][2], dtype=np.uint16).tolist() == [0, 4, 1, 0]
    assert np.frombuffer(wire["probe"][0], dtype=np.uint64).tolist() == [2, 4]
    chunk, waiting = shard.waiting[1]
    kept_fps, kept_states, kept_index = waiting["next"]
    assert chunk == 1
    assert kept_states == ["b", "c", "d", "f"]
    assert kept_index.tolist() == [1, 2, 3, 5]
    assert kept_fps.tolist() == [7, 5, 9, 3]
