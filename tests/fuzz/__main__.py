"""`python -m tests.fuzz [--long] [pytest options]`: run the fuzz tests (long: SMKI_FUZZ=long,
about 2,000 generated inputs per property besides the fixed corpus) and print the hostile
inputs per parser (also written as JSON to $SMKI_FUZZ_REPORT when set)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest


def main(argv: list[str]) -> int:
    if "--long" in argv:
        os.environ["SMKI_FUZZ"] = "long"
        argv = [a for a in argv if a != "--long"]
    here = Path(__file__).parent
    return int(pytest.main(["-q", "-p", "no:cacheprovider", "-o", "timeout=3600",
                            str(here), *argv]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
