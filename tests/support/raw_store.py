"""The store behind a data folder, opened around the app: its SQLite file, or the team store the
folder is linked to. For tests that play someone who edits the database directly (the tampering
tests), so that the same attack is tried on either backend."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Protocol

from smki_desktop.store import team_link

AUDIT_GUARDS = ("audit_no_update", "audit_no_delete")
"""The triggers that keep the app's own code from editing the audit log (not an attacker)."""


class RawStore(Protocol):
    def execute(self, sql: str, params: Any = ..., /) -> Any: ...

    def commit(self) -> None: ...

    def close(self) -> None: ...


class _TeamStore:
    """The team store's connection (autocommit: `commit` has nothing left to do)."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._conn = store.conn()

    def execute(self, sql: str, params: Any = (), /) -> Any:
        return self._conn.execute(sql, params)

    def commit(self) -> None:
        pass

    def close(self) -> None:
        self._store.close()


def open_raw(data_root: Path, env: str = "test") -> RawStore:
    """A connection taking `?` placeholders to the store of `data_root`'s environment `env`."""
    env_dir = data_root / env
    link = team_link.load(env_dir)
    if link is None:
        return sqlite3.connect(env_dir / "smki.sqlite3")
    return _TeamStore(team_link.open_store(link, None, env_dir, migrate=False))


def raw_sql(data_root: Path, sql: str, params: tuple[Any, ...] = (), env: str = "test") -> None:
    """One statement, committed, as someone who can write the store does, outside the app."""
    c = open_raw(data_root, env)
    try:
        c.execute(sql, params)
        c.commit()
    finally:
        c.close()


def drop_audit_guards(c: RawStore) -> None:
    """Remove the audit log's append-only triggers, as someone with the database's rights can."""
    on = "" if isinstance(c, sqlite3.Connection) else " ON audit_log"
    for name in AUDIT_GUARDS:
        c.execute(f"DROP TRIGGER IF EXISTS {name}{on}")


# -- whole-store attacks, in the form each backend gives them ------------------------------
# On SQLite the store is a file: deleted, emptied, replaced by another installation's file or by
# an older copy of itself. On a team store the same attacks are made with the database's own
# tools by someone holding its rights: the schema dropped (and the store initialised again, as
# `smki team init` would), every table truncated, another store's `pg_dump` restored over it,
# or an older dump of itself.

def _db_file(data_root: Path, env: str) -> Path:
    return data_root / env / "smki.sqlite3"


def _checkpoint(db: Path) -> None:
    src = sqlite3.connect(db)
    src.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    src.close()


