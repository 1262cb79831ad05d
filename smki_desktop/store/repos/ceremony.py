"""Look-ups a ceremony and a key restore need across the key and CSR records: the keys made
under a ceremony's label, whether a key is recorded, the first CSR recorded for a key."""

from __future__ import annotations

from smki_desktop.core.environment import Environment
from smki_desktop.store.db import Database


def key_ids_labelled(db: Database, env: Environment, label: str) -> list[str]:
    return [str(r["key_id"]) for r in db.conn().execute(
        "SELECT key_id FROM keys WHERE environment=? AND label=? ORDER BY created",
        (env.value, label))]


def key_recorded(db: Database, key_id: str) -> bool:
    return db.conn().execute("SELECT 1 FROM keys WHERE key_id=?", (key_id,)).fetchone() \
        is not None


def first_csr_id(db: Database, env: Environment, key_id: str) -> int | None:
    row = db.conn().execute(
        "SELECT csr_id FROM csr_requests WHERE key_id=? AND environment=? ORDER BY csr_id",
        (key_id, env.value)).fetchone()
    return int(row["csr_id"]) if row else None
