"""The HTML report in a real browser: headless Chromium (Debian ``chromium``, installed by
``make system``) loads report.html from disk and must render the chart and the step table.

The report must be self-contained: Chromium runs with networking features off and the
file is checked to reference no external resource.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from zkcheck.api import build_model
from zkcheck.explorer import replay_labels
from zkcheck.render.outputs import write_trace_outputs

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium (make system)"),
]

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TWO_LEADING = ["start 2", "process 2", "start 3", "process 3", "transmit 2->1",
               "transmit 3->1", "deliver 2->1", "deliver 3->1", "start 1", "process 1",
               "transmit 1->2", "process 1", "transmit 1->3", "deliver 1->2", "process 2",
               "decide 2", "deliver 1->3", "process 3", "decide 3"]


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
                          capture_output=True, text=True, timeout=120, check=True)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    options = {"servers": 3, "max_round": 1, "timeouts": 0}
    model = build_model("fle", **options)
    trace = replay_labels(model, model.initial_states()[0], TWO_LEADING)
    write_trace_outputs(model, trace, tmp, "fle", options, "TwoLeadingSameRound",
                        "witness found")
    return tmp / "report.html"


def test_report_is_self_contained(report: Path) -> None:
    page = report.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<script" not in page and "<link" not in page


def test_chromium_renders_chart_and_step_table(report: Path, tmp_path: Path) -> None:
    dom = chromium(tmp_path, "--dump-dom", report.as_uri()).stdout
    assert "<svg" in dom and 'class="node lanehead 3"' in dom
    assert len(re.findall(r'class="edge msg delivered', dom)) == 4
    table = dom.split('<table class="steps">')[1].split("</table>")[0]
    rows = re.findall(r"<tr[ >]", table)
    assert len(rows) == 1 + len(TWO_LEADING) + 1  # a header row, initial state, steps
    assert ('<div class="chg"><span class="k">state</span> LEADING (decided)</div>'
            in table)
    assert 'class="hl witness"' in table


def _laid_out_width(tmp_path: Path, page: Path, width: int) -> tuple[int, int]:
    """(document width, step table width) as Chromium lays the page out in a window
    ``width`` pixels wide: a copy of the page with a script that writes both into the DOM."""
    probe = tmp_path / "probe.html"
    script = ("<script>const t = document.querySelector('table.steps');"
              "document.body.setAttribute('data-doc', document.documentElement.scrollWidth);"
              "document.body.setAttribute('data-table', Math.ceil("
              "t.getBoundingClientRect().right));</script>")
    probe.write_text(page.read_text().replace("</body>", script + "</body>"))
    dom = chromium(tmp_path, f"--window-size={width},1000", "--dump-dom", probe.as_uri()).stdout
    doc = re.search(r'data-doc="(\d+)"', dom)
    table = re.search(r'data-table="(\d+)"', dom)
    assert doc and table, dom[:500]
    return int(doc.group(1)), int(table.group(1))


def five_server_trace(steps: int = 24):
    """A deterministic 24-step trace of five servers (the 7th-next enabled action each
    step), with messages in flight: wide rows in every column."""
    from zkcheck.explorer import Trace

    model = build_model("fle", servers=5, max_round=1)
    state = initial = model.initial_states()[0]
    out = []
    for i in range(steps):
        acts = list(model.actions(state))
        label, state = acts[(i * 7) % len(acts)]
        out.append((label, state))
    return model, Trace(initial, tuple(out))


def test_five_servers_fit_1400_pixels(tmp_path: Path) -> None:
    model, trace = five_server_trace()
    out = tmp_path / "five"
    write_trace_outputs(model, trace, out, "fle", {"servers": 5, "max_round": 1},
                        "LeaderEstablished", "witness not found")
    doc, table = _laid_out_width(tmp_path, out / "report.html", 1400)
    assert table <= 1400 and doc <= 1400, (doc, table)
    page = (out / "report.html").read_text()
    assert page.count("<th class='lane'>server ") == 5


def test_violation_report_explains_and_marks(tmp_path: Path) -> None:
    """ZOOKEEPER-1514: the why box names server 3 and its round going back; the chart
    marks server 3 at step 13, the table outlines its cell, the legend states the rule."""
    from zkcheck.explorer import Bounds, Search

    options = {"scenario": "established", "timeouts": 1,
               "variant_flags": ("checkleader_self_any_round",)}
    model = build_model("fle", **options)
    result = Search(model, bounds=Bounds(max_depth=13), properties=["DecisionSupported"],
                    stop_at_first=True).run()
    verdict = result.verdicts["DecisionSupported"]
    assert verdict.explanation["step"] == 13 and verdict.explanation["servers"] == [3]
    out = tmp_path / "1514"
    write_trace_outputs(model, verdict.trace, out, "fle", options, "DecisionSupported",
                        "violated")
    dom = chromium(tmp_path, "--dump-dom", (out / "report.html").as_uri()).stdout
    why = dom.split('<div class="why violation">')[1].split("</div>")[0]
    assert "Why (step 13, server 3)" in why and "goes back from 2 to 1" in why
    assert "round 2 → 1: goes BACK" in dom
    assert "✗ breaks DecisionSupported" in dom  # the chart's mark on server 3
    table = dom.split('<table class="steps">')[1].split("</table>")[0]
    rows = table.split("<tr")
    assert rows[-1].count('class="blame"') == 1  # step 13, server 3's cell
    assert "a quorum of identical current-round votes" in dom  # the statement (legend too)
    svg = (out / "trace.svg").read_text()
    assert "why: 3 decided to lead through Step B" in svg


def test_chromium_screenshot(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    chromium(tmp_path, "--window-size=1400,2000", f"--screenshot={shot}", report.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
