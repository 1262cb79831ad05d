"""The portal endpoint recorded per environment (`portal_endpoints`): where the DCC's (or the
Test simulator's) portal and repository answer, and the trust anchor pinned for them."""

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
    state_dir: str | None  # the simulator's state folder; None for a configured endpoint
    pid: int | None  # the simulator's process; None for a configured endpoint
    updated: str


def get(db: Database, env: str) -> EndpointRow | None:
    r = db.conn().execute("SELECT * FROM portal_endpoints WHERE environment=?",
                          (env,)).fetchone()
    if r is None:
        return None
    return EndpointRow(r["environment"], r["source"], r["portal_url"], r["repository_url"],
                       bytes(r["trust_anchor"]), r["state_dir"],
                       int(r["pid"]) if r["pid"] is not None else None, r["updated"])


def put(db: Database, row: EndpointRow) -> None:
    """Record the environment's endpoint, replacing the one there."""
    with db.transaction() as c:
        c.execute(
            "INSERT INTO portal_endpoints(environment, source, portal_url, repository_url,"
            " trust_anchor, state_dir, pid, updated) VALUES (?,?,?,?,?,?,?,?) "
            "ON CONFLICT(environment) DO UPDATE SET source=excluded.source, "
            "portal_url=excluded.portal_url, repository_url=excluded.repository_url, "
            "trust_anchor=excluded.trust_anchor, state_dir=excluded.state_dir, "
            "pid=excluded.pid, updated=excluded.updated",
            (row.environment, row.source, row.portal_url, row.repository_url,
             row.trust_anchor, row.state_dir, row.pid, row.updated))
