"""Officers' IKI credentials their issuer's CRL lists as revoked (issuer + serial)."""

from __future__ import annotations

from collections.abc import Iterable

from smki_desktop.store.db import Database


class RevokedCredentialsRepo:
    def __init__(self, db: Database, environment: str) -> None:
        self.db = db
        self.env = environment

    def add(self, issuer: str, entries: Iterable[tuple[str, str]], crl_sha256: str) -> int:
        """Record (serial hex, revoked at) pairs of `issuer`; returns how many were new."""
        new = 0
        with self.db.transaction() as c:
            for serial, at in entries:
                cur = c.execute("INSERT INTO revoked_credentials(environment, issuer,"
                                " serial, revoked_at, crl_sha256) VALUES (?,?,?,?,?) "
                                "ON CONFLICT(environment, issuer, serial) DO NOTHING",
                                (self.env, issuer, serial, at, crl_sha256))
                new += cur.rowcount
        return new

    def revoked_at(self, issuer: str, serial: str) -> str | None:
        r = self.db.conn().execute("SELECT revoked_at FROM revoked_credentials WHERE "
                                   "environment=? AND issuer=? AND serial=?",
                                   (self.env, issuer, serial)).fetchone()
        return str(r["revoked_at"]) if r else None
