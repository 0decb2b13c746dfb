"""zkcheck: a model checker for ZooKeeper's Fast Leader Election."""

import os

# numpy here sorts and searches fingerprint arrays and never multiplies matrices, but its
# OpenBLAS starts a thread per core that busy-waits after start-up (1.2-1.6% of a
# profiled default run's CPU, taken from the search on a 2-core machine). Only where the
# user has not chosen, and only before numpy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from zkcheck import _native  # noqa: E402

_native.install()  # compiled hot modules, or the interpreted ones (see zkcheck/_native.py)
