"""The outbox: every request to the DCC is stored before it is sent and marked done only on a
confirmed reply, so a crash, a network failure or a restart re-sends it safely.

Each item has a client reference id (unique, <= 32 characters so it fits every DCC message's
ID field) that goes out with every (re-)send: the DCC side answers a repeat with its first
answer. States: `queued` (stored; not yet confirmed by the server) -> `submitted` (the server
confirmed receipt and gave its id; waiting for results) -> `done` (results received) or
`failed` (refused for good). `next_action_at` says when the item is due again (retry after a
failure, or the next poll allowed by the rate rules).
"""

from __future__ import annotations

import builtins
import dataclasses
import re
import uuid
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import NotFound
from smki_desktop.core.ports import Clock
from smki_desktop.store.db import Database
from smki_desktop.store.repos import outbox as outbox_repo
from smki_desktop.store.repos.outbox import OutboxRow

STATES = ("queued", "submitted", "done", "failed")
KINDS = ("org-csr", "device-batch", "device-adhoc", "revocation")
_PREFIX = {"org-csr": "O", "device-batch": "B", "device-adhoc": "A", "revocation": "R"}


def new_ref(kind: str) -> str:
    """A client reference id: kind letter + 30 hex digits (31 chars, an xs:ID too)."""
    return _PREFIX.get(kind, "X") + uuid.uuid4().hex[:30]


_REF = re.compile("[" + "".join(_PREFIX.values()) + "][0-9a-f]{30}")


def is_ref(text: object) -> bool:
    """Is `text` a client reference `new_ref` makes (a kind letter and 30 lower-case hex
    digits, nothing else): what a reference read from a file must be before it names a file or
    a request."""
    return isinstance(text, str) and _REF.fullmatch(text) is not None


@dataclass(frozen=True)
class OutboxItem(OutboxRow):
    """A stored request, with what it means for the user."""

    def as_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "environment": self.environment.value, "kind": self.kind,
                "state": self.state, "attempts": self.attempts, "server_id": self.server_id,
                "server_status": self.server_status, "last_error": self.last_error,
                "next_action_at": self.next_action_at.isoformat() if self.next_action_at
                else None, "created": self.created.isoformat(), "meta": self.meta}

    @property
    def next_action(self) -> str:
        """What happens next, in plain words."""
        if self.state == "queued":
            if not self.last_error:
                return "send to the DCC"
            when = (f"retry at {self.next_action_at:%Y-%m-%d %H:%M:%S} UTC"
                    if self.next_action_at else "retry")
            return f"send to the DCC ({when}; last attempt: {self.last_error})"
        if self.kind == "revocation" and self.state == "submitted":
            return ("nothing: the DCC revoked the certificates; the next poll fetches the "
                    "CRL that confirms it")
        if self.state == "submitted" and self.server_status == "PASTE_IN_PORTAL":
            return ("paste the CSR into the SMKI Portal's form, then import the certificate "
                    "you pick up")
        if self.state == "submitted":
            when = f" at {self.next_action_at:%Y-%m-%d %H:%M} UTC" if self.next_action_at else ""
            return f"ask the DCC for results{when}"
        if self.state == "failed":
            return f"nothing: refused ({self.last_error})"
        return "nothing: complete"


def queue_in(c: Any, ref: str, env: Environment, kind: str, payload: bytes,
             meta: dict[str, Any], now: datetime) -> None:
    """Store a new queued request inside the caller's transaction `c`, so that it is written
    with the rows it belongs to or not at all."""
    if kind not in KINDS:
        raise ValueError(f"unknown outbox kind {kind!r}")
    outbox_repo.insert(c, ref, env.value, kind, payload, meta, "queued", now.isoformat())


def _item(r: OutboxRow) -> OutboxItem:
    return OutboxItem(**{f.name: getattr(r, f.name) for f in dataclasses.fields(OutboxRow)})


