"""The DCC's rate rules and time windows (Europe/London local time), pure and clock-injected.

- Ad hoc Device CSRs: at most 1 request per 0.8 s from 07:00 to 20:00, 1 per 4 s otherwise.
- Batch polling: at most once an hour per batch.
- Batch processing window: 20:00 to 08:00 (batches wait as QUEUED outside it).

The `Scheduler` is asked before each call and raises a typed `Throttled` (with the UTC time at
which to retry) instead of letting the caller break a rule; the caller never sleeps on its own
judgement. Times in and out are timezone-aware UTC; windows are evaluated in London time, so
the summer-time changes are handled by `zoneinfo`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from smki_desktop.core.portal_ports import OutsideWindow, Throttled
from smki_desktop.core.ports import Clock

LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class RateRules:
    adhoc_day_interval: timedelta = timedelta(seconds=0.8)
    adhoc_night_interval: timedelta = timedelta(seconds=4)
    day_start: time = time(7, 0)
    day_end: time = time(20, 0)
    batch_poll_interval: timedelta = timedelta(hours=1)
    processing_start: time = time(20, 0)
    processing_end: time = time(8, 0)


def _local(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("schedule times must be timezone-aware")
    return at.astimezone(LONDON)


def _in_window(t: time, start: time, end: time) -> bool:
    if start <= end:
        return start <= t < end
    return t >= start or t < end  # the window wraps past midnight


def is_daytime(rules: RateRules, at: datetime) -> bool:
    return _in_window(_local(at).time(), rules.day_start, rules.day_end)


def adhoc_interval(rules: RateRules, at: datetime) -> timedelta:
    """The minimum gap between ad hoc requests that applies at `at`."""
    return rules.adhoc_day_interval if is_daytime(rules, at) else rules.adhoc_night_interval


def in_processing_window(rules: RateRules, at: datetime) -> bool:
    return _in_window(_local(at).time(), rules.processing_start, rules.processing_end)


def next_window_start(start: time, at: datetime) -> datetime:
    """The next time (UTC) the London clock reads `start` at or after `at`."""
    local = _local(at)
    candidate = datetime.combine(local.date(), start, tzinfo=LONDON)
    if candidate < local:
        candidate = datetime.combine(local.date() + timedelta(days=1), start, tzinfo=LONDON)
    return candidate.astimezone(UTC)


def next_processing_start(rules: RateRules, at: datetime) -> datetime:
    if in_processing_window(rules, at):
        return at.astimezone(UTC)
    return next_window_start(rules.processing_start, at)


def next_adhoc_at(rules: RateRules, last: datetime | None, now: datetime) -> datetime | None:
    """None if an ad hoc request may go now, else the UTC time it may go."""
    if last is None:
        return None
    due = last + adhoc_interval(rules, now)
    return None if now >= due else due.astimezone(UTC)


def next_poll_at(rules: RateRules, last_poll: datetime | None, now: datetime) -> datetime | None:
    if last_poll is None:
        return None
    due = last_poll + rules.batch_poll_interval
    return None if now >= due else due.astimezone(UTC)


class Scheduler:
    """Admits calls under the rate rules. State (last ad hoc call; last poll per batch) is held
    by the caller's store through the two callbacks, so that the rules survive restarts."""

    def __init__(self, clock: Clock, rules: RateRules | None = None, *,
                 load: Callable[[str], datetime | None] | None = None,
                 save: Callable[[str, datetime], None] | None = None) -> None:
        self.clock = clock
        self.rules = rules or RateRules()
        self._mem: dict[str, datetime] = {}
        self._load = load or self._mem.get
        self._save = save or self._mem.__setitem__

    def admit_adhoc(self) -> datetime:
        """Record and allow an ad hoc request now, or raise `Throttled`."""
        now = self.clock.now()
        due = next_adhoc_at(self.rules, self._load("adhoc"), now)
        if due is not None:
            gap = adhoc_interval(self.rules, now).total_seconds()
            raise Throttled(f"Ad hoc Device CSRs are limited to 1 per {gap:g} s at this time of "
                            f"day (Europe/London); next at {due:%H:%M:%S.%f} UTC.", due)
        self._save("adhoc", now)
        return now

    def admit_poll(self, batch_id: str, last_poll: datetime | None = None) -> datetime:
        """Record and allow a poll of `batch_id` now, or raise `Throttled` (at most hourly)."""
        now = self.clock.now()
        last = last_poll if last_poll is not None else self._load(f"poll:{batch_id}")
        due = next_poll_at(self.rules, last, now)
        if due is not None:
            raise Throttled(f"Batch {batch_id} was polled at {last:%H:%M} UTC; the DCC allows "
                            f"one poll an hour: next at {due:%H:%M} UTC.", due)
        self._save(f"poll:{batch_id}", now)
        return now

    def require_window(self, start: time, end: time, what: str) -> None:
        """Raise `OutsideWindow` unless London time is inside [start, end)."""
        now = self.clock.now()
        if not _in_window(_local(now).time(), start, end):
            at = next_window_start(start, now)
            raise OutsideWindow(f"{what} is available {start:%H:%M}-{end:%H:%M} Europe/London "
                                f"only; next at {at:%Y-%m-%d %H:%M} UTC.", at)
