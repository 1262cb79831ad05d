"""Moving a workstation's data in and out of a team store (issue 16), table by table.

`copy_local_into(store, local)`: this workstation's SQLite database into an EMPTY team store, in
one transaction of the store, every row counted again before the commit. `copy_store_out(store,
out)`: the whole team store into a fresh SQLite file (the caller writes it atomically).

Both copy every table the two schemas share (the same migrations make both), parents before
children (foreign keys), and on PostgreSQL move each identity sequence past the ids copied in.
What a team store never takes from a workstation: its own settings (its installation id), its
audit log and writer registrations (the team has one log, begun by `smki team init`; the local
log stays with its keyring anchor), and the schema's own bookkeeping. Private keys are not in
either database: the `keys` table holds public halves and where each key is held.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smki_desktop.store.db import Database, StoreError

if TYPE_CHECKING:
    from smki_desktop.store.postgres import PgDatabase

# never copied in either direction: the schema's own bookkeeping (made by migrate())
_BOOKKEEPING = frozenset({"schema_versions", "sqlite_sequence"})
# stay with the workstation when it moves in: its log (anchored in its keyring), its writer,
# and who the officer at it is (the officer profile and its register link: each workstation of
# a team has its own, read from its own database)
_LOCAL_ONLY = frozenset({"audit_log", "audit_writers", "officer_profile"})
# settings that belong to one workstation or are the team store's own facts
_LOCAL_SETTINGS = ("environment", "installation_id")
_TEAM_SETTING_PREFIX = "team."
_BATCH = 500


class NotEmpty(StoreError):
    """The team store already holds data of its own: nothing is copied into it."""


class CountMismatch(StoreError):
    """A table's row count after the copy is not the count read: the copy was undone."""


@dataclass
class CopyReport:
    tables: dict[str, int] = field(default_factory=dict)  # rows copied per table
    kept_local: dict[str, int] = field(default_factory=dict)  # rows left on the workstation

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def _sqlite_tables(con: sqlite3.Connection) -> list[str]:
    rows = con.execute("SELECT name FROM sqlite_master WHERE type='table' "
                       "AND name NOT LIKE 'sqlite_%' ORDER BY name").fetchall()
    return [str(r[0]) for r in rows if str(r[0]) not in _BOOKKEEPING]


def _parents_first(con: sqlite3.Connection, tables: list[str]) -> list[str]:
    """Tables ordered so that a table comes after every table its foreign keys name."""
    deps: dict[str, set[str]] = {}
    for t in tables:
        refs = {str(r[2]) for r in con.execute(f'PRAGMA foreign_key_list("{t}")')}
        deps[t] = {r for r in refs if r in tables and r != t}
    out: list[str] = []
    done: set[str] = set()

    def visit(t: str, path: tuple[str, ...]) -> None:
        if t in done or t in path:
            return
        for d in sorted(deps[t]):
            visit(d, (*path, t))
        done.add(t)
        out.append(t)

    for t in tables:
        visit(t, ())
    return out


def _columns(con: sqlite3.Connection, table: str) -> list[str]:
    return [str(r[1]) for r in con.execute(f'PRAGMA table_info("{table}")')]


def _pg_tables(c: Any) -> set[str]:
    rows = c.execute("SELECT table_name FROM information_schema.tables "
                     "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")
    return {str(r[0]) for r in rows}


def _pg_columns(c: Any, table: str) -> list[str]:
    rows = c.execute("SELECT column_name FROM information_schema.columns WHERE "
                     "table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
                     (table,))
    return [str(r[0]) for r in rows]


def _count(c: Any, table: str, where: str = "") -> int:
    row = c.execute(f'SELECT COUNT(*) FROM "{table}"{where}').fetchone()
    return int(row[0]) if row is not None else 0


def _local_settings_filter(table: str) -> str:
    if table != "settings":
        return ""
    names = ", ".join(f"'{n}'" for n in _LOCAL_SETTINGS)
    return f" WHERE name NOT IN ({names}) AND name NOT LIKE '{_TEAM_SETTING_PREFIX}%'"


def _copy_rows(read: Iterable[Any], write: Any, table: str, cols: list[str]) -> int:
    names = ", ".join(f'"{c}"' for c in cols)
    marks = ", ".join("?" for _ in cols)
    sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
    n, batch = 0, []
    for row in read:
        batch.append(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row))
        if len(batch) >= _BATCH:
            write.executemany(sql, batch)
            n, batch = n + len(batch), []
    if batch:
        write.executemany(sql, batch)
        n += len(batch)
    return n


def store_contents(store: PgDatabase) -> dict[str, int]:
    """Rows the team store holds of its own (not its settings' team facts, not its log)."""
    c = store.conn()
    held: dict[str, int] = {}
    for t in sorted(_pg_tables(c) - _BOOKKEEPING - _LOCAL_ONLY):
        n = _count(c, t, _local_settings_filter(t))
        if n:
            held[t] = n
    return held


