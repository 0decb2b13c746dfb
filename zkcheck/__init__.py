"""zkcheck: a model checker for ZooKeeper's Fast Leader Election."""

from zkcheck import _native

_native.install()  # compiled hot modules, or the interpreted ones (see zkcheck/_native.py)
