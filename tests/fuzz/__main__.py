"""`python -m tests.fuzz [--long]`: run the fuzz tests (long: SMKI_FUZZ=long, thousands of
inputs per parser) and print the hostile inputs per parser."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest


def main(argv: list[str]) -> int:
    if "--long" in argv:
        os.environ["SMKI_FUZZ"] = "long"
        argv = [a for a in argv if a != "--long"]
    os.environ.setdefault("SMKI_FUZZ_REPORT", str(Path.cwd() / "fuzz-figures.json"))
    here = Path(__file__).parent
    return int(pytest.main(["-q", "-p", "no:cacheprovider", "-o", "timeout=3600",
                            str(here), *argv]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
