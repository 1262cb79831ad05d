"""docs/team-suite.md's tally is counted from pytest's report (tests/support/suite_tally.py)."""

from __future__ import annotations

from tests.support.suite_tally import rows, tally

REPORT = """\
........F
PASSED tests/unit/test_a.py::test_one
PASSED tests/unit/test_a.py::test_two[postgres]
FAILED tests/integration/test_b.py::test_three - assert 2 == 1
ERROR tests/integration/test_b.py::test_four - RuntimeError
PASSED tests/integration/test_b.py::test_five
PASSED  not a test line
"""


def test_each_file_counts_its_outcomes_and_the_total_adds_up() -> None:
    files = tally(REPORT)
    assert list(files) == ["tests/integration/test_b.py", "tests/unit/test_a.py"]
    assert files["tests/integration/test_b.py"] == {"PASSED": 1, "FAILED": 1, "ERROR": 1}
    table = rows(files)
    assert "| `tests/integration/test_b.py` | 3 | 1 | 2 |" in table
    assert "| `tests/unit/test_a.py` | 2 | 2 |  |" in table
    assert table[-1] == "| **2 files** | **5** | **3** | **2** |"
