"""One reading of the audit log's keyring anchor for the proofs of one user action
(`AuditLog.one_reading`).

Every proof that a record was written by SMKI Desktop (`AuditLog.vouched`, `vouched_at`) is
checked against the anchor the OS keyring holds: this installation's writer key and its last
record (head), which tell a forged or cut log. Reading it is a D-Bus round trip; one action
made several (`adt sign`: for the validation receipt, the trust anchors and the portal
endpoint's anchor). Inside `block()` the first proof reads it and the others of the same action
on the same thread are checked against that reading. Nothing outlives the block, nothing comes
from the store, and a record written inside it ends the reading (`moved`): the next proof reads
the keyring again. Writing never uses it (`AuditLog._writer` reads afresh under its lock).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")


class AnchorReading(Generic[T]):
    """`load` read at most once per open block and thread (its result, None included)."""

    def __init__(self, load: Callable[[], T]) -> None:
        self._load = load
        self._local = threading.local()

    @contextmanager
    def block(self) -> Iterator[None]:
        """Open a reading on this thread; a nested block joins the open one."""
        if getattr(self._local, "open", False):
            yield
            return
        self._local.open, self._local.value = True, None
        try:
            yield
        finally:
            self._local.open, self._local.value = False, None

    def get(self) -> T:
        """Inside a block: the reading (made now if this is its first proof); outside: `load`."""
        if not getattr(self._local, "open", False):
            return self._load()
        if self._local.value is None:
            self._local.value = (self._load(),)
        return self._local.value[0]  # type: ignore[no-any-return]

    def moved(self) -> None:
        """The keyring's anchor was written (a record): the next proof reads it again."""
        self._local.value = None
