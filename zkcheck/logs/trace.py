"""The ``zkcheck explore`` options that rebuild an episode's model, for trace.json files
that ``zkcheck replay`` can check again."""

from __future__ import annotations

from typing import Any

from zkcheck.model.config import ModelConfig


def model_options(config: ModelConfig, zk_version: str, variant_flags: tuple[str, ...]
                  ) -> dict[str, Any]:
    """``build_fle_model`` keyword options equal to ``config`` (an episode's model)."""
    b, f = config.bounds, config.faults
    return {
        "servers": len(config.servers), "scenario": config.scenario, "leader": config.leader,
        "zxid": [f"{sid}={init.last_zxid[0]}:{init.last_zxid[1]}" for sid, init in config.initial],
        "epoch": [f"{sid}={init.current_epoch}:{init.accepted_epoch}"
                  for sid, init in config.initial],
        "late": sorted(config.late), "rounds": [f"{s}={r}" for s, r in config.rounds],
        "max_round": b.max_round, "timeouts": b.timeouts, "wire_capacity": b.wire_capacity,
        "crashes": f.crashes, "restarts": f.restarts, "reconnects": f.reconnects,
        "zk_version": zk_version, "variant_flags": list(variant_flags),
    } | ({"nonatomic_replies": True} if b.nonatomic_replies else {})
