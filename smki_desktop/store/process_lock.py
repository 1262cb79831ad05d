"""An advisory lock between processes on one data folder (`fcntl.flock` on a lock file).

Used where a database write and an OS-keyring write must happen as one step for every process
sharing the folder: the audit log's signed row and the head the keyring keeps. Without it, two
`smki` processes could commit rows 10 and 11 and then write the keyring's head in the other
order, leaving it one row behind. Where `fcntl` does not exist (Windows) or the lock file cannot
be opened (a read-only folder, whose database write fails with its own message anyway), the
lock is a no-op.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

try:  # a standard-library module that exists only on POSIX systems
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


@contextlib.contextmanager
def process_lock(path: Path) -> Iterator[None]:
    if fcntl is None:
        yield
        return
    try:
        f = open(path, "a+b")  # noqa: SIM115 - held for the whole block
    except OSError:
        yield
        return
    with f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