def _admin_conninfo(data_root: Path, env: str) -> str:
    """The linked store's connection as the server's superuser, over the trusted socket the
    tests use (what a database administrator has)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    link = team_link.load(data_root / env)
    assert link is not None, f"{data_root / env} is not linked to a team store"
    parts = {k: v for k, v in conninfo_to_dict(link.url).items() if v is not None}
    parts["user"] = "postgres"
    return make_conninfo(**{k: str(v) for k, v in parts.items()})


def _psql(conninfo: str, sql: str) -> None:
    import subprocess

    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", sql],
                   check=True, capture_output=True, text=True, timeout=120)


def is_team(data_root: Path, env: str = "test") -> bool:
    return team_link.load(data_root / env) is not None


def wipe(data_root: Path, how: str, env: str = "test") -> None:
    """The store deleted ("deleted") or emptied ("emptied") under the app. On a team store:
    the schema dropped and the store initialised again as `smki team init` does ("deleted"),
    or every table truncated and only the environment written back so that the app opens it
    ("emptied")."""
    if not is_team(data_root, env):
        db = _db_file(data_root, env)
        for extra in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            if extra.exists():
                if how == "deleted" or extra != db:
                    extra.unlink()
                else:
                    extra.write_bytes(b"")
        return
    admin = _admin_conninfo(data_root, env)
    if how == "deleted":
        _psql(admin, "DROP SCHEMA public CASCADE; CREATE SCHEMA public AUTHORIZATION smki")
        from smki_desktop.store.repos import team as team_repo

        link = team_link.load(data_root / env)
        assert link is not None
        store = team_link.open_store(link, None, data_root / env)  # migrates: a new schema
        try:
            team_repo.initialise(store, env, "", "0" * 32, "2026-12-05T00:00:00+00:00")
        finally:
            store.close()
        return
    import psycopg

    with psycopg.connect(admin, autocommit=True) as c:
        tables = [r[0] for r in c.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' "
            "AND tablename <> 'schema_versions'")]
        c.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
        c.execute("INSERT INTO settings(name, value) VALUES('environment', %s)", (env,))


def snapshot(data_root: Path, dest: Path, env: str = "test") -> Path:
    """A copy of the store as it is now: the SQLite file, or a `pg_dump` of the team store."""
    import shutil
    import subprocess

    if not is_team(data_root, env):
        _checkpoint(_db_file(data_root, env))
        shutil.copy(_db_file(data_root, env), dest)
        return dest
    subprocess.run(["pg_dump", "-Fc", "--no-owner", "-f", str(dest),
                    "-d", _admin_conninfo(data_root, env)],
                   check=True, capture_output=True, text=True, timeout=120)
    return dest


def restore(data_root: Path, copy: Path, env: str = "test") -> None:
    """Put a copy made by `snapshot` (of this store or another) in place of the store: the file
    copied over, or the schema dropped and the dump restored into the team store."""
    import shutil
    import subprocess

    if not is_team(data_root, env):
        db = _db_file(data_root, env)
        for suffix in ("-wal", "-shm"):
            db.with_name(db.name + suffix).unlink(missing_ok=True)
        shutil.copy(copy, db)
        return
    admin = _admin_conninfo(data_root, env)
    _psql(admin, "DROP SCHEMA public CASCADE; CREATE SCHEMA public AUTHORIZATION smki")
    r = subprocess.run(["pg_restore", "--no-owner", "--role=smki", "--exit-on-error", "-d",
                        admin, str(copy)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"pg_restore failed: {r.stderr}"


def copy_audit_log(data_root: Path, src_env: str, dst_env: str = "test") -> None:
    """Replace `dst_env`'s audit log and writer registry with `src_env`'s rows (the other
    environment's log copied in): by ATTACHing the other file on SQLite, by copying the rows
    between the two databases on a team store (PostgreSQL has no ATTACH)."""
    dst = open_raw(data_root, dst_env)
    drop_audit_guards(dst)
    if isinstance(dst, sqlite3.Connection):
        dst.execute("ATTACH DATABASE ? AS l", (str(_db_file(data_root, src_env)),))
        dst.execute("DELETE FROM audit_log")
        dst.execute("DELETE FROM audit_writers")
        dst.execute("INSERT INTO audit_log SELECT * FROM l.audit_log")
        dst.execute("INSERT INTO audit_writers SELECT * FROM l.audit_writers")
        dst.commit()
        dst.close()
        return
    src = open_raw(data_root, src_env)
    try:
        dst.execute("DELETE FROM audit_log")
        dst.execute("DELETE FROM audit_writers")
        for table, order in (("audit_writers", "writer_id"), ("audit_log", "seq")):
            rows = src.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
            for row in rows:
                marks = ",".join("?" * len(row))
                dst.execute(f"INSERT INTO {table} VALUES({marks})", tuple(row))
    finally:
        src.close()
        dst.close()


def set_installation_id(data_root: Path, new: str, env: str = "test") -> None:
    """Change the installation id the app reads: the database's setting (SQLite), or this
    workstation's id in its team link file (a team store is shared, the id is local)."""
    import dataclasses

    link = team_link.load(data_root / env)
    if link is None:
        c = sqlite3.connect(_db_file(data_root, env))
        c.execute("UPDATE settings SET value=? WHERE name='installation_id'", (new,))
        c.commit()
        c.close()
        return
    team_link.save(data_root / env, dataclasses.replace(link, installation_id=new))
