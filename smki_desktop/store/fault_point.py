"""A named point where a test can stop a real process, to kill it there (issue 16).

`SMKI_FAULT_STALL=<point>` makes the process that reaches `<point>` create the file named by
`SMKI_FAULT_STALL_FILE` and wait there (up to ten minutes) for the test to kill it. Unset (every
real run) it costs one environment look-up. The points sit inside the write transaction of a
user action, just before its audit record is written: a kill there must leave neither the
change nor its record (tests/integration/test_atomic_actions.py).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

STALL = "SMKI_FAULT_STALL"
STALL_FILE = "SMKI_FAULT_STALL_FILE"


def reached(point: str) -> None:
    """Stop here if the environment names this point (a test then kills the process)."""
    if os.environ.get(STALL) != point:
        return
    marker = os.environ.get(STALL_FILE)
    if marker:
        Path(marker).write_text(f"{os.getpid()}\n")
    time.sleep(600)
