"""Certificate rows the officer's actions change (status)."""

from __future__ import annotations

from smki_desktop.store.db import Database


def set_status(db: Database, env: str, cert_id: int, status: str) -> None:
    with db.transaction() as c:
        c.execute("UPDATE certificates SET status=? WHERE environment=? AND cert_id=?",
                  (status, env, cert_id))
