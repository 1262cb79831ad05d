"""Rate rules and windows in Europe/London time, with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smki_desktop.core import schedule as S
from smki_desktop.core.portal_ports import OutsideWindow, Throttled
from smki_desktop.core.ports import FixedClock


def test_adhoc_rate_follows_london_time_of_day_in_winter() -> None:
    clock = FixedClock(datetime(2026, 1, 15, 12, 0, tzinfo=UTC))  # GMT: 12:00 London, daytime
    sch = S.Scheduler(clock)
    sch.admit_adhoc()
    clock.advance(seconds=0.5)
    with pytest.raises(Throttled) as exc:
        sch.admit_adhoc()
    assert exc.value.retry_at == datetime(2026, 1, 15, 12, 0, 0, 800000, tzinfo=UTC)
    clock.advance(seconds=0.3)
    sch.admit_adhoc()  # 0.8 s later: allowed
    # night: 1 per 4 s
    clock.at = datetime(2026, 1, 15, 22, 0, tzinfo=UTC)
    sch.admit_adhoc()
    clock.advance(seconds=3.9)
    with pytest.raises(Throttled, match="1 per 4 s"):
        sch.admit_adhoc()
    clock.advance(seconds=0.1)
    sch.admit_adhoc()


def test_summer_time_boundary_uses_london_not_utc() -> None:
    rules = S.RateRules()
    # 06:30 UTC in July is 07:30 BST: daytime; in January 06:30 UTC is 06:30 GMT: night.
    assert S.adhoc_interval(rules, datetime(2026, 7, 1, 6, 30, tzinfo=UTC)) == \
        timedelta(seconds=0.8)
    assert S.adhoc_interval(rules, datetime(2026, 1, 1, 6, 30, tzinfo=UTC)) == \
        timedelta(seconds=4)
    # 19:30 UTC in July is 20:30 BST: night
    assert S.adhoc_interval(rules, datetime(2026, 7, 1, 19, 30, tzinfo=UTC)) == \
        timedelta(seconds=4)


def test_second_poll_within_the_hour_is_throttled() -> None:
    clock = FixedClock(datetime(2026, 3, 2, 21, 0, tzinfo=UTC))
    sch = S.Scheduler(clock)
    sch.admit_poll("42")
    clock.advance(minutes=59)
    with pytest.raises(Throttled) as exc:
        sch.admit_poll("42")
    assert exc.value.retry_at == datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
    sch.admit_poll("43")  # another batch has its own hour
    clock.advance(minutes=1)
    sch.admit_poll("42")


def test_state_survives_through_callbacks() -> None:
    store: dict[str, datetime] = {}
    clock = FixedClock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    S.Scheduler(clock, load=store.get, save=store.__setitem__).admit_poll("7")
    with pytest.raises(Throttled):
        S.Scheduler(clock, load=store.get, save=store.__setitem__).admit_poll("7")


def test_processing_window_wraps_midnight() -> None:
    rules = S.RateRules()
    assert S.in_processing_window(rules, datetime(2026, 1, 5, 23, 0, tzinfo=UTC))
    assert S.in_processing_window(rules, datetime(2026, 1, 5, 7, 59, tzinfo=UTC))
    assert not S.in_processing_window(rules, datetime(2026, 1, 5, 8, 0, tzinfo=UTC))
    # July: 19:30 UTC = 20:30 BST, inside
    assert S.in_processing_window(rules, datetime(2026, 7, 5, 19, 30, tzinfo=UTC))
    assert S.next_processing_start(rules, datetime(2026, 7, 5, 12, 0, tzinfo=UTC)) == \
        datetime(2026, 7, 5, 19, 0, tzinfo=UTC)


def test_outside_window_is_typed_and_says_when() -> None:
    from datetime import time
    clock = FixedClock(datetime(2026, 1, 5, 12, 0, tzinfo=UTC))
    sch = S.Scheduler(clock)
    with pytest.raises(OutsideWindow) as exc:
        sch.require_window(time(20, 0), time(8, 0), "Batch processing")
    assert exc.value.retry_at == datetime(2026, 1, 5, 20, 0, tzinfo=UTC)
    assert isinstance(exc.value, Throttled)
