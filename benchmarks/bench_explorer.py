"""Explorer speed and store size on a toy model with cheap successors.

Prints distinct states/s (target: >= 200,000 in one process), generated states/s, and the
visited store's bytes per state (fingerprint, parent, action label; the frontier of full
states is not counted; target: <= 32). Run: ``.venv/bin/python benchmarks/bench_explorer.py``.
"""

from __future__ import annotations

import platform
import sys

from zkcheck.explorer import explore
from zkcheck.model.toys import Grid


def main(side: int = 1000) -> None:
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
          f"Python {sys.version.split()[0]}")
    for search in ("bfs", "dfs"):
        best = None
        for _ in range(3):
            result = explore(Grid(side, side), search=search)
            if best is None or result.stats.elapsed < best.stats.elapsed:
                best = result
        s = best.stats
        print(f"grid:{side},{side} {search}: {s.distinct:,} distinct, {s.generated:,} generated "
              f"in {s.elapsed:.2f}s -> {s.states_per_second:,.0f} distinct/s, "
              f"{s.generated / s.elapsed:,.0f} generated/s, store {s.bytes_per_state:.1f} "
              f"bytes/state, collision probability {s.collision_probability:.1e}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
