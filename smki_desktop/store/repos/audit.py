"""The audit log's rows and its registered writers: typed rows in and out."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from smki_desktop.core.audit import StoredRow
from smki_desktop.store.db import Database


@dataclass(frozen=True)
class WriterRow:
    writer_id: str
    public_key: bytes
    installation_id: str
    environment: str
    registered: str


def _text(v: object) -> str:
    """A column as the text the app wrote. SQLite keeps whatever type a tampered row holds; a
    BLOB or number becomes a marker that can never match a hash or signature, so verification
    reports the row instead of crashing."""
    if isinstance(v, str):
        return v
    if v is None:
        return ""
    if isinstance(v, bytes):
        return "\x00blob:" + v.hex()
    return "\x00" + type(v).__name__ + ":" + str(v)


def _row(r: sqlite3.Row) -> StoredRow:
    seq = r["seq"]
    return StoredRow(seq if isinstance(seq, int) else -1, *(_text(r[k]) for k in (
        "ts", "environment", "actor", "action", "details", "artifacts", "prev_hash", "hash",
        "writer", "sig")))


def _like(text: str) -> str:
    """`text` as a LIKE pattern that matches only itself (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _last(c: sqlite3.Connection) -> StoredRow | None:
    r = c.execute("SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    return _row(r) if r else None


def _at(c: sqlite3.Connection, seq: int) -> StoredRow | None:
    r = c.execute("SELECT * FROM audit_log WHERE seq=?", (seq,)).fetchone()
    return _row(r) if r else None


def _writer(c: sqlite3.Connection, writer_id: str) -> WriterRow | None:
    r = c.execute("SELECT * FROM audit_writers WHERE writer_id=?", (writer_id,)).fetchone()
    if r is None:
        return None
    return WriterRow(r["writer_id"], bytes(r["public_key"]), r["installation_id"],
                     r["environment"], r["registered"])


class AuditWrite:
    """The log's reads and writes inside one write transaction (`AuditRepo.writing`): the row
    appended follows the last row read in the same transaction, and a writer registered there
    is committed with it. The service never holds the connection."""

    def __init__(self, c: sqlite3.Connection) -> None:
        self._c = c

    def last(self) -> StoredRow | None:
        return _last(self._c)

    def at(self, seq: int) -> StoredRow | None:
        return _at(self._c, seq)

    def writer(self, writer_id: str) -> WriterRow | None:
        return _writer(self._c, writer_id)

    def first_signed(self) -> StoredRow | None:
        """The log's first row that carries a writer signature (where signing started)."""
        r = self._c.execute("SELECT * FROM audit_log WHERE sig <> '' ORDER BY seq "
                            "LIMIT 1").fetchone()
        return _row(r) if r else None

    def append(self, row: StoredRow) -> None:
        self._c.execute(
            "INSERT INTO audit_log(seq,ts,environment,actor,action,details,artifacts,"
            "prev_hash,hash,writer,sig) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
            (row.seq, row.ts, row.environment, row.actor, row.action, row.details_json,
             row.artifacts_json, row.prev_hash, row.hash, row.writer, row.sig),
        )

    def add_writer(self, w: WriterRow) -> None:
        self._c.execute(
            "INSERT INTO audit_writers(writer_id, public_key, installation_id, "
            "environment, registered) VALUES(?,?,?,?,?) ON CONFLICT(writer_id) DO NOTHING",
            (w.writer_id, w.public_key, w.installation_id, w.environment, w.registered),
        )


class AuditRepo:
    """The audit log of one Database: reads, and `writing()` for a change."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @contextmanager
    def writing(self) -> Iterator[AuditWrite]:
        """One write transaction: all of it is written, or none of it."""
        with self.db.transaction() as c:
            yield AuditWrite(c)

    def last(self) -> StoredRow | None:
        return _last(self.db.conn())

    def at(self, seq: int) -> StoredRow | None:
        return _at(self.db.conn(), seq)

    def rows(self) -> list[StoredRow]:
        return [_row(r) for r in self.db.conn().execute("SELECT * FROM audit_log ORDER BY seq")]

    def newest(self, limit: int | None, action_prefix: str) -> list[StoredRow]:
        sql = "SELECT * FROM audit_log"
        params: list[object] = []
        if action_prefix:
            sql += " WHERE action LIKE ? ESCAPE '\\'"
            params.append(action_prefix.replace("\\", "\\\\").replace("%", "\\%")
                          .replace("_", "\\_") + "%")
        sql += " ORDER BY seq DESC"
        if limit:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [_row(r) for r in self.db.conn().execute(sql, params)]

    def writer(self, writer_id: str) -> WriterRow | None:
        return _writer(self.db.conn(), writer_id)

    def last_by(self, writer_id: str, action: str) -> StoredRow | None:
        """The last row of `action` signed by `writer_id`."""
        r = self.db.conn().execute("SELECT * FROM audit_log WHERE writer=? AND action=? "
                                   "ORDER BY seq DESC LIMIT 1", (writer_id, action)).fetchone()
        return _row(r) if r else None

    def last_of(self, action: str, environment: str) -> StoredRow | None:
        """The last row of `action` in `environment`, whoever signed it (or nobody)."""
        r = self.db.conn().execute("SELECT * FROM audit_log WHERE action=? AND environment=? "
                                   "ORDER BY seq DESC LIMIT 1",
                                   (action, environment)).fetchone()
        return _row(r) if r else None

    def of_actions(self, actions: tuple[str, ...]) -> list[StoredRow]:
        """Every row whose action is one of `actions`, in log order."""
        if not actions:
            return []
        marks = ",".join("?" * len(actions))
        return [_row(r) for r in self.db.conn().execute(
            f"SELECT * FROM audit_log WHERE action IN ({marks}) ORDER BY seq", actions)]

    def naming(self, actions: tuple[str, ...], key: str, values: list[str]) -> list[StoredRow]:
        """The rows of `actions` whose details name one of `values` under `key` (as the log
        writes them: `"key": "value"`), in log order: one query, however long the log. A
        candidate list: the caller reads each row's details to be sure."""
        values = sorted(set(values))
        if not actions or not values:
            return []
        out: list[StoredRow] = []
        for start in range(0, len(values), 200):  # well inside every backend's parameters
            chunk = values[start:start + 200]
            likes = " OR ".join(["details LIKE ? ESCAPE '\\'"] * len(chunk))
            marks = ",".join("?" * len(actions))
            named = (json.dumps({key: v}, ensure_ascii=False)[1:-1] for v in chunk)
            params = [*actions, *(f"%{_like(n)}%" for n in named)]
            out += [_row(r) for r in self.db.conn().execute(
                f"SELECT * FROM audit_log WHERE action IN ({marks}) AND ({likes}) "
                "ORDER BY seq", params)]
        return sorted({r.seq: r for r in out}.values(), key=lambda r: r.seq)

    def marks(self, actions: tuple[str, ...]) -> tuple[tuple[int, str], ...]:
        """(seq, hash) of every row whose action is one of `actions`, in log order: what tells
        a cached reading of those rows from a log where one was since deleted or replaced."""
        if not actions:
            return ()
        marks = ",".join("?" * len(actions))
        return tuple((int(r["seq"]), str(r["hash"])) for r in self.db.conn().execute(
            f"SELECT seq, hash FROM audit_log WHERE action IN ({marks}) ORDER BY seq", actions))

    def last_break(self, first: int) -> int | None:
        """The last row after `first` whose link to the row before is broken (that row
        missing, or its hash not the one this row chains to), else None: one query that
        follows the links by sequence number, whatever the log's length."""
        r = self.db.conn().execute(
            "SELECT a.seq AS seq FROM audit_log a LEFT JOIN audit_log b ON b.seq = a.seq - 1 "
            "WHERE a.seq > ? AND (b.seq IS NULL OR a.prev_hash <> b.hash) "
            "ORDER BY a.seq DESC LIMIT 1", (first,)).fetchone()
        return int(r["seq"]) if r else None

    def hashes_at(self, seqs: list[int]) -> dict[int, str]:
        """seq -> hash of the rows at `seqs` that are in the log (one query)."""
        if not seqs:
            return {}
        marks = ",".join("?" * len(seqs))
        return {int(r["seq"]): str(r["hash"]) for r in self.db.conn().execute(
            f"SELECT seq, hash FROM audit_log WHERE seq IN ({marks})", [int(x) for x in seqs])}

    def tip(self) -> tuple[int, str, int]:
        """The last row's (seq, hash) and how many rows the log holds, in one query: what
        tells a cached reading from a log where a row was since deleted, at its end or not."""
        r = self.db.conn().execute(
            "SELECT seq, hash, (SELECT COUNT(*) FROM audit_log) AS n FROM audit_log "
            "ORDER BY seq DESC LIMIT 1").fetchone()
        return (int(r["seq"]), str(r["hash"]), int(r["n"])) if r else (0, "", 0)

    def between(self, first: int, last: int) -> list[StoredRow]:
        """Rows `first`..`last` (inclusive), in log order."""
        return [_row(r) for r in self.db.conn().execute(
            "SELECT * FROM audit_log WHERE seq BETWEEN ? AND ? ORDER BY seq", (first, last))]

    def writers(self) -> list[WriterRow]:
        """Every registered writer, in the order they registered."""
        return [WriterRow(r["writer_id"], bytes(r["public_key"]), r["installation_id"],
                          r["environment"], r["registered"])
                for r in self.db.conn().execute(
                    "SELECT * FROM audit_writers ORDER BY registered, writer_id")]
