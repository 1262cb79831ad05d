"""Fuzzing: every parser fed property-based and hostile inputs (`tests/fuzz/corpus.py` makes
them in a temporary folder). Short run in the normal suite; `python -m tests.fuzz --long` for
the long run, which prints the number of hostile inputs per parser."""
