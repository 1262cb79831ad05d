"""The key-backup aggregate: one row per backup made of a key (passphrase file or shares)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from smki_desktop.core.environment import Environment
from smki_desktop.store.db import Database


@dataclass(frozen=True)
class BackupRow:
    environment: Environment
    key_id: str
    kind: str  # "passphrase" | "shares"
    threshold: int
    shares: int
    location: str
    file_sha256: str
    created: datetime

    @property
    def summary(self) -> str:
        return f"{self.threshold}-of-{self.shares} shares" if self.kind == "shares" \
            else "passphrase"


def add(db: Database, row: BackupRow) -> None:
    with db.transaction() as c:
        c.execute(
            "INSERT INTO key_backups(environment,key_id,kind,threshold,shares,location,"
            "file_sha256,created) VALUES(?,?,?,?,?,?,?,?)",
            (row.environment.value, row.key_id, row.kind, row.threshold, row.shares,
             row.location, row.file_sha256, row.created.isoformat()))


def for_environment(db: Database, env: Environment) -> dict[str, list[BackupRow]]:
    """key_id -> its backups (oldest first)."""
    out: dict[str, list[BackupRow]] = {}
    for r in db.conn().execute(
            "SELECT * FROM key_backups WHERE environment=? ORDER BY backup_id", (env.value,)):
        out.setdefault(r["key_id"], []).append(BackupRow(
            Environment(r["environment"]), r["key_id"], r["kind"], r["threshold"],
            r["shares"], r["location"], r["file_sha256"], datetime.fromisoformat(r["created"])))
    return out
