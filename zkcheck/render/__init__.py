"""Readable counterexamples: trace files, text view, sequence charts, state graphs, HTML."""
