"""The audit log's rows and its registered writers: typed rows in and out."""

from __future__ import annotations

import sqlite3
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


class AuditRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def last(self, c: sqlite3.Connection | None = None) -> StoredRow | None:
        r = (c or self.db.conn()).execute(
            "SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        return _row(r) if r else None

    def at(self, seq: int, c: sqlite3.Connection | None = None) -> StoredRow | None:
        r = (c or self.db.conn()).execute(
            "SELECT * FROM audit_log WHERE seq=?", (seq,)).fetchone()
        return _row(r) if r else None

    def append(self, c: sqlite3.Connection, row: StoredRow) -> None:
        c.execute(
            "INSERT INTO audit_log(seq,ts,environment,actor,action,details,artifacts,"
            "prev_hash,hash,writer,sig) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
            (row.seq, row.ts, row.environment, row.actor, row.action, row.details_json,
             row.artifacts_json, row.prev_hash, row.hash, row.writer, row.sig),
        )

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

    def writer(self, writer_id: str, c: sqlite3.Connection | None = None) -> WriterRow | None:
        r = (c or self.db.conn()).execute(
            "SELECT * FROM audit_writers WHERE writer_id=?", (writer_id,)).fetchone()
        if r is None:
            return None
        return WriterRow(r["writer_id"], bytes(r["public_key"]), r["installation_id"],
                         r["environment"], r["registered"])

    def add_writer(self, c: sqlite3.Connection, w: WriterRow) -> None:
        c.execute(
            "INSERT INTO audit_writers(writer_id, public_key, installation_id, "
            "environment, registered) VALUES(?,?,?,?,?) ON CONFLICT(writer_id) DO NOTHING",
            (w.writer_id, w.public_key, w.installation_id, w.environment, w.registered),
        )
