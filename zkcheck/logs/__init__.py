"""``zkcheck logs``: validate an ensemble's own ZooKeeper election logs against the model.

``layout`` parses log lines, ``sources`` reads files into per-server events, ``episodes``
cuts them into election episodes with their model inputs, ``check`` gives each episode
its verdict, ``trace`` and ``capture`` serve ``--out`` and the tests.
"""
