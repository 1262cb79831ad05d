"""ADT validation receipts (table `adt_receipts`): record one after a file was found valid, find
the one for exactly this digest, size, profile version, ranges, validator release and
environment."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from smki_desktop.store.db import Database

_COLUMNS = ("id, environment, sha256, size, kind, profile_id, profile_version, ranges_sha256, "
            "software, row_count, warning_count, validated_at, audit_seq")


@dataclass(frozen=True)
class ReceiptKey:
    """What a validation verdict depends on: the exact bytes (digest and size), the rules (kind,
    profile id and version, validator release) and the Party's EUI-64 ranges."""

    sha256: str
    size: int
    kind: str
    profile_id: str
    profile_version: str
    ranges_sha256: str
    software: str


@dataclass(frozen=True)
class AdtReceipt:
    id: int
    environment: str
    key: ReceiptKey
    row_count: int
    warning_count: int
    validated_at: str  # ISO 8601, UTC
    audit_seq: int = 0  # the `adt.validate` audit record written with it (0: none)


def _row(r: sqlite3.Row) -> AdtReceipt:
    return AdtReceipt(
        id=int(r["id"]), environment=str(r["environment"]),
        key=ReceiptKey(str(r["sha256"]), int(r["size"]), str(r["kind"]), str(r["profile_id"]),
                       str(r["profile_version"]), str(r["ranges_sha256"]), str(r["software"])),
        row_count=int(r["row_count"]), warning_count=int(r["warning_count"]),
        validated_at=str(r["validated_at"]), audit_seq=int(r["audit_seq"]))


class AdtReceiptsRepo:
    def __init__(self, db: Database, environment: str) -> None:
        self.db = db
        self.env = environment

    def find(self, key: ReceiptKey) -> AdtReceipt | None:
        r = self.db.conn().execute(
            f"SELECT {_COLUMNS} FROM adt_receipts WHERE environment=? AND sha256=? AND size=? "
            "AND kind=? AND profile_id=? AND profile_version=? AND ranges_sha256=? "
            "AND software=?",
            (self.env, key.sha256, key.size, key.kind, key.profile_id, key.profile_version,
             key.ranges_sha256, key.software)).fetchone()
        return _row(r) if r is not None else None

    def record(self, key: ReceiptKey, row_count: int, warning_count: int,
               validated_at: str, audit_seq: int = 0) -> AdtReceipt:
        """Insert the receipt, or bring an existing one for the same key up to date;
        `audit_seq` is the audit record that vouches for it."""
        with self.db.transaction() as c:
            r = c.execute(
                "INSERT INTO adt_receipts(environment, sha256, size, kind, profile_id, "
                "profile_version, ranges_sha256, software, row_count, warning_count, "
                "validated_at, audit_seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT(environment, sha256, size, kind, profile_id, profile_version, "
                "ranges_sha256, software) DO UPDATE SET row_count=excluded.row_count, "
                "warning_count=excluded.warning_count, validated_at=excluded.validated_at, "
                "audit_seq=excluded.audit_seq "
                f"RETURNING {_COLUMNS}",
                (self.env, key.sha256, key.size, key.kind, key.profile_id, key.profile_version,
                 key.ranges_sha256, key.software, row_count, warning_count, validated_at,
                 audit_seq)
            ).fetchone()
        return _row(r)
