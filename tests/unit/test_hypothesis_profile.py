"""The property tests are repeatable: the same examples on every run unless asked otherwise
(tests/conftest.py), so a CI result depends on the code alone."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

drawn: list[int] = []


@given(st.integers())
@settings(max_examples=5)
def _draw(n: int) -> None:
    drawn.append(n)


def test_property_tests_draw_the_same_examples_each_time() -> None:
    if os.environ.get("SMKI_HYPOTHESIS_RANDOM") == "1":
        assert settings.default.derandomize is False
        return
    assert settings.default.derandomize is True
    assert settings.default.database is None
    drawn.clear()
    _draw()
    first = list(drawn)
    drawn.clear()
    _draw()
    assert drawn == first and len(first) == 5


def test_the_long_fuzz_run_still_draws_afresh() -> None:
    from hypothesis import settings as s

    from tests.fuzz.harness import FUZZ

    assert s.get_profile("long").derandomize is False
    assert s.get_profile("short").derandomize is True
    assert FUZZ.database is None
