"""The FLE options of ``zkcheck explore`` and the model they build.

``fle_options`` is a click decorator adding the cluster, scenario, initial-state, bound,
fault and variant options; ``build_fle_model(**options)`` turns their values (also usable
from Python and spec files) into an ``FLEModel``, raising ``InputError`` with one line on a
bad value or combination. General search options (--depth, --search, --property, --json,
...) belong to the ``explore`` command itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import click
from click.core import ParameterSource

from zkcheck.errors import InputError
from zkcheck.model.config import SCENARIOS, Bounds, Faults, ModelConfig, ServerInit
from zkcheck.model.fle import FLEModel
from zkcheck.model.variants import PRESETS, Variant, preset

_BOUNDS = Bounds()
_FAULTS = Faults()


def _variant_help() -> str:
    from dataclasses import fields

    return ", ".join(f.name for f in fields(Variant))


def fle_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add the FLE model options to a click command (keyword names as in
    ``build_fle_model``)."""
    options = [
        click.option("--servers", type=int, default=3, show_default=True, metavar="N",
                     help="Cluster size; the servers get sids 1..N."),
        click.option("--scenario", type=click.Choice(SCENARIOS), default="startup",
                     show_default=True,
                     help="startup: every server boots LOOKING. leader-crash: an established "
                          "ensemble (leader = greatest (epoch, zxid, sid)) whose leader just "
                          "crashed. established: the same ensemble with its leader alive."),
        click.option("--leader", type=int, default=None, metavar="SID",
                     help="leader-crash/established: the established leader (default: the "
                          "up voter with the greatest (epoch, zxid, sid))."),
        click.option("--zxid", multiple=True, metavar="SID=E:C",
                     help="Initial lastZxid of a server as epoch:counter, e.g. 2=1:5 "
                          "(repeatable). Default 0:0 (leader-crash: 0:0 too)."),
        click.option("--epoch", multiple=True, metavar="SID=CUR[:ACC]",
                     help="Initial currentEpoch[:acceptedEpoch] of a server, e.g. 3=1:2 "
                          "(repeatable; ACC defaults to CUR). Default 0 (leader-crash, "
                          "established: 1)."),
        click.option("--late", multiple=True, type=int, metavar="SID",
                     help="This server is down at the start and boots later (repeatable)."),
        click.option("--missing-accepted-epoch", "missing_accepted_epoch", multiple=True,
                     type=int, metavar="SID",
                     help="SID's acceptedEpoch file is missing at the start (an upgrade "
                          "from 3.3, or a lost file): its next start (boot or restart) "
                          "takes the epoch of its last zxid instead (ZOOKEEPER-1387; "
                          "repeatable)."),
        click.option("--observers", type=int, default=0, show_default=True, metavar="K",
                     help="The K highest sids are observers (non-voting)."),
        click.option("--observer", multiple=True, type=int, metavar="SID",
                     help="This server is an observer (repeatable)."),
        click.option("--max-round", type=int, default=_BOUNDS.max_round, show_default=True,
                     help="Highest election round (logicalclock) a server may start."),
        click.option("--timeouts", type=int, default=_BOUNDS.timeouts, show_default=True,
                     help="Nondeterministic timeouts per run: election re-broadcasts and "
                          "leaders/learners giving up their role."),
        click.option("--wire-capacity", type=int, default=_BOUNDS.wire_capacity,
                     show_default=True, help="Messages in flight per ordered pair of servers."),
        click.option("--recv-capacity", type=int, default=_BOUNDS.recv_capacity,
                     show_default=True,
                     help="Notifications that may wait in a LOOKING server's receive queue "
                          "(0 = unbounded); needed for variants that never stop sending."),
        click.option("--free-timeouts", is_flag=True, default=False,
                     help="Election poll timeouts (re-broadcasts) fire forever without using "
                          "the --timeouts budget (for liveness; see also --recv-capacity)."),
        click.option("--fair-timeouts", is_flag=True, default=False,
                     help="initLimit/syncLimit/poll timeouts fire once nothing else moves, "
                          "and a run the round bound stops without a fault and without a "
                          "leader violates EventuallyElected (a stuck run is not a pass); "
                          "for safety too (changes the state space)."),
        click.option("--optional-timeouts", is_flag=True, default=False,
                     help="Liveness treats initLimit/syncLimit/poll timeouts as optional, "
                          "like safety (the old judgement: a leader may wait forever). By "
                          "default liveness is judged with them fair, on a separate "
                          "exploration; safety counts are the same either way."),
        click.option("--nonatomic-replies", is_flag=True, default=False,
                     help="A WorkerReceiver reply is queued by a step of its own, after "
                          "the delivery that triggered it: replies mixing two moments of "
                          "the replier become reachable (costs states; docs/semantics.md "
                          "§5.1)."),
        click.option("--round", "rounds", multiple=True, metavar="SID=R",
                     help="logicalclock of up server SID at the start: established/leader-"
                          "crash members the round they decided in (default 1); a LOOKING "
                          "server enters round R+1 (default 0; repeatable)."),
        click.option("--client-writes", type=int, default=_BOUNDS.client_writes,
                     show_default=True, help="Transactions established leaders may log."),
        click.option("--crashes", type=int, default=_FAULTS.crashes, show_default=True,
                     help="Crash budget (any server, any time)."),
        click.option("--restarts", type=int, default=_FAULTS.restarts, show_default=True,
                     help="Restart budget for crashed servers."),
        click.option("--link-failures", type=int, default=_FAULTS.link_failures,
                     show_default=True, help="Budget of election-connection breaks."),
        click.option("--reconnects", type=int, default=_FAULTS.reconnects,
                     show_default=True,
                     help="Budget of replaced election connections (reconnect A-B: what "
                          "was in flight is lost, each side re-sends its last message)."),
        click.option("--zk-version", type=click.Choice(list(PRESETS)), default="3.8",
                     show_default=True,
                     help="ZooKeeper release whose election rules to model: sets the "
                          "pre-fix flags that release still had (see --variant)."),
        click.option("--variant", "variant_flags", multiple=True, metavar="FLAG",
                     help="Restore a historic pre-fix rule (repeatable), on top of "
                          "--zk-version: " + _variant_help() + "."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def model_options(model_spec: str, fle: dict[str, Any]) -> dict[str, Any]:
    """The FLE option values a command passes to ``build_model``: all of them for ``fle``,
    none for a toy model, where giving one on the command line is an InputError."""
    if model_spec == "fle":
        return fle
    context = click.get_current_context()
    given = [name for name in fle
             if context.get_parameter_source(name) is not ParameterSource.DEFAULT]
    if given:
        flag = "--" + given[0].replace("_", "-")
        raise InputError(f"{flag} applies only to --model fle, not to {model_spec!r}")
    return {}


def _parse_sid(text: str, option: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InputError(f"{option}: {text!r} is not a server id") from None


def _parse_pairs(values: Iterable[str], option: str) -> dict[int, list[int]]:
    """``SID=A:B`` items -> {sid: [A, B]}; the same sid twice is an error."""
    out: dict[int, list[int]] = {}
    for item in values:
        sid_text, sep, rest = item.partition("=")
        if not sep or not rest:
            raise InputError(f"{option} {item!r}: expected SID=VALUE")
        sid = _parse_sid(sid_text.strip(), option)
        if sid in out:
            raise InputError(f"{option} given twice for server {sid}")
        try:
            out[sid] = [int(part) for part in rest.split(":")]
        except ValueError:
            raise InputError(f"{option} {item!r}: values must be integers") from None
    return out


def build_config(
    servers: int = 3,
    scenario: str = "startup",
    leader: int | None = None,
    zxid: Iterable[str] = (),
    epoch: Iterable[str] = (),
    late: Iterable[int] = (),
    missing_accepted_epoch: Iterable[int] = (),
    observers: int = 0,
    observer: Iterable[int] = (),
    max_round: int = _BOUNDS.max_round,
    timeouts: int = _BOUNDS.timeouts,
    wire_capacity: int = _BOUNDS.wire_capacity,
    client_writes: int = _BOUNDS.client_writes,
    recv_capacity: int = _BOUNDS.recv_capacity,
    free_timeouts: bool = False,
    fair_timeouts: bool = False,
    optional_timeouts: bool = False,
    nonatomic_replies: bool = False,
    rounds: Iterable[str] = (),
    crashes: int = _FAULTS.crashes,
    restarts: int = _FAULTS.restarts,
    link_failures: int = _FAULTS.link_failures,
    reconnects: int = _FAULTS.reconnects,
    variant_flags: Iterable[str] = (),
    zk_version: str = "3.8",
) -> ModelConfig:
    """The ``ModelConfig`` of the option values; ``InputError`` (one line) on bad input."""
    if not isinstance(servers, int) or servers < 1:
        raise InputError(f"--servers must be >= 1, got {servers!r}")
    if servers > 9:
        raise InputError(f"--servers {servers} is too many for exhaustive exploration (max 9)")
    sids = list(range(1, servers + 1))
    if observers < 0 or observers >= servers:
        raise InputError(f"--observers must be between 0 and {servers - 1} (at least one "
                         f"voter), got {observers}")
    observer_set = set(sids[servers - observers:]) | {int(s) for s in observer}
    zxids = _parse_pairs(zxid, "--zxid")
    epochs = _parse_pairs(epoch, "--epoch")
    for sid, parts in zxids.items():
        if len(parts) != 2:
            raise InputError(f"--zxid for server {sid}: expected EPOCH:COUNTER")
    for sid, parts in epochs.items():
        if len(parts) not in (1, 2):
            raise InputError(f"--epoch for server {sid}: expected CUR or CUR:ACC")
    default = (ServerInit(1, 1, (0, 0)) if scenario in ("leader-crash", "established")
               else ServerInit())
    initial: dict[int, ServerInit] = {}
    for sid in sorted(set(zxids) | set(epochs)):
        if sid not in sids:
            raise InputError(f"server {sid} in --zxid/--epoch is not one of the servers "
                             f"1..{servers}")
        ep = epochs.get(sid)
        cur = ep[0] if ep else default.current_epoch
        acc = ep[1] if ep and len(ep) == 2 else (cur if ep else default.accepted_epoch)
        zx = tuple(zxids[sid]) if sid in zxids else default.last_zxid
        initial[sid] = ServerInit(cur, acc, (zx[0], zx[1]))
    return ModelConfig.make(
        sids,
        observers=observer_set,
        initial=initial,
        late=[int(s) for s in late],
        missing_accepted_epoch=[int(s) for s in missing_accepted_epoch],
        scenario=scenario,
        leader=leader,
        bounds=Bounds(max_round=max_round, timeouts=timeouts, wire_capacity=wire_capacity,
                      client_writes=client_writes, recv_capacity=recv_capacity,
                      free_timeouts=bool(free_timeouts),
                      fair_timeouts=bool(fair_timeouts),
                      optional_timeouts=bool(optional_timeouts),
                      nonatomic_replies=bool(nonatomic_replies)),
        rounds={sid: parts[0] for sid, parts in _parse_pairs(rounds, "--round").items()},
        faults=Faults(crashes=crashes, restarts=restarts, link_failures=link_failures,
                      reconnects=reconnects),
        variant=preset(zk_version, variant_flags),
    )


def build_fle_model(**options: Any) -> FLEModel:
    """The FLE model of the ``fle_options`` values (see ``build_config``)."""
    known = set(build_config.__code__.co_varnames[:build_config.__code__.co_argcount])
    for name in options:
        if name not in known:
            raise InputError(f"unknown FLE option {name!r}")
    return FLEModel(build_config(**options))


model_option = click.option(
    "--model", "model_spec", default="fle", show_default=True, metavar="SPEC",
    help="fle; a toy model: grid:N,M | mutex | mutex:fixed | ring:K | philosophers:N | "
         "counter:K[,reset]; or your own Model class: package.module:Class or "
         "path/to/file.py:Class (docs/models.md).")
"""``--model SPEC`` of the commands that build a model (explore, simulate)."""
