"""Conformance of the FLE model with a real ZooKeeper 3.8 ensemble on 127.0.0.1.

``harness`` runs the real servers, ``fle_log`` parses their election logs, ``scenarios``
scripts them, ``predict`` asks the model which leaders are possible, ``validate`` replays
the observed events in the model.
"""