def local_environment(local: Path) -> str | None:
    """The environment stamped in a local database (None if it has no stamp)."""
    db = Database(local)
    try:
        row = db.conn().execute("SELECT value FROM settings WHERE name='environment'").fetchone()
        return str(row[0]) if row is not None else None
    finally:
        db.close()


def copy_local_into(store: PgDatabase, local: Path, *, party_id: str = "") -> CopyReport:
    """Copy the SQLite database at `local` (migrated first, as the app would) into `store`,
    which must hold nothing of its own (`NotEmpty` otherwise). All or nothing; each table's rows
    are counted again inside the transaction (`CountMismatch` undoes everything). `party_id`,
    when given and the store has none, is recorded as the store's Party in the same
    transaction."""
    src = Database(local)
    report = CopyReport()
    try:
        lc = src.conn()
        tables = _parents_first(lc, _sqlite_tables(lc))
        for t in sorted(_LOCAL_ONLY & set(tables)):
            report.kept_local[t] = _count(lc, t)
        tables = [t for t in tables if t not in _LOCAL_ONLY]
        with store.transaction() as c:
            held = store_contents(store)
            if held:
                listed = ", ".join(f"{t} ({n})" for t, n in sorted(held.items()))
                raise NotEmpty(f"The team store ({store.where}) is not empty: it holds {listed}. "
                               "Only an empty store takes a workstation's data. Nothing was "
                               "copied.")
            pg_tables = _pg_tables(c)
            for t in tables:
                if t not in pg_tables:
                    raise StoreError(f"The team store ({store.where}) has no table {t}: open "
                                     "it once with this version to bring its schema up to date."
                                     " Nothing was copied.")
                cols = [col for col in _columns(lc, t) if col in set(_pg_columns(c, t))]
                where = _local_settings_filter(t)
                names = ", ".join(f'"{col}"' for col in cols)
                expected = _count(lc, t, where)
                rows = lc.execute(f'SELECT {names} FROM "{t}"{where} ORDER BY rowid')
                copied = _copy_rows(rows, c, t, cols)
                after = _count(c, t, where)
                if not copied == expected == after:
                    raise CountMismatch(
                        f"The copy of {t} does not add up: {expected} rows read, {copied} "
                        f"written, {after} in the team store. Nothing was copied.")
                report.tables[t] = copied
            _advance_identities(c, tables)
            if party_id:
                c.execute("INSERT INTO settings(name, value) VALUES('team.party_id', ?) "
                          "ON CONFLICT(name) DO NOTHING", (party_id,))
    finally:
        src.close()
    return report


def _advance_identities(c: Any, tables: list[str]) -> None:
    """Ids were copied as they were: each identity sequence must continue after the largest."""
    rows = c.execute("SELECT table_name, column_name FROM information_schema.columns WHERE "
                     "table_schema = current_schema() AND is_identity = 'YES'").fetchall()
    for table, col in ((str(r[0]), str(r[1])) for r in rows):
        if table not in tables:
            continue
        c.execute(f"SELECT setval(pg_get_serial_sequence(?, ?), "
                  f'COALESCE((SELECT MAX("{col}") FROM "{table}"), 0) + 1, false)',
                  (table, col))


def copy_store_out(store: PgDatabase, out: Path) -> CopyReport:
    """Write every table of the team store (its log and writers too) into a NEW SQLite database
    at `out` (made and migrated here), in one SQLite transaction, counts checked. The team store
    is read in one repeatable-read snapshot, so the copy is of one moment."""
    dst = Database(out)
    report = CopyReport()
    try:
        dc = dst.conn()
        tables = _parents_first(dc, _sqlite_tables(dc))
        c = store.conn()
        c.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            pg_tables = _pg_tables(c)
            with dst.transaction() as w:
                for t in tables:
                    if t not in pg_tables:
                        continue
                    have = set(_pg_columns(c, t))
                    cols = [col for col in _columns(dc, t) if col in have]
                    w.execute(f'DELETE FROM "{t}"')  # rows a migration may have seeded
                    names = ", ".join(f'"{col}"' for col in cols)
                    expected = _count(c, t)
                    rows = c.execute(f'SELECT {names} FROM "{t}"')
                    copied = _copy_rows(rows, w, t, cols)
                    after = _count(w, t)
                    if not copied == expected == after:
                        raise CountMismatch(
                            f"The copy of {t} does not add up: {expected} rows in the team "
                            f"store, {copied} written, {after} in {out}. Nothing was written.")
                    report.tables[t] = copied
        finally:
            c.execute("COMMIT")
    finally:
        dst.close()
    return report
