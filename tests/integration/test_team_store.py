"""The team store (issue 16) on a real PostgreSQL server: `smki team connect/init/status/
disconnect`, Test and Live kept apart, the password kept in the OS keyring and never in a file,
and an unreachable store reported clearly."""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest

from smki_desktop.core.environment import Environment
from smki_desktop.services.context import open_context
from smki_desktop.store import team_link
from tests.support.postgres import PASSWORD, PostgresServer

# These tests link a single-workstation folder to a team store themselves, so they start from
# a SQLite folder on either run (SMKI_TEST_BACKEND=postgres would hand them one already linked).
pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def test_connect_init_status_disconnect_over_tcp_with_keyring_password(
        cli_run, data_root: Path, postgres_server: PostgresServer) -> None:
    name = postgres_server.create_database()
    url = postgres_server.tcp_url(name)
    # before: not connected
    st = cli_run("team", "status", "--json")
    assert st.code == 0 and st.json()["connected"] is False

    r = cli_run("team", "connect", url, "--password-stdin", "--json", stdin=PASSWORD + "\n")
    assert r.code == 0, r.err
    got = r.json()
    assert got["connected"] and got["reachable"] and not got["initialised"]
    assert got["tls"] is False  # 127.0.0.1: plain TCP accepted
    # the password is in the OS keyring, in no file of the data folder
    link = team_link.load(data_root / "test")
    assert link is not None and PASSWORD not in link.url
    assert keyring.get_password(Environment.TEST.keyring_service, link.secret_name) == PASSWORD
    for f in data_root.rglob("*"):
        if f.is_file():
            assert PASSWORD.encode() not in f.read_bytes(), f

    # linked but not initialised: the app refuses to open it
    r = cli_run("key", "list")
    assert r.code == 1 and "not initialised" in r.err

    r = cli_run("team", "init", "--json")
    assert r.code == 0, r.err
    got = r.json()
    assert got["initialised"] and got["environment"] == "test"
    assert got["schema"]["base"] >= 1

    # the app now works on the team store, and the first record of its log is the init
    ctx = open_context(Environment.TEST, data_root)
    try:
        assert ctx.team is not None and ctx.db.backend == "postgresql"  # type: ignore[attr-defined]
        entries = ctx.db.conn().execute("SELECT action FROM audit_log ORDER BY seq").fetchall()
        assert [e["action"] for e in entries] == ["audit.writer.register", "team.init"]
    finally:
        ctx.close()

    # init again: nothing changes
    assert cli_run("team", "init").code == 0

    r = cli_run("team", "status", "--json")
    assert r.code == 0 and r.json()["reachable"] and r.json()["environment"] == "test"

    r = cli_run("team", "disconnect", "--json")
    assert r.code == 0 and r.json()["connected"] is False
    assert team_link.load(data_root / "test") is None
    assert keyring.get_password(Environment.TEST.keyring_service, link.secret_name) is None
    postgres_server.drop_database(name)


def test_store_of_test_is_refused_in_live_naming_both(
        cli_run, data_root: Path, postgres_server: PostgresServer) -> None:
    name = postgres_server.create_database()
    url = postgres_server.socket_url(name)
    assert cli_run("team", "connect", url).code == 0
    assert cli_run("team", "init").code == 0
    # Live connecting to the Test store is refused at connect
    r = cli_run("team", "connect", url, env="live")
    assert r.code == 1
    assert "test" in r.err and "live" in r.err, r.err
    assert team_link.load(data_root / "live") is None
    # and a Live link planted by hand is refused when the app opens, naming both
    link = team_link.load(data_root / "test")
    assert link is not None
    (data_root / "live").mkdir(exist_ok=True)
    team_link.save(data_root / "live", link)
    r = cli_run("key", "list", env="live")
    assert r.code == 1 and "test environment, not live" in r.err, r.err
    r = cli_run("team", "init", env="live")
    assert r.code == 1 and "test" in r.err and "live" in r.err
    postgres_server.drop_database(name)


def test_wrong_password_and_unreachable_store_are_clear(
        cli_run, data_root: Path, postgres_server: PostgresServer) -> None:
    name = postgres_server.create_database()
    r = cli_run("team", "connect", postgres_server.tcp_url(name), "--password-stdin",
                stdin="wrong\n")
    assert r.code == 1 and "password authentication failed" in r.err, r.err
    assert team_link.load(data_root / "test") is None
    # a server that is not there
    r = cli_run("team", "connect", "postgresql://smki@127.0.0.1:1/nothing")
    assert r.code == 1 and "cannot be reached" in r.err and "127.0.0.1:1" in r.err, r.err
    # not linked yet: nothing is refused, this workstation's own database goes on
    assert "keeps using its own database" in r.err and "until it returns" not in r.err, r.err
    r = cli_run("team", "connect", "postgresql://smki@127.0.0.1:1/nothing", "--json")
    assert r.code == 1 and r.json()["kind"] == "TeamStoreNotReached", r.out
    # linked, then the server is unreachable: status says so, exit 1
    team_link.save(data_root / "test", team_link.TeamLink(
        "postgresql://smki@127.0.0.1:1/nothing", "x" * 32, "2026-01-01T00:00:00+00:00"))
    r = cli_run("team", "status", "--json")
    assert r.code == 1 and r.json()["reachable"] is False and "cannot be reached" in \
        r.json()["error"]
    r = cli_run("key", "list")
    assert r.code == 1 and "cannot be reached" in r.err
    assert "refused until it returns" in r.err, r.err  # linked: its changes are refused
    postgres_server.drop_database(name)


def test_remote_server_needs_verified_tls(cli_run) -> None:
    r = cli_run("team", "connect", "postgresql://officer@db.example.org/smki?sslmode=disable")
    assert r.code == 2 and "verify-full" in r.err and "sslmode=disable" in r.err
    r = cli_run("team", "connect", "mysql://officer@db.example.org/smki")
    assert r.code == 2 and "not a PostgreSQL address" in r.err


def test_private_keys_and_wrapping_keys_stay_local(cli_run, data_root: Path,
                                                   postgres_server: PostgresServer) -> None:
    """A key made in team mode: its public half and where it is held are shared; the private
    key file, its wrapping key (keyring) and any PEM of private material never reach the store."""
    name = postgres_server.create_database()
    assert cli_run("team", "connect", postgres_server.socket_url(name)).code == 0
    assert cli_run("team", "init").code == 0
    r = cli_run("key", "generate", "--usage", "signing", "--label", "team key", "--json")
    assert r.code == 0, r.err
    key_id = r.json()["key_id"]
    wrap = keyring.get_password(Environment.TEST.keyring_service, f"key:{key_id}")
    assert wrap
    key_file = next((data_root / "test" / "keys").glob(f"{key_id}*"))
    secret_bytes = [wrap.encode(), b"PRIVATE KEY", key_file.read_bytes()[40:120]]
    with postgres_server.admin(name) as c:
        tables = [t for (t,) in c.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema='public'")]
        seen_key = False
        for t in tables:
            for row in c.execute(f'SELECT * FROM "{t}"'):
                for v in row:
                    data = bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
                    seen_key |= key_id.encode() in data
                    for s in secret_bytes:
                        assert s not in data, (t, s[:20])
    assert seen_key  # the key's public record is there
    postgres_server.drop_database(name)
