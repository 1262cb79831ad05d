"""Read access to the certificates held for a key (Organisation certificates and the DCC's
credentials), as DER: what a key backup carries and a restore checks against."""

from __future__ import annotations

import sqlite3

from smki_desktop.core.environment import Environment
from smki_desktop.store.db import Database


def ders_for_key(db: Database, env: Environment, key_id: str) -> list[bytes]:
    out: list[bytes] = []
    for sql in ("SELECT der FROM certificates WHERE environment=? AND key_id=?",
                "SELECT certificate AS der FROM portal_credentials WHERE environment=? AND "
                "key_id=?"):
        try:
            out.extend(bytes(r["der"]) for r in db.conn().execute(sql, (env.value, key_id)))
        except sqlite3.OperationalError:  # that component is not installed
            continue
    return out
