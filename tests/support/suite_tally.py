"""The per-file tally of docs/team-suite.md, made from a pytest run's report, never by hand.

    SMKI_TEST_BACKEND=postgres .venv/bin/python -m pytest -q -rA \\
        -m "uses_store and not both_backends" > run.log
    .venv/bin/python -m tests.support.suite_tally run.log

prints one Markdown row per test file: how many of its tests ran in that pass, and how many
passed, failed or errored (a test's parameters count as tests, as pytest counts them).
"""

from __future__ import annotations

import collections
import re
import sys
from pathlib import Path

_OUTCOME = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (tests/[^:\s]+)")


def tally(report: str) -> dict[str, collections.Counter[str]]:
    files: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for line in report.splitlines():
        m = _OUTCOME.match(line)
        if m:
            files[m.group(2)][m.group(1)] += 1
    return dict(sorted(files.items()))


def rows(files: dict[str, collections.Counter[str]]) -> list[str]:
    out = ["| test file | tests | passed | failed or error |", "|---|---:|---:|---:|"]
    for name, c in files.items():
        bad = c["FAILED"] + c["ERROR"]
        out.append(f"| `{name}` | {sum(c.values())} | {c['PASSED']} | {bad or ''} |")
    total = collections.Counter[str]()
    for c in files.values():
        total.update(c)
    out.append(f"| **{len(files)} files** | **{sum(total.values())}** | **{total['PASSED']}** "
               f"| **{total['FAILED'] + total['ERROR']}** |")
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    print("\n".join(rows(tally(Path(argv[0]).read_text(errors="replace")))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
