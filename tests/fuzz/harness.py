"""The one rule every fuzz test applies: a parser given hostile input either returns or raises
one of our `SmkiError` types, within a time bound, and writes nothing outside its folder.

`clean_end(parser, fn, data)` runs `fn(data)` under that rule and counts the input for the
figures (`TALLY`, written to `$SMKI_FUZZ_REPORT` or printed by the long run)."""

from __future__ import annotations

import os
import signal
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings

from smki_desktop.core.errors import InputError, SmkiError

T = TypeVar("T")

LONG = os.environ.get("SMKI_FUZZ", "short").lower() == "long"
# per-input time bound: generous for a shared 2-core machine; a hang is far beyond it
TIME_BOUND = float(os.environ.get("SMKI_FUZZ_TIME_BOUND", "10"))

settings.register_profile("short", max_examples=40, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.function_scoped_fixture])
settings.register_profile("long", max_examples=2000, deadline=None, derandomize=False,
                          database=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.function_scoped_fixture])
FUZZ = settings.get_profile("long" if LONG else "short")

TALLY: Counter[str] = Counter()
"""Hostile inputs per parser in this run."""


class Hang(Exception):
    """An input took longer than the time bound."""


@contextmanager
def time_bound(seconds: float = TIME_BOUND) -> Iterator[None]:
    """Raise `Hang` in the main thread after `seconds` (SIGALRM; pytest runs tests there)."""
    def _alarm(signum: int, frame: Any) -> None:
        raise Hang(f"no answer within {seconds:.0f} s")

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


class NotClean(AssertionError):
    """A parser ended in something other than a result or a clear message."""


def clean_end(parser: str, fn: Callable[[T], Any], data: T, *,
              input_error: bool = False) -> SmkiError | None:
    """Run `fn(data)`; return None on success or the `SmkiError` raised. Anything else (an
    uncaught exception = a traceback for the user, a hang, an empty message) fails the test
    naming the parser and the input. With `input_error`, an error must be an `InputError`
    (exit 2) rather than another SmkiError."""
    TALLY[parser] += 1
    started = time.monotonic()
    try:
        with time_bound():
            fn(data)
    except SmkiError as exc:
        if not (exc.message or "").strip():
            raise NotClean(f"{parser}: empty message for input {_show(data)}") from exc
        if input_error and not isinstance(exc, InputError):
            raise NotClean(f"{parser}: {type(exc).__name__} (exit {exc.exit_code}) instead of "
                           f"InputError for input {_show(data)}: {exc.message}") from exc
        return exc
    except Hang as exc:
        raise NotClean(f"{parser}: hang ({exc}) on input {_show(data)}") from None
    except RecursionError as exc:
        raise NotClean(f"{parser}: RecursionError on input {_show(data)}") from exc
    except Exception as exc:
        tb = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        raise NotClean(f"{parser}: traceback ({tb}) on input {_show(data)}") from exc
    finally:
        elapsed = time.monotonic() - started
        if elapsed > TIME_BOUND:  # a C-level loop the alarm could not interrupt
            raise NotClean(f"{parser}: {elapsed:.1f} s on input {_show(data)}")
    return None


def _show(data: object) -> str:
    if isinstance(data, (bytes, str)):
        text = repr(data[:120])
        return text + (f"... ({len(data):,} long)" if len(data) > 120 else "")
    if isinstance(data, Path):
        return str(data)
    return repr(data)[:200]


def snapshot(folder: Path) -> set[Path]:
    """Every path under `folder` (to show that nothing was written outside a chosen folder)."""
    return set(folder.rglob("*"))
