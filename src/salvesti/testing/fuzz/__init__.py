"""Fuzzing the parsers and the HTTP API: one engine, one target per parser.

``bench/fuzz.py`` runs every target for a million inputs or more (the nightly run) and the
suite's ``tests/fuzz/`` runs each for a few seconds, so a parser change that crashes is
caught in CI and a long hunt needs no other tool. A "crash" is any exception other than the
parser's documented error type; a "hang" is one input that takes longer than the deadline.
"""

from .engine import Finding, Mutator, Report, Target, run_target

__all__ = ["Finding", "Mutator", "Report", "Target", "run_target"]
