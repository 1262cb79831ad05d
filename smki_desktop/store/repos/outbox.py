"""The portal outbox's rows (`portal_outbox`): every request to the DCC, stored before it is
sent, with its state, attempts, server id and result. Typed rows out (`OutboxRow`); the
outbox itself (`portal/outbox.py`) keeps the states and their meaning."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import Refusal
from smki_desktop.store.db import Database, StoreError

#: the columns `update` may change
UPDATABLE = frozenset({"state", "server_id", "server_status", "result", "last_error",
                       "next_action_at", "last_poll_at", "meta"})


@dataclass(frozen=True)
class OutboxRow:
    ref: str
    environment: Environment
    kind: str
    payload: bytes
    meta: dict[str, Any]
    state: str
    attempts: int
    server_id: str | None
    server_status: str | None
    result: bytes | None
    last_error: str | None
    next_action_at: datetime | None
    last_poll_at: datetime | None
    created: datetime
    updated: datetime


def _dt(v: str | None) -> datetime | None:
    return datetime.fromisoformat(v) if v else None


def _row(r: Any) -> OutboxRow:
    return OutboxRow(r["ref"], Environment(r["environment"]), r["kind"], bytes(r["payload"]),
                     json.loads(r["meta"]), r["state"], int(r["attempts"]), r["server_id"],
                     r["server_status"], bytes(r["result"]) if r["result"] is not None
                     else None, r["last_error"], _dt(r["next_action_at"]),
                     _dt(r["last_poll_at"]), datetime.fromisoformat(r["created"]),
                     datetime.fromisoformat(r["updated"]))


def insert(c: Any, ref: str, env: str, kind: str, payload: bytes, meta: dict[str, Any],
           state: str, now: str) -> None:
    """Store a new request inside the caller's transaction `c` (with the rows it belongs to)."""
    c.execute("INSERT INTO portal_outbox(ref, environment, kind, payload, meta, state, "
              "created, updated) VALUES (?,?,?,?,?,?,?,?)",
              (ref, env, kind, payload, json.dumps(meta), state, now, now))


def add(db: Database, ref: str, env: str, kind: str, payload: bytes, meta: dict[str, Any],
        state: str, now: str) -> None:
    """Store a new request; a reference already in the outbox is refused."""
    try:
        with db.transaction() as c:
            insert(c, ref, env, kind, payload, meta, state, now)
    except sqlite3.IntegrityError:
        raise Refusal(f"Request {ref} is already in the outbox: each request has its own "
                      "reference.") from None


def with_prefix(db: Database, env: str, prefix: str) -> list[OutboxRow]:
    """This environment's requests whose reference starts with `prefix` (taken literally,
    case-insensitively)."""
    return [_row(r) for r in db.conn().execute(
        "SELECT * FROM portal_outbox WHERE environment=? AND lower(substr(ref, 1, ?)) = "
        "lower(?)",
        (env, len(prefix), prefix)).fetchall()]


def items(db: Database, env: str, states: Iterable[str] | None = None,
          kind: str | None = None) -> list[OutboxRow]:
    """This environment's requests (in these states, of this kind), oldest first."""
    sql = "SELECT * FROM portal_outbox WHERE environment=?"
    params: list[Any] = [env]
    if states is not None:
        st = list(states)
        sql += f" AND state IN ({','.join('?' * len(st))})" if st else " AND 1=0"
        params += st
    if kind:
        sql += " AND kind=?"
        params.append(kind)
    sql += " ORDER BY created, ref"
    return [_row(r) for r in db.conn().execute(sql, params)]


def update(db: Database, env: str, ref: str, fields: dict[str, Any]) -> None:
    """Change some columns of a request (`UPDATABLE`; datetimes as ISO text, `meta` as a
    dict) and stamp `updated` (required in `fields`)."""
    values: dict[str, Any] = {}
    for k, v in fields.items():
        if k not in UPDATABLE and k != "updated":
            raise ValueError(f"portal_outbox.{k} is not updatable")
        if isinstance(v, datetime):
            v = v.isoformat()
        elif k == "meta" and v is not None:
            v = json.dumps(v)
        values[k] = v
    cols = ", ".join(f"{k}=?" for k in values)
    with db.transaction() as c:
        c.execute(f"UPDATE portal_outbox SET {cols} WHERE ref=? AND environment=?",
                  [*values.values(), ref, env])


def note_attempt(db: Database, ref: str) -> None:
    with db.transaction() as c:
        c.execute("UPDATE portal_outbox SET attempts = attempts + 1 WHERE ref=?", (ref,))


def claim(db: Database, env: str, ref: str, attempts: int, lease_until: str | None,
          now: str) -> bool:
    """Compare-and-set on the attempt count, in one statement (a row lock on PostgreSQL, the
    write lock on SQLite): True when this caller took the queued item, False when another
    sender took it first."""
    with db.transaction() as c:
        cur = c.execute(
            "UPDATE portal_outbox SET attempts = attempts + 1, "
            "next_action_at=COALESCE(?, next_action_at), updated=? "
            "WHERE ref=? AND environment=? AND state='queued' AND attempts=?",
            (lease_until, now, ref, env, attempts))
        return bool(cur.rowcount == 1)


@contextmanager
def sending(db: Database, env: str, ref: str) -> Iterator[bool]:
    """Hold a request for sending while the block runs: True when this sender has it, False
    when another live sender does. On a team store: a session advisory lock on this thread's
    connection, which ends with the block or with the sender's connection, so a killed
    sender's request is sent again at once by the next sender (the DCC answers a re-sent
    reference with its first answer), as the data folder's lock file gives on SQLite (there
    this yields True: the caller holds that lock)."""
    if db.backend == "sqlite":
        yield True
        return
    key = int.from_bytes(hashlib.sha256(f"outbox:{env}:{ref}".encode()).digest()[:8], "big",
                         signed=True)
    c = db.conn()
    row = c.execute("SELECT pg_try_advisory_lock(?) AS got", (key,)).fetchone()
    got = bool(row is not None and row["got"])
    try:
        yield got
    finally:
        if got:
            try:
                c.execute("SELECT pg_advisory_unlock(?)", (key,))
            except StoreError:
                pass  # the connection is gone, and the lock with it
