"""The test server's spare databases (tests/support/postgres.py): a test on PostgreSQL is handed
a copy of the migrated template that the spares thread made ahead; it must be as fresh as one
made on demand, and a discarded one must really go, also across a paused server."""

from __future__ import annotations

import time

import psycopg

from tests.support.postgres import PostgresServer


def _contents(server: PostgresServer, name: str) -> dict[str, int]:
    """Every table of the database `name`, with its count of rows (schema_versions: the sum
    of its versions)."""
    with psycopg.connect(server.socket_url(name), autocommit=True) as c:
        tables = [r[0] for r in c.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema='public' "
            "AND table_type='BASE TABLE' ORDER BY table_name")]
        out = {t: int(c.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0])  # type: ignore[index]
               for t in tables}
        out["schema_versions"] = int(c.execute(
            "SELECT sum(version) FROM schema_versions").fetchone()[0])  # type: ignore[index]
    return out


def _exists(server: PostgresServer, name: str) -> bool:
    with server.admin() as c:
        return c.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                         (name,)).fetchone() is not None


def _gone_within(server: PostgresServer, name: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _exists(server, name):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_spare_is_a_fresh_copy_of_the_template(postgres_server: PostgresServer) -> None:
    first = postgres_server.create_migrated_database()
    with psycopg.connect(postgres_server.socket_url(first), autocommit=True) as c:
        c.execute("INSERT INTO settings(name, value) VALUES ('left', 'by a test')")
    postgres_server.discard_database(first)
    names = [postgres_server.create_migrated_database() for _ in range(3)]
    assert len({first, *names}) == 4
    template = _contents(postgres_server, str(postgres_server._template))
    for name in names:
        assert _contents(postgres_server, name) == template  # nothing of `first`'s row
        postgres_server.discard_database(name)
    for name in (first, *names):
        assert _gone_within(postgres_server, name, 60), name


def test_a_paused_server_is_left_alone_and_copies_resume(
        postgres_server: PostgresServer) -> None:
    kept = postgres_server.create_migrated_database()
    postgres_server.discard_database(kept)
    postgres_server.pause()  # waits for the statement the spares thread may be running
    try:
        assert not postgres_server.running()
        time.sleep(0.3)
    finally:
        postgres_server.resume()
    assert _gone_within(postgres_server, kept, 60)
    name = postgres_server.create_migrated_database()
    assert _contents(postgres_server, name) == _contents(postgres_server,
                                                         str(postgres_server._template))
    postgres_server.discard_database(name)
