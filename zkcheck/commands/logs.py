"""``zkcheck logs PATH...``: does a real ZooKeeper election, as its servers logged it, follow
the protocol? Each election episode of the logs is explained by a model path, not
explained (the first logged event no model step produces), or inconclusive (a bound)."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import click

from zkcheck.cli import EXIT_INCOMPLETE, EXIT_OK, EXIT_VIOLATION
from zkcheck.errors import InputError
from zkcheck.logs.check import EXPLAINED, INCONCLUSIVE, NOT_EXPLAINED, Verdict, check
from zkcheck.logs.episodes import derive, split
from zkcheck.logs.sources import Logs, read_logs
from zkcheck.model.variants import PRESETS, preset


def _servers(items: tuple[str, ...]) -> dict[int, str]:
    out: dict[int, str] = {}
    for item in items:
        sid, sep, path = item.partition("=")
        if not sep or not sid.strip().isdigit() or not path:
            raise InputError(f"--server {item!r}: expected N=FILE, e.g. 2=zookeeper-2.log")
        if int(sid) in out:
            raise InputError(f"--server {sid} given twice")
        out[int(sid)] = path
    return out


def ensemble_size(logs: Logs, config: str | None) -> tuple[int, str]:
    """Voters of the ensemble and where that came from: ``--config``, else a zoo.cfg the
    logs name ("Reading configuration from") that is readable here, else the highest
    server id the logs mention."""
    from zkcheck.model.zoocfg import PARTICIPANT, load_zoocfg

    candidates = [config] if config else [p for p in logs.config_paths if Path(p).is_file()]
    for path in candidates:
        try:
            cfg = load_zoocfg(path)
        except InputError:
            if config:
                raise
            continue
        voters = sorted(s for s, srv in cfg.servers.items() if srv.role == PARTICIPANT)
        if voters != list(range(1, len(voters) + 1)):
            raise InputError(f"{path}: server ids {voters} are not 1..N, which zkcheck's "
                             "model needs")
        if len(voters) != len(cfg.servers):
            raise InputError(f"{path}: observers are not supported by zkcheck logs")
        return len(voters), f"from {path}"
    seen = set(logs.sids) | {e.sender for events in logs.events.values() for e in events
                             if e.sender is not None}
    return max(seen), "inferred from the server ids in the logs (give --config zoo.cfg)"


def _stamp(t: float) -> str:
    """A time as the logs wrote it (their clock; after the skew correction)."""
    return datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _state_lines(state: object) -> list[str]:
    """A model state (``FLEModel.describe``) as one line per server and per channel in
    use."""
    if not isinstance(state, dict) or "servers" not in state:
        return [str(state)]
    out = []
    for sid, fields in state["servers"].items():
        text = ", ".join(f"{k} {v}" for k, v in fields.items() if v not in ({}, [], None))
        out.append(f"server {sid}: {text}")
    for pair, chan in state.get("channels", {}).items():
        busy = {k: v for k, v in chan.items() if k != "last" and v not in (None, [])}
        if busy:
            out.append(f"channel {pair}: " + ", ".join(f"{k} {v}" for k, v in busy.items()))
    for key, value in state.items():
        if key not in ("servers", "channels"):
            out.append(f"{key}: {value}")
    return out


def _print(v: Verdict) -> None:
    ep = v.episode
    took = ", ".join(f"{i.sid}:{i.took_ms} ms" for i in ep.instances if i.took_ms)
    who = ",".join(map(str, ep.participants)) + (
        f" (+{','.join(map(str, v.unobserved))} unobserved)" if v.unobserved else "")
    leader = v.leader if v.leader is not None else "-"
    click.echo(f"episode {ep.number} ({ep.kind}) at {_stamp(ep.start)}: servers {who}, "
               f"leader {leader}, {ep.end - ep.start:.3f} s"
               + (f" (election took {took})" if took else ""))
    click.echo(f"  inputs: {ep.episode.describe() if ep.episode else '-'}")
    click.echo(f"  verdict: {v.verdict.upper()}: {v.detail}")
    val = v.validation
    if val is not None and val.explained:
        labels = [label for label, _ in val.witness]
        click.echo(f"  model path ({len(labels)} steps): " + ", ".join(labels))
    elif val is not None and val.model_state is not None:
        click.echo("  model state at the furthest point:")
        for line in _state_lines(val.model_state):
            click.echo(f"    {line}")
    if v.hint:
        click.echo(f"  hint: {v.hint}")
    for note in ep.notes:
        click.echo(f"  note: {note}")


def _write_out(out: Path, verdicts: list[Verdict], zk_version: str,
               variant_flags: tuple[str, ...]) -> None:
    from zkcheck.explorer.trace import Trace
    from zkcheck.logs.trace import model_options
    from zkcheck.render.outputs import write_trace_outputs

    for v in verdicts:
        val = v.validation
        if val is None or not val.explained:
            continue
        model = val.model
        steps = tuple((label, st) for label, st in val.witness
                      if not label.startswith("connectAll "))
        trace = Trace(model.initial_states()[0], steps)
        write_trace_outputs(model, trace, out / f"episode-{v.episode.number}", "fle",
                            model_options(model.config, zk_version, variant_flags),
                            "logged election", "explained", None, "zkcheck logs")


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--server", "servers", multiple=True, metavar="N=FILE",
              help="FILE is server N's log (repeatable); otherwise the id comes from "
                   "[myid:N] or the election threads' names.")
@click.option("--config", type=click.Path(exists=True, dir_okay=False),
              help="The ensemble's zoo.cfg (default: the one the logs name, if readable).")
@click.option("--pattern", metavar="LAYOUT",
              help="The log4j/logback conversion pattern of the logs (default: detect "
                   "ZooKeeper 3.8's upstream or Debian layout).")
@click.option("--zk-version", type=click.Choice(list(PRESETS)), default="3.8",
              show_default=True, help="Replay against this release's election rules.")
@click.option("--variant", "variant_flags", multiple=True, metavar="FLAG",
              help="Also restore this historic pre-fix rule (repeatable; see "
                   "'zkcheck explore --help').")
@click.option("--nonatomic-replies", is_flag=True, default=False,
              help="Replay against the model whose WorkerReceiver replies are steps of "
                   "their own (see 'zkcheck explore --help'): stale replies are explained "
                   "instead of being a known modelling limit.")
@click.option("--max-states", default=100_000, show_default=True,
              type=click.IntRange(100, 100_000_000),
              help="State budget of the search per episode.")
@click.option("--out", type=click.Path(file_okay=False),
              help="Write trace.json/svg/png and report.html of each explained election "
                   "to DIR/episode-K/.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def logs(paths: tuple[str, ...], servers: tuple[str, ...], config: str | None,
         pattern: str | None, zk_version: str, variant_flags: tuple[str, ...],
         nonatomic_replies: bool, max_states: int, out: str | None, as_json: bool) -> int:
    """Validate a ZooKeeper ensemble's own election logs against the model.

    PATHS are log files (one or more per server; rotated and .gz files are fine) or
    directories of them. Exit 0 when every episode is explained, 1 when one is not,
    3 when a budget left one inconclusive, 2 on bad input.
    """
    if not paths and not servers:
        raise InputError("give log files or directories (or --server N=FILE)")
    variant = preset(zk_version, variant_flags)
    t = time.monotonic()
    data = read_logs(list(paths), _servers(servers), pattern)
    n, n_source = ensemble_size(data, config)
    if max(data.sids) > n:
        raise InputError(f"the logs name server {max(data.sids)}, but the ensemble has "
                         f"{n} voters ({n_source})")
    episodes, skew, unused = split(data)
    derive(episodes, n, set(data.sids))
    verdicts = [check(ep, n, set(data.sids), data.debug, max_states, variant,
                      nonatomic_replies) for ep in episodes]
    seconds = time.monotonic() - t
    missing = [s for s in range(1, n + 1) if s not in data.events]
    if out:
        _write_out(Path(out), verdicts, zk_version, variant_flags)
    counts = {k: sum(v.verdict == k for v in verdicts)
              for k in (EXPLAINED, NOT_EXPLAINED, INCONCLUSIVE)}
    if as_json:
        click.echo(json.dumps({
            "servers": n, "servers_from": n_source, "rules": zk_version,
            "variant": list(variant_flags), "missing_logs": missing,
            "files": [vars(f) for f in data.files],
            "levels": {s: "DEBUG" if s in data.debug else "INFO" for s in data.sids},
            "clock_offsets_s": {s: round(o, 3) for s, o in skew.items() if o},
            "unused_role_receipts": unused, "seconds": round(seconds, 3),
            "summary": counts, "episodes": [v.as_dict() for v in verdicts]}, indent=2,
            default=str))
    else:
        for f in data.files:
            click.echo(f.text())
        click.echo(f"ensemble: {n} voters ({n_source}); rules: ZooKeeper {zk_version}"
                   + (f" + {', '.join(variant_flags)}" if variant_flags else ""))
        levels = {s: "DEBUG" if s in data.debug else "INFO" for s in data.sids}
        click.echo("levels: " + ", ".join(f"{s}:{lv}" for s, lv in levels.items()))
        if missing:
            click.echo(f"no log for server(s) {missing}")
        if any(skew.values()):
            click.echo("clock offsets corrected: " + ", ".join(
                f"{s}:{o:+.3f} s" for s, o in skew.items() if o))
        if unused:
            click.echo(f"{unused} receipt(s) logged outside any election were not used")
        for v in verdicts:
            _print(v)
        click.echo(f"{len(verdicts)} episode(s): {counts[EXPLAINED]} explained, "
                   f"{counts[NOT_EXPLAINED]} not explained, {counts[INCONCLUSIVE]} "
                   f"inconclusive ({seconds:.1f} s)")
    if counts[NOT_EXPLAINED]:
        return EXIT_VIOLATION
    return EXIT_INCOMPLETE if counts[INCONCLUSIVE] else EXIT_OK
