"""Produce real ZooKeeper 3.8 election logs in a user's layout (for tests and examples).

A scenario of ``conformance.scenarios`` runs on a real ensemble on 127.0.0.1 (the
conformance harness: every JVM tracked and killed by PID) with the log layout and level a
production server would use, and each server's incarnations are appended to one file per
server, as a ``zookeeper.log`` that survives restarts would hold them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from zkcheck.conformance.harness import Ensemble
from zkcheck.conformance.run import _Runner
from zkcheck.conformance.scenarios import Scenario

LAYOUTS = {
    # Debian's /etc/zookeeper/conf/log4j.properties (no myid in the line)
    "debian": "%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m%n",
    # upstream 3.8 conf/logback.xml
    "upstream": "%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n",
    # the conformance harness's own layout
    "harness": "%d{ISO8601} [myid:%X{myid}] %-5p [%t] %c{1} - %m%n",
}


class LoggingEnsemble(Ensemble):
    """An ``Ensemble`` whose servers log in ``layout`` at ``level`` (INFO: ZooKeeper's
    default; DEBUG: the FastLeaderElection logger at DEBUG, the rest at INFO)."""

    def __init__(self, n: int, run_dir: Path, layout: str = "upstream",
                 level: str = "INFO") -> None:
        super().__init__(n, run_dir)
        self.layout, self.level = LAYOUTS.get(layout, layout), level

    def prepare(self) -> None:
        super().prepare()
        fle = "org.apache.zookeeper.server.quorum.FastLeaderElection"
        (self.run_dir / "log4j.properties").write_text(
            "log4j.rootLogger=INFO, OUT\n"
            "log4j.appender.OUT=org.apache.log4j.ConsoleAppender\n"
            "log4j.appender.OUT.layout=org.apache.log4j.PatternLayout\n"
            f"log4j.appender.OUT.layout.ConversionPattern={self.layout}\n"
            + (f"log4j.logger.{fle}=DEBUG\n" if self.level == "DEBUG" else ""))


def capture(scenario: Scenario, out_dir: Path, layout: str = "upstream",
            level: str = "INFO", run_dir: Path | None = None) -> list[int | None]:
    """Run ``scenario`` and write ``out_dir/zookeeper-<sid>.log`` per server (every
    incarnation appended); returns the leaders the harness saw, one per election it
    opened (``srvr``, independent of the logs). The ensemble is stopped by PID."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    base = Path(run_dir) if run_dir else Path(tempfile.mkdtemp(prefix="zkc-logs-"))
    with LoggingEnsemble(scenario.n, base, layout, level) as ens:
        runner = _Runner(ens)
        for step in scenario.steps:
            runner.step(step)
        ens.close()
        for sid in ens.sids:
            with (out_dir / f"zookeeper-{sid}.log").open("wb") as out:
                for part in ens.log_paths(sid):
                    out.write(part.read_bytes())
    return [run.leader for run in runner.episodes]