class Outbox:
    def __init__(self, db: Database, env: Environment, clock: Clock) -> None:
        self.db = db
        self.env = env
        self.clock = clock

    def add(self, kind: str, payload: bytes, meta: dict[str, Any] | None = None,
            ref: str | None = None) -> OutboxItem:
        if kind not in KINDS:
            raise ValueError(f"unknown outbox kind {kind!r}")
        ref = ref or new_ref(kind)
        now = self.clock.now().isoformat()
        outbox_repo.add(self.db, ref, self.env.value, kind, payload, meta or {}, "queued", now)
        return self.get(ref)

    def get(self, ref: str) -> OutboxItem:
        ref = ref.strip()
        if not ref:
            raise NotFound("Give a request reference (or a prefix of it).")
        rows = outbox_repo.with_prefix(self.db, self.env.value, ref)
        if not rows:
            raise NotFound(f"No request {ref!r} in the {self.env.label} outbox.")
        if len(rows) > 1:
            exact = [r for r in rows if r.ref == ref]
            if not exact:
                from smki_desktop.core.errors import Ambiguous
                raise Ambiguous(f"Request {ref!r} matches {len(rows)} requests: give more.")
            rows = exact
        return _item(rows[0])

    def items(self, states: Iterable[str] | None = None, kind: str | None = None
             ) -> list[OutboxItem]:
        return [_item(r) for r in outbox_repo.items(self.db, self.env.value, states, kind)]

    def due(self, state: str, now: datetime | None = None) -> builtins.list[OutboxItem]:
        at = now or self.clock.now()
        return [i for i in self.items([state])
                if i.next_action_at is None or i.next_action_at <= at]

    def _update(self, ref: str, **fields: Any) -> None:
        fields["updated"] = self.clock.now().isoformat()
        outbox_repo.update(self.db, self.env.value, ref, fields)

    def claim(self, item: OutboxItem, lease_until: datetime | None) -> bool:
        """Take `item` for sending, once across every process and workstation sharing the
        store: a compare-and-set on its attempt count, in one statement (a row lock on
        PostgreSQL, the write lock on SQLite). False when another sender took it first. The
        lease (its next action time; None keeps it) makes it due again if the sender dies
        mid-send."""
        return outbox_repo.claim(self.db, self.env.value, item.ref, item.attempts,
                                 lease_until.isoformat() if lease_until else None,
                                 self.clock.now().isoformat())

    def sending(self, ref: str) -> AbstractContextManager[bool]:
        """Hold `ref` for sending while the block runs (True: this sender has it). On a team
        store the hold ends with the sender's connection, so a killed sender's request is due
        again at once; on SQLite the data folder's send lock does that."""
        return outbox_repo.sending(self.db, self.env.value, ref)

    def note_attempt(self, ref: str) -> None:
        outbox_repo.note_attempt(self.db, ref)

    def mark_submitted(self, ref: str, server_id: str, server_status: str,
                       next_action_at: datetime | None) -> None:
        self._update(ref, state="submitted", server_id=server_id, server_status=server_status,
                     last_error=None, next_action_at=next_action_at.isoformat()
                     if next_action_at else None)

    def mark_polled(self, ref: str, server_status: str, next_action_at: datetime) -> None:
        self._update(ref, server_status=server_status, last_error=None,
                     last_poll_at=self.clock.now().isoformat(),
                     next_action_at=next_action_at.isoformat())

    def mark_done(self, ref: str, server_status: str, result: bytes | None,
                  meta: dict[str, Any] | None = None) -> None:
        extra: dict[str, Any] = {}
        if meta is not None:
            extra["meta"] = meta
        self._update(ref, state="done", server_status=server_status, result=result,
                     last_error=None, next_action_at=None, **extra)

    def mark_failed(self, ref: str, error: str, server_status: str | None = None) -> None:
        self._update(ref, state="failed", last_error=error, server_status=server_status,
                     next_action_at=None)

    def defer(self, ref: str, error: str | None, retry_at: datetime) -> None:
        self._update(ref, last_error=error, next_action_at=retry_at.isoformat())
