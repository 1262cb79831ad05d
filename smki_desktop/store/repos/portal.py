"""Portal rows: the DCC endpoint of each environment (`portal_endpoints`), the rate rules'
state that survives restarts (`portal_rate_state`), and removing a portal setting that failed
its check. The outbox has its own module (portal/outbox.py)."""

from __future__ import annotations

from dataclasses import dataclass

from smki_desktop.store.db import Database


@dataclass(frozen=True)
class EndpointRow:
    environment: str
    source: str  # 'simulator' | 'configured'
    portal_url: str
    repository_url: str
    trust_anchor: bytes  # PEM
    state_dir: str | None


def get_endpoint(db: Database, env: str) -> EndpointRow | None:
    r = db.conn().execute("SELECT * FROM portal_endpoints WHERE environment=?",
                          (env,)).fetchone()
    if r is None:
        return None
    return EndpointRow(r["environment"], r["source"], r["portal_url"], r["repository_url"],
                       bytes(r["trust_anchor"]), r["state_dir"])


def set_configured_endpoint(db: Database, env: str, portal_url: str, repository_url: str,
                            trust_anchor_pem: bytes, updated: str) -> None:
    with db.transaction() as c:
        c.execute(
            "INSERT INTO portal_endpoints(environment, source, portal_url, repository_url,"
            " trust_anchor, state_dir, pid, updated) VALUES (?,?,?,?,?,NULL,NULL,?) "
            "ON CONFLICT(environment) DO UPDATE SET source=excluded.source, "
            "portal_url=excluded.portal_url, repository_url=excluded.repository_url, "
            "trust_anchor=excluded.trust_anchor, state_dir=NULL, pid=NULL, "
            "updated=excluded.updated",
            (env, "configured", portal_url, repository_url, trust_anchor_pem, updated))


def rate_last_at(db: Database, env: str, name: str) -> str | None:
    r = db.conn().execute("SELECT last_at FROM portal_rate_state WHERE environment=? AND name=?",
                          (env, name)).fetchone()
    return str(r["last_at"]) if r else None


def set_rate_last_at(db: Database, env: str, name: str, at: str) -> None:
    with db.transaction() as c:
        c.execute("INSERT INTO portal_rate_state(environment, name, last_at) VALUES (?,?,?)"
                  " ON CONFLICT(environment, name) DO UPDATE SET last_at=excluded.last_at",
                  (env, name, at))


def delete_setting(db: Database, name: str) -> None:
    """Remove a setting (a portal setting whose new value failed its check and had none
    before)."""
    db.conn().execute("DELETE FROM settings WHERE name=?", (name,))
