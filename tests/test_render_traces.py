"""Readable traces on real FLE and toy traces: ITF JSON that replays, text view, sequence
chart (DOT lanes and arrows, SVG and PNG from the real ``dot``), state graphs, outputs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from zkcheck.api import build_model
from zkcheck.cli import main
from zkcheck.errors import InputError
from zkcheck.explorer import Bounds, explore, replay_labels
from zkcheck.explorer.liveness import check_liveness
from zkcheck.render.outputs import witness_names, write_outputs, write_trace_outputs
from zkcheck.render.sequence import render_bytes, sequence_chart
from zkcheck.render.stategraph import explored_graph, trace_neighbourhood
from zkcheck.render.story import story_of
from zkcheck.render.text import trace_view

FLE = {"servers": 3, "max_round": 1, "timeouts": 0}
# The shortest TwoLeadingSameRound witness (§8.1) found by breadth-first search of FLE
# with these options (19 steps); replayed here because that search takes minutes.
TWO_LEADING = ["start 2", "process 2", "start 3", "process 3", "transmit 2->1",
               "transmit 3->1", "deliver 2->1", "deliver 3->1", "start 1", "process 1",
               "transmit 1->2", "process 1", "transmit 1->3", "deliver 1->2", "process 2",
               "decide 2", "deliver 1->3", "process 3", "decide 3"]
# The shortest LeaderEstablished witness of the same search (18 steps, with Zab messages).
ESTABLISHED = ["start 1", "process 1", "start 2", "process 2", "transmit 2->1",
               "deliver 2->1", "process 1", "process 1", "decide 1", "publish 1",
               "transmit 1->2", "deliver 1->2", "process 2", "decide 2", "publish 2",
               "followerinfo 1", "leaderinfo 1", "ackepoch 1"]
BROKEN = {**FLE, "variant_flags": ["exit_when_all_heard"]}  # ZOOKEEPER-975's old exit


def fle_trace(labels: list[str], **options):
    model = build_model("fle", **(options or FLE))
    return model, replay_labels(model, model.initial_states()[0], labels)


def prop(model, name: str):
    return next(p for p in model.properties() if p.name == name)


def dot_edges(source: str, cls: str) -> int:
    return len(re.findall(rf'class="msg {cls}[^"]*"', source))


def lanes(source: str) -> set[str]:
    return set(re.findall(r'class="lanehead (\w+)"', source))


# ---------------------------------------------------------------------- FLE witness §8.1


def test_two_leading_witness_chart_has_a_lane_per_server_and_an_arrow_per_delivery() -> None:
    model, trace = fle_trace(TWO_LEADING)
    assert prop(model, "TwoLeadingSameRound").predicate(trace.final)
    story = story_of(model, trace, "TwoLeadingSameRound", "witness found")
    source = sequence_chart(story).source
    assert lanes(source) == {"1", "2", "3"}
    deliveries = sum(label.startswith("deliver ") for label in TWO_LEADING)
    assert dot_edges(source, "delivered notification") == deliveries == 4
    assert dot_edges(source, "lost") == 0
    assert "LEADING (round 1)" in source and "WITNESS" in source
    assert story.summary == ("final state: 1 LOOKING, 2 LEADING (round 1), "
                             "3 LEADING (round 1)")


def test_two_leading_witness_sentences() -> None:
    model, trace = fle_trace(TWO_LEADING)
    lines = trace_view(model, trace, "TwoLeadingSameRound", "witness found")
    text = "\n".join(lines)
    assert ("10. [process 1] 1 receives 2's vote (leader 2, zxid 0x0, round 1, peerEpoch 0) "
            "and switches to it") in text
    assert "{1, 2} agree on 2: it waits for a better vote before deciding" in text
    assert "19. [decide 3] nothing better arrived: 3 decides LEADING (round 1), quorum {1, 3}" \
        in text
    assert "<== WITNESS" in lines[-2] or "<== WITNESS" in text
    # only what changed, per server
    step7 = text.split(" 7. ")[1].split(" 8. ")[0]
    assert "server 1: recvqueue: - -> 2: (2, 0x0, 1, 0)" in step7
    assert "server 2" not in step7 and "server 3" not in step7


def test_zab_messages_are_arrows_from_send_to_handling() -> None:
    model, trace = fle_trace(ESTABLISHED)
    story = story_of(model, trace, "LeaderEstablished", "witness found")
    zab = {(m.text, m.src, m.dst, m.sent, m.delivered) for m in story.messages
           if m.kind == "zab"}
    assert zab == {("FOLLOWERINFO(0)", "1", "2", 16, 16), ("LEADERINFO(1)", "2", "1", 16, 17),
                   ("ACKEPOCH(0, 0x0)", "1", "2", 17, 18), ("NEWLEADER(1)", "2", "1", 18, None)}
    source = sequence_chart(story).source
    assert dot_edges(source, "delivered zab") == 3
    assert dot_edges(source, "inflight zab") == 1
    assert dot_edges(source, "delivered notification") == 2
    assert "ESTABLISHED epoch 1" in source


def test_lost_messages_are_marked() -> None:
    options = {**FLE, "link_failures": 1, "crashes": 1}
    model, trace = fle_trace(["start 2", "transmit 2->1", "transmit 2->3", "linkdown 2-1",
                              "crash 3"], **options)
    story = story_of(model, trace)
    lost = [(m.src, m.dst, m.lost, m.lost_reason) for m in story.messages if m.lost]
    assert lost == [("2", "1", 4, "link 2-1 down"), ("2", "3", 5, "3 crashed")]
    source = sequence_chart(story).source
    assert dot_edges(source, "lost") == 2
    assert "CRASH" in source and "link 2-1 DOWN" in source
    assert ("3", 5) in story.down
    text = "\n".join(trace_view(model, trace))
    assert "the connection 2-1 breaks; 1 message(s) in flight are lost" in text


def test_outputs_of_a_witness_replay_and_render(tmp_path: Path, capsys) -> None:
    model, trace = fle_trace(TWO_LEADING)
    written = write_trace_outputs(model, trace, tmp_path / "w", "fle", FLE,
                                  "TwoLeadingSameRound", "witness found")
    assert [p.name for p in written] == ["trace.json", "trace.svg", "trace.png", "report.html"]
    document = json.loads((tmp_path / "w" / "trace.json").read_text())
    assert document["#meta"]["format"] == "ITF"
    assert len(document["states"]) == len(TWO_LEADING) + 1
    assert document["states"][10]["#meta"]["action"] == "process 1"
    assert document["states"][10]["#meta"]["text"].endswith(
        "and switches to it; queues it for 2, 3 (overwriting the unsent message to 2, 3)")
    assert main(["replay", str(tmp_path / "w" / "trace.json")]) == 0
    assert "replays (19 steps" in capsys.readouterr().out
    assert (tmp_path / "w" / "trace.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (tmp_path / "w" / "trace.svg").read_text()
    assert "<svg" in svg and svg.count('class="node lanehead') == 3
    assert len(re.findall(r'class="edge msg delivered', svg)) == 4


# ---------------------------------------------------------------------- violations


def test_violation_of_a_broken_variant_replays_only_on_that_variant(tmp_path: Path,
                                                                    capsys) -> None:
    model = build_model("fle", **BROKEN)
    result = explore(model, properties=["DecisionSupported"], stop_at_first=True)
    verdict = result.verdicts["DecisionSupported"]
    assert verdict.status == "violated" and len(verdict.trace) == 10
    dirs = write_outputs(model, result, tmp_path, "fle", BROKEN)
    assert dirs == [tmp_path / "DecisionSupported"]
    path = tmp_path / "DecisionSupported" / "trace.json"
    assert main(["replay", str(path)]) == 0
    capsys.readouterr()
    # the same trace on ZooKeeper 3.8 (variant removed): the last step is no longer taken
    document = json.loads(path.read_text())
    document["#meta"]["zkcheck"]["options"]["variant_flags"] = []
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps(document))
    assert main(["replay", str(fixed)]) == 1
    assert "step 10" in capsys.readouterr().out
    text = "\n".join(trace_view(model, verdict.trace, "DecisionSupported", "violated"))
    assert "decides FOLLOWING 3 (round 1) at once (the pre-ZOOKEEPER-975 exit" in text
    assert "<== VIOLATION" in text
    run = document["#meta"]["zkcheck"]["run"]
    assert run["verdicts"][0]["status"] == "violated" and run["stats"]["levels"][:3] == [1, 3, 12]


def test_toy_violation_and_requested_witness(tmp_path: Path) -> None:
    model = build_model("mutex")
    result = explore(model)
    dirs = write_outputs(model, result, tmp_path, "mutex", {}, witness_names(model, ["Entered"]))
    assert sorted(d.name for d in dirs) == ["Entered", "MutualExclusion"]
    for d in dirs:
        assert {p.name for p in d.iterdir()} == {"trace.json", "trace.svg", "trace.png",
                                                 "report.html"}
    story = story_of(model, result.verdicts["MutualExclusion"].trace, "MutualExclusion",
                     "violated")
    source = sequence_chart(story).source
    assert lanes(source) == {"p1", "p2"} and "VIOLATION" in source
    assert dot_edges(source, "") == 0
    # found witnesses are written only when asked for
    assert [d.name for d in write_outputs(model, result, tmp_path / "b", "mutex", {})] == [
        "MutualExclusion"]


def test_witness_names_are_checked() -> None:
    model = build_model("mutex")
    assert witness_names(model, ["all"]) == ["Entered"]
    with pytest.raises(InputError, match="not a witness property.*witnesses: Entered"):
        witness_names(model, ["MutualExclusion"])


def test_lasso_trace_shows_the_loop(tmp_path: Path, capsys) -> None:
    model = build_model("counter:4,reset")
    result = explore(model, liveness=check_liveness)
    verdict = result.verdicts["ReachesTop"]
    assert verdict.trace.loop_start is not None
    write_outputs(model, result, tmp_path, "counter:4,reset", {})
    path = tmp_path / "ReachesTop" / "trace.json"
    assert json.loads(path.read_text())["#meta"]["loop"] == verdict.trace.loop_start
    assert main(["replay", str(path)]) == 0
    assert main(["render", str(path)]) == 0
    out = capsys.readouterr().out
    assert "loop starts here" in out and "the loop repeats forever" in out


# ---------------------------------------------------------------------- dot output


def test_svg_and_png_come_from_dot() -> None:
    model, trace = fle_trace(TWO_LEADING[:6])
    chart = sequence_chart(story_of(model, trace))
    assert render_bytes(chart, "svg").lstrip().startswith(b"<?xml")
    assert render_bytes(chart, "png")[:4] == b"\x89PNG"
    with pytest.raises(InputError):
        render_bytes(chart, "gif")


# ---------------------------------------------------------------------- state graphs


def test_state_graph_around_a_trace_and_of_a_small_run() -> None:
    model = build_model("mutex")
    trace = explore(model).verdicts["MutualExclusion"].trace
    g = trace_neighbourhood(model, trace, radius=1)
    on_trace = [n for n, d in g.nodes(data=True) if d["trace"] is not None]
    assert len(on_trace) == 5
    assert sum(1 for *_, d in g.edges(data=True) if d["trace"]) == 4
    whole = explored_graph(build_model("grid:3,4"))
    assert whole.number_of_nodes() == 20 and whole.number_of_edges() == 3 * 5 + 4 * 4
    with pytest.raises(InputError, match="more than 10 states"):
        explored_graph(build_model("grid:3,4"), max_nodes=10)
    with pytest.raises(InputError, match="more than 30 states"):
        trace_neighbourhood(*fle_trace(TWO_LEADING), radius=1, max_nodes=30)


def test_explored_graph_respects_depth() -> None:
    g = explored_graph(build_model("grid:5,5"), Bounds(max_depth=2))
    assert g.number_of_nodes() == 6
