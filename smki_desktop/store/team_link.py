"""This workstation's link to a team store: `<env folder>/team.json` (address without password,
this workstation's installation id in the team, when it was made) and the opening of the store.

The link is local (each workstation, each environment); the password lives in the OS keyring
under `team-store:<address>`. The PostgreSQL backend is imported only here, when a link exists,
so that a single-workstation start does not pay for SQLAlchemy and psycopg.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError, SmkiError
from smki_desktop.core.team_url import TeamUrl, parse_team_url
from smki_desktop.keystores.secrets import OsSecrets
from smki_desktop.store.atomic import write_atomic
from smki_desktop.store.db import StoreError

if TYPE_CHECKING:
    from smki_desktop.store.db import Database
    from smki_desktop.store.postgres import PgDatabase

FILE = "team.json"

# A server cut off by the network (packets dropped, no RST) would otherwise hold a query for
# the kernel's ~15-minute retransmission limit, or forever while it waits for an answer.
# libpq's TCP keepalives probe an idle connection after 5 s, every 2 s; TCP_USER_TIMEOUT drops
# it once data (or a probe) has gone unacknowledged for 10 s: a dead peer is said in ~10-20 s.
# Both are about the peer's kernel, not the server's work: a long query on a live server, a
# migration or an export is never cut by them. They do nothing on a unix socket.
# No server-side statement_timeout/lock_timeout: a 1,000,000-row batch, a migration or an
# export may legitimately take longer than any interactive bound, and one setting cannot tell
# them apart from a read a page asked for.
DEAD_PEER: dict[str, int] = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
                             "keepalives_count": 3, "tcp_user_timeout": 10000}


@dataclass(frozen=True)
class TeamLink:
    url: str  # postgresql://user@host:port/db?sslmode=... (never a password)
    installation_id: str  # this workstation's own id in the team (its audit writer)
    connected_at: str

    @property
    def address(self) -> TeamUrl:
        return parse_team_url(self.url)[0]

    @property
    def secret_name(self) -> str:
        return f"team-store:{self.url}"


def path_of(env_dir: Path) -> Path:
    return env_dir / FILE


def load(env_dir: Path) -> TeamLink | None:
    p = path_of(env_dir)
    try:
        data = json.loads(p.read_text())
        return TeamLink(str(data["url"]), str(data["installation_id"]),
                        str(data["connected_at"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"The team link {p} cannot be read ({exc}): disconnect and connect "
                         "again") from None


def save(env_dir: Path, link: TeamLink) -> None:
    write_atomic(path_of(env_dir), json.dumps(asdict(link), indent=2).encode() + b"\n",
                 overwrite=True, mode=0o600)


def remove(env_dir: Path) -> bool:
    try:
        path_of(env_dir).unlink()
        return True
    except FileNotFoundError:
        return False


def open_store(link: TeamLink, password: str | None, env_dir: Path, *,
               migrate: bool = True) -> PgDatabase:
    """Open the team store (the PostgreSQL backend is imported here, on first use); `env_dir`
    is this workstation's folder of the environment (local lock files)."""
    # imported here for its cost (SQLAlchemy, psycopg: ~0.3 s), not to dodge a cycle
    from smki_desktop.store import postgres

    args: dict[str, Any] = {"connect_timeout": 10, **DEAD_PEER}
    if password is not None:
        args["password"] = password
    return postgres.PgDatabase(link.address.driver_url(), env_dir / "smki.sqlite3",
                               connect_args=args, migrate=migrate)


def as_store(db: Database) -> PgDatabase:
    """The team store behind a context's `Database` (a context linked to a team store)."""
    from smki_desktop.store import postgres

    if not isinstance(db, postgres.PgDatabase):
        raise TypeError("not a team store")
    return db


def as_database(store: PgDatabase) -> Database:
    """The team store where the code names the SQLite `Database`: both offer the same
    surface (conn(), transaction(), migrate(), close(); rows by name; `?` placeholders)."""
    return cast("Database", store)


@contextmanager
def readonly_connection(db_path: Path) -> Iterator[Any | None]:
    """A connection to read ANOTHER environment's store (never written): the team store its
    folder is linked to, else its SQLite file opened read-only; None when there is none or it
    cannot be opened. `db_path` is that environment's local database path (ROOT/<env>/...)."""
    try:
        link = load(db_path.parent)
    except InputError:
        link = None
    if link is not None:
        try:
            env = Environment.parse(db_path.parent.name)
            store = open_store(link, OsSecrets(env).get_optional(link.secret_name),
                               db_path.parent, migrate=False)
        except (StoreError, SmkiError):
            yield None
            return
        try:
            yield store.conn()
        finally:
            store.close()
        return
    if not db_path.is_file():
        yield None
        return
    try:
        con = sqlite3.connect(db_path.as_uri() + "?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        yield None
        return
    con.row_factory = sqlite3.Row  # rows by name, as the team store gives them
    try:
        yield con
    finally:
        con.close()


def release_thread_connections() -> int:
    """Give back to their pools the team store connections the calling thread holds (see
    `postgres.release_thread_connections`); nothing to do, and nothing imported, when no team
    store was opened in this process. Returns how many were given back."""
    pg = sys.modules.get("smki_desktop.store.postgres")
    return int(pg.release_thread_connections()) if pg is not None else 0
