"""Fuzz run figures: the hostile inputs per parser, printed by the long run (and written to
$SMKI_FUZZ_REPORT when set). The hypothesis profile (SMKI_FUZZ=short|long) is applied per
test by `harness.FUZZ`, so other tests' hypothesis settings are not changed."""

from __future__ import annotations

import json
import os

import pytest

from tests.fuzz.harness import LONG, TALLY


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TALLY:
        return
    out = os.environ.get("SMKI_FUZZ_REPORT")
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            json.dump(dict(sorted(TALLY.items())), fh, indent=1)
    if LONG or out:
        terminalreporter.section("hostile inputs per parser")
        for name, n in sorted(TALLY.items()):
            terminalreporter.write_line(f"{n:>8,}  {name}")
        terminalreporter.write_line(f"{sum(TALLY.values()):>8,}  in all")
