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
    assert len(rows) == 2 + len(TWO_LEADING) + 1  # two header rows, initial state, steps
    assert "<td class=\"chg\">LEADING (decided)</td>" in table
    assert 'class="hl witness"' in table


def test_chromium_screenshot(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    chromium(tmp_path, "--window-size=1400,2000", f"--screenshot={shot}", report.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
