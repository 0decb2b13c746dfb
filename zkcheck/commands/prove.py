"""``zkcheck prove``: Z3 proofs. ``prove quorum`` checks a real zoo.cfg's quorum system.

The group is the seam for further proofs: a later ``prove leadership`` is one more
``@prove.command`` (or ``prove.add_command``) next to ``quorum``. This module only parses
options, calls ``zkcheck.invariants.quorum_proofs`` and renders text or JSON; the JSON
schema is documented in README.md and docs/proofs.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from zkcheck.cli import EXIT_OK, EXIT_VIOLATION
from zkcheck.commands.prove_leadership import leadership
from zkcheck.errors import InputError
from zkcheck.invariants.quorum_proofs import (
    Intersection,
    QuorumAnalysis,
    ReconfigReport,
    Tolerance,
    analyze,
)
from zkcheck.model.quorum import QuorumHierarchical, QuorumMaj
from zkcheck.model.zoocfg import ZooConfig, load_zoocfg
from zkcheck.schema import envelope


@click.group()
def prove() -> None:
    """Prove properties with the Z3 SMT solver.

    Exit 0 proven (or standalone: nothing to prove), 1 violated or vacuous, 2 bad input,
    4 internal error (not a verdict; details with zkcheck --debug).
    """


prove.add_command(leadership)


def _rule(verifier: QuorumMaj | QuorumHierarchical) -> str:
    if isinstance(verifier, QuorumMaj):
        return (f"a quorum is more than {verifier.half} of the {len(verifier.voters)} voters "
                "(QuorumMaj)")
    return (f"a quorum has more than {verifier.counted_groups // 2} of the "
            f"{verifier.counted_groups} non-zero-weight groups each with more than half of "
            "the group's weight (QuorumHierarchical)")


def describe(cfg: ZooConfig) -> dict:
    """The configuration as read: kind, servers, groups, weights, warnings."""
    verifier = cfg.verifier()
    group_of = cfg.group_of()
    groups = []
    if isinstance(verifier, QuorumHierarchical):
        for gid, members in verifier.groups.items():
            total = verifier.group_weight[gid]
            groups.append({"id": gid, "servers": list(members), "total_weight": total,
                           "needs_more_than": verifier.group_threshold(gid),
                           "counted": total != 0, "line": cfg.group_lines[gid]})
    servers = [{"id": s.sid, "role": s.role, "weight": verifier.weight(s.sid),
                "group": group_of.get(s.sid), "addresses": list(s.addresses),
                "client": s.client, "line": s.line} for s in sorted(cfg.servers.values(),
                                                                     key=lambda s: s.sid)]
    return {"file": cfg.name, "via": cfg.via, "kind": verifier.kind,
            "version": None if cfg.version is None else hex(cfg.version),
            "quorum_rule": _rule(verifier), "voters": cfg.participants,
            "observers": cfg.observers, "servers": servers, "groups": groups,
            "warnings": list(cfg.warnings)}


def _set(sids) -> str:
    return "{" + ", ".join(str(s) for s in sids) + "}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _config_lines(info: dict) -> list[str]:
    via = f" (dynamicConfigFile of {info['via']})" if info["via"] else ""
    lines = [f"config: {info['file']}{via}: {info['kind']} quorums"
             + (f", version {info['version']}" if info["version"] else ""),
             f"  rule: {info['quorum_rule']}",
             f"  voters ({len(info['voters'])}): {' '.join(map(str, info['voters']))}",
             f"  observers ({len(info['observers'])}): "
             f"{' '.join(map(str, info['observers'])) or '-'}"]
    weight = {s["id"]: s["weight"] for s in info["servers"]}
    for group in info["groups"]:
        weights = " ".join(f"{s}:{weight[s]}" for s in group["servers"])
        note = (f"majority group needs weight > {group['needs_more_than']}"
                if group["counted"] else "total weight 0: not counted")
        lines.append(f"  group.{group['id']}: servers:weights {weights}; total "
                     f"{group['total_weight']}, {note}")
    lines += [f"  warning: {w}" for w in info["warnings"]]
    return lines


def _intersection_line(result: Intersection, what: str) -> str:
    if result.holds:
        return f"{what}: proven by Z3 (unsat, {_ms(result.seconds)})"
    return (f"{what}: VIOLATED, Z3 found two disjoint quorums: {_set(result.quorum_a)} "
            f"({result.first}) and {_set(result.quorum_b)} ({result.second})")


def _tolerance_lines(tol: Tolerance, label: str) -> list[str]:
    more = "at least " if tol.capped else ""
    if tol.max_failures < 0:
        return [f"{label}: none, not even with all {tol.voters} voters up is there a quorum"]
    lines = [f"{label}: {tol.max_failures} of {tol.voters} voters may fail: for every set of "
             f"{tol.max_failures} failed voters a quorum remains (proven by Z3, "
             f"{_ms(tol.seconds)})"]
    if tol.witness is not None:
        lines.append(f"  witness: if {_set(tol.witness)} fail, no quorum remains "
                     f"({more}{tol.blocking_sets} such sets of {len(tol.witness)} voters)")
    return lines


def _reconfig_lines(rep: ReconfigReport, old: ZooConfig, new: ZooConfig) -> list[str]:
    before, after = set(old.participants), set(new.participants)
    lines = [f"reconfiguration: {old.name} -> {new.name}",
             f"  voters added {_set(sorted(after - before))}, removed "
             f"{_set(sorted(before - after))}, kept {_set(sorted(before & after))}",
             "  " + _intersection_line(rep.old_self, "old config: every two quorums intersect"),
             "  " + _intersection_line(rep.new_self, "new config: every two quorums intersect")]
    if rep.joint_example is None:
        lines.append("  joint quorum: VIOLATED, no set is a quorum of both configs: the "
                     "change can never commit")
    else:
        lines.append(f"  joint quorum (of old AND new) exists, e.g. {_set(rep.joint_example)}")
    lines.append("  " + _intersection_line(rep.joint_vs_old,
                                           "every joint quorum meets every old quorum"))
    lines.append("  " + _intersection_line(rep.joint_vs_new,
                                           "every joint quorum meets every new quorum"))
    if rep.old_vs_new.holds:
        lines.append("  " + _intersection_line(
            rep.old_vs_new, "every old quorum meets every new quorum (safe even without "
                            "the joint rule)"))
    else:
        lines.append(f"  without the joint rule the change would break: old quorum "
                     f"{_set(rep.old_vs_new.quorum_a)} and new quorum "
                     f"{_set(rep.old_vs_new.quorum_b)} are disjoint, so servers switching "
                     "configs one by one could elect two leaders")
    if rep.joint_tolerance is not None:
        lines += ["  " + x for x in _tolerance_lines(rep.joint_tolerance,
                                                     "joint failure tolerance")]
    lines += ["  " + x for x in _tolerance_lines(rep.new_tolerance, "new failure tolerance")]
    lines.append("  leader designate: " + (
        "every joint quorum contains a voter of the new configuration (proven by Z3)"
        if rep.designate else "VIOLATED: some joint quorum has no voter of the new "
        "configuration to take over"))
    lines += [f"  ZooKeeper refuses this reconfiguration: {r}" for r in rep.refusals]
    if rep.implied:
        lines.append("  note: with weights >= 0 the joint-rule intersections above follow from "
                     "each configuration's own intersection; what this change can violate is "
                     "ZooKeeper's acceptance rules and the leader designate")
    lines.append(f"  joint rule: {'HOLDS' if rep.holds else 'VIOLATED'}")
    return lines


def render_text(info: dict, result: QuorumAnalysis, old: ZooConfig,
                new: ZooConfig | None) -> str:
    lines = [f"zkcheck prove quorum: {info['file']}", *_config_lines(info),
             _intersection_line(result.intersection, "every two quorums intersect"),
             *_tolerance_lines(result.tolerance, "failure tolerance"),
             *([] if result.quorum_exists else [
                 "quorum exists: VIOLATED, no set of voters is a quorum (proven by Z3): "
                 "ZooKeeper could never elect a leader"]),
             f"odd size: {result.odd_size.message()}"]
    if result.reconfig is not None and new is not None:
        lines += _reconfig_lines(result.reconfig, old, new)
    verdict = "PROVEN" if result.holds else "VIOLATED"
    lines.append(f"verdict: {verdict} (exit {EXIT_OK if result.holds else EXIT_VIOLATION})")
    return "\n".join(lines)


def render_json(info: dict, result: QuorumAnalysis, new_info: dict | None) -> str:
    document = envelope(
        "prove quorum", EXIT_OK if result.holds else EXIT_VIOLATION,
        verdict="proven" if result.holds else "violated", **{
        "config": info,
        "quorum_exists": result.quorum_exists,
        "intersection": result.intersection.to_json(),
        "tolerance": result.tolerance.to_json(),
        "odd_size": result.odd_size.to_json(),
        "reconfig": None if result.reconfig is None else
        {"new_config": new_info, **result.reconfig.to_json()},
    })
    return json.dumps(document, indent=2)


def _standalone(cfg: ZooConfig, as_json: bool, *, reconfig: bool) -> int:
    """ZooKeeper runs this file as one standalone server: no election, nothing to prove."""
    if reconfig:
        raise InputError(f"{cfg.name}: a standalone configuration cannot be reconfigured "
                         "(--reconfig needs a quorum configuration)")
    voters = cfg.participants
    why = ("no server.N line" if not cfg.servers else
           f"one participant (server.{voters[0]}) with standaloneEnabled=true: ZooKeeper "
           "ignores the line")
    if as_json:
        click.echo(json.dumps(envelope("prove quorum", EXIT_OK, verdict="standalone",
                                       file=cfg.name, reason=why), indent=2))
    else:
        click.echo("\n".join([
            f"zkcheck prove quorum: {cfg.name}",
            f"standalone server ({why}): no quorum and no leader election, nothing to prove",
            f"verdict: STANDALONE (exit {EXIT_OK})"]))
    return EXIT_OK


@prove.command("quorum")
@click.argument("zoo_cfg", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--reconfig", "new_cfg", type=click.Path(dir_okay=False, path_type=Path),
              metavar="NEW_CFG", help="Also check a change from ZOO_CFG to NEW_CFG against "
                                      "ZooKeeper's joint rule.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
def quorum(zoo_cfg: Path, new_cfg: Path | None, as_json: bool) -> int:
    """Prove that every two quorums of ZOO_CFG intersect, and report its failure tolerance.

    Reads a real zoo.cfg or dynamic config file (server.N, group.G, weight.N), builds the
    verifier ZooKeeper would (QuorumMaj or QuorumHierarchical) and proves with Z3: quorum
    intersection (or prints two disjoint quorums), the largest number of voter failures
    that always leaves a quorum (with a failure set one larger that leaves none), whether an
    even-sized ensemble tolerates no more than a one-smaller one, and with --reconfig the
    joint rule, ZooKeeper's acceptance rules for the new configuration and the leader
    designate. Files are accepted and refused as QuorumPeerConfig does (standaloneEnabled,
    observers, ids after number parsing); a standalone file has nothing to prove. Exit 0
    proven or standalone, 1 violated (including: no set of voters is a quorum), 2 bad
    input, 4 internal error.
    """
    old = load_zoocfg(zoo_cfg)
    new = load_zoocfg(new_cfg) if new_cfg is not None else None
    if old.standalone:
        return _standalone(old, as_json, reconfig=new is not None)
    result = analyze(old.verifier(), new.verifier() if new is not None else None,
                     standalone_enabled=old.standalone_enabled)
    info = describe(old)
    if as_json:
        click.echo(render_json(info, result, describe(new) if new is not None else None))
    else:
        click.echo(render_text(info, result, old, new))
    return EXIT_OK if result.holds else EXIT_VIOLATION
