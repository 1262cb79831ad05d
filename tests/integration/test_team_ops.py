"""Team store operations (issue 16) on a real PostgreSQL server: moving a workstation's own
database into an empty team store and writing a local copy of one (`smki team
migrate-from-local`, `smki team export`); partitions (the server stopped mid-way: every change
refused with a clear message, work resumed when it returns, the outbox neither losing nor
doubling a request)."""

from __future__ import annotations

import collections
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from smki_desktop.core.errors import StoreUnreachable
from smki_desktop.services import team as team_svc
from tests.support.postgres import PostgresServer

ON_POSTGRES = pytest.mark.parametrize("backend", ["postgres"], indirect=True)
# moving in and out starts from a workstation's own SQLite folder, which these tests link to a
# team store themselves: on either run (SMKI_TEST_BACKEND=postgres would hand them one linked)
FROM_A_LOCAL_FOLDER = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@contextlib.contextmanager
def server_down(server: PostgresServer) -> Iterator[None]:
    """The server stopped (its data kept) for the block, and started again whatever happens."""
    server.pause()
    try:
        yield
    finally:
        if not server.running():
            server.resume()

PARTY = ("party", "set", "--name", "Acme Energy Ltd", "--party-id", "ACME",
         "--party-type", "import-supplier", "--eui-range",
         "90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF")


def _local_work(cli_run, root: Path | None = None, party: tuple[str, ...] = PARTY) -> None:  # type: ignore[no-untyped-def]
    assert cli_run(*party, root=root).code == 0
    for label in ("one", "two"):
        r = cli_run("key", "generate", "--usage", "signing", "--label", label, root=root)
        assert r.code == 0, r.err
    r = cli_run("credential", "request", "--purpose", "web-service", "--organisation",
                "Acme Energy Ltd", "--role", "02", "--system-name", "acme-1", root=root)
    assert r.code == 0, r.err


def _sqlite_counts(path: Path) -> dict[str, int]:
    con = sqlite3.connect(path)
    try:
        names = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        return {n: con.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        con.close()


def _pg_count(server: PostgresServer, db: str, table: str, where: str = "") -> int:
    with server.admin(db) as c:
        row = c.execute(f'SELECT COUNT(*) FROM "{table}" {where}').fetchone()
        assert row is not None
        return int(str(row[0]))


@FROM_A_LOCAL_FOLDER
def test_migrate_from_local_copies_everything_once_and_refuses_a_second_time(
        cli_run, data_root: Path, postgres_server: PostgresServer) -> None:
    _local_work(cli_run)
    local = _sqlite_counts(data_root / "test" / "smki.sqlite3")
    assert local["keys"] >= 2 and local["portal_credentials"] == 1
    name = postgres_server.create_database()
    try:
        assert cli_run("team", "connect", postgres_server.socket_url(name)).code == 0
        assert cli_run("team", "init").code == 0
        r = cli_run("team", "migrate-from-local", "--json")
        assert r.code == 0, r.err
        got = r.json()
        assert got["party_id"] == "ACME"
        assert got["tables"]["keys"] == local["keys"] and got["rows"] == sum(got["tables"].values())
        # the local log stays here: it is anchored in this workstation's keyring
        # (with the record of the connect, written there)
        assert got["kept_local"]["audit_log"] == local["audit_log"] + 1
        for table in ("keys", "portal_credentials", "party_profile", "trust_anchors",
                      "portal_endpoints"):
            if table in local:
                assert _pg_count(postgres_server, name, table) == local[table], table
                assert got["tables"][table] == local[table]
        # this workstation's own settings did not travel
        assert _pg_count(postgres_server, name, "settings",
                         "WHERE name = 'installation_id'") == 0
        # audited in the team's log, after the init
        r = cli_run("audit", "list", "--json")
        assert r.code == 0, r.err
        actions = [e["action"] for e in r.json()["entries"]]
        assert "team.migrate_from_local" in actions, actions
        # ids continue after the copied ones: a new request and key are stored
        assert cli_run("key", "generate", "--usage", "signing", "--label", "three").code == 0
        r = cli_run("credential", "request", "--purpose", "web-service", "--organisation",
                    "Acme Energy Ltd", "--role", "02", "--system-name", "acme-2")
        assert r.code == 0, r.err
        before = _pg_count(postgres_server, name, "keys")
        assert before > local["keys"]
        assert _pg_count(postgres_server, name, "portal_credentials") == 2
        # a second move is refused: the store is not empty; nothing changes
        r = cli_run("team", "migrate-from-local")
        assert r.code == 1 and "not empty" in r.err and f"keys ({before})" in r.err, r.err
        assert _pg_count(postgres_server, name, "keys") == before
    finally:
        postgres_server.drop_database(name)


@FROM_A_LOCAL_FOLDER
def test_migrate_refuses_another_party_and_the_other_environment(
        cli_run, data_root: Path, tmp_path: Path, postgres_server: PostgresServer) -> None:
    _local_work(cli_run)
    name = postgres_server.create_database()
    try:
        assert cli_run("team", "connect", postgres_server.socket_url(name)).code == 0
        assert cli_run("team", "init").code == 0  # the store is ACME's
        other = tmp_path / "other-workstation"
        other.mkdir()
        _local_work(cli_run, other, party=(*PARTY[:4], "--party-id", "OTHR", *PARTY[6:]))
        r = cli_run("team", "connect", postgres_server.socket_url(name), root=other)
        assert r.code == 0, r.err
        r = cli_run("team", "migrate-from-local", root=other)
        assert r.code == 1 and "ACME" in r.err and "OTHR" in r.err, r.err
        assert _pg_count(postgres_server, name, "keys") == 0
        # a Live workstation linked to the Test store by hand is refused, naming both
        from smki_desktop.store import team_link

        link = team_link.load(data_root / "test")
        assert link is not None
        (data_root / "live").mkdir(exist_ok=True)
        team_link.save(data_root / "live", link)
        (data_root / "live" / "smki.sqlite3").touch()
        r = cli_run("team", "migrate-from-local", env="live")
        assert r.code == 1 and "test" in r.err and "live" in r.err, r.err
        assert _pg_count(postgres_server, name, "keys") == 0
        # not linked at all: refused
        r = cli_run("team", "migrate-from-local", root=tmp_path / "nobody")
        assert r.code == 1 and "not connected" in r.err
    finally:
        postgres_server.drop_database(name)


@FROM_A_LOCAL_FOLDER
def test_export_writes_an_atomic_sqlite_copy_and_never_overwrites_unasked(
        cli_run, data_root: Path, tmp_path: Path, postgres_server: PostgresServer) -> None:
    _local_work(cli_run)
    name = postgres_server.create_database()
    try:
        assert cli_run("team", "connect", postgres_server.socket_url(name)).code == 0
        assert cli_run("team", "init").code == 0
        assert cli_run("team", "migrate-from-local").code == 0
        out = tmp_path / "exports" / "team-copy.sqlite3"
        r = cli_run("team", "export", "--out", str(out), "--json")
        assert r.code == 0, r.err
        got = r.json()
        assert got["out"] == str(out)
        counts = _sqlite_counts(out)
        for table in ("keys", "portal_credentials", "party_profile", "audit_log", "settings"):
            # the export's own audit record is written after the copy
            after = 1 if table == "audit_log" else 0
            assert counts[table] == _pg_count(postgres_server, name, table) - after, table
            assert counts[table] == got["tables"][table], table
        # the team's log came too (init and move; the export's own record is written after)
        assert got["tables"]["audit_log"] >= 2
        assert not [p for p in out.parent.iterdir() if p.name != out.name]  # no part files
        data = out.read_bytes()
        r = cli_run("team", "export", "--out", str(out))
        assert r.code == 1 and "already exists" in r.err
        assert out.read_bytes() == data
        r = cli_run("team", "export", "--out", str(out), "--overwrite", "--json")
        assert r.code == 0, r.err
        assert _sqlite_counts(out)["audit_log"] == got["tables"]["audit_log"] + 1
        # bad input: no --out
        assert cli_run("team", "export").code == 2
        # not linked: refused
        r = cli_run("team", "export", "--out", str(tmp_path / "x.sqlite3"),
                    root=tmp_path / "nobody")
        assert r.code == 1 and "not connected" in r.err
        assert not (tmp_path / "x.sqlite3").exists()
    finally:
        postgres_server.drop_database(name)


@ON_POSTGRES
def test_unreachable_store_refuses_changes_clearly_and_work_resumes(
        ctx, cli_run, postgres_server: PostgresServer) -> None:  # type: ignore[no-untyped-def]
    ctx.set_setting("team.ops.check", "before")
    assert team_svc.store_reachable(ctx) == ""
    assert ctx.team is not None
    with server_down(postgres_server):
        reason = team_svc.store_reachable(ctx)
        assert "cannot be reached" in reason and "refused until it returns" in reason, reason
        # a change on the open context: refused with the store layer's typed error
        with pytest.raises(StoreUnreachable) as err:
            ctx.set_setting("team.ops.check", "during")
        assert "team store" in err.value.message and "nothing was saved" in err.value.message
        # a new command: refused at opening, exit 1, naming the store
        r = cli_run("key", "generate", "--usage", "signing", "--label", "k")
        assert r.code == 1 and "cannot be reached" in r.err, r.err
        r = cli_run("team", "status", "--json")
        assert r.code == 1 and r.json()["reachable"] is False
    # back: the same context reconnects and the change goes through
    assert team_svc.store_reachable(ctx) == ""
    assert ctx.setting("team.ops.check") == "before"  # nothing half-written meanwhile
    ctx.set_setting("team.ops.check", "after")
    assert ctx.setting("team.ops.check") == "after"
    r = cli_run("key", "generate", "--usage", "signing", "--label", "k")
    assert r.code == 0, r.err


@ON_POSTGRES
@pytest.mark.slow
def test_outbox_loses_nothing_and_sends_nothing_twice_across_a_partition(
        ctx, cli_run, postgres_server: PostgresServer) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.services import portal, simulator_control
    from tests.integration.portal_helpers import device_csrs, enrolled, submissions

    info = enrolled(ctx)
    try:
        refs = [portal.enqueue_device_batch(ctx, device_csrs(1, 0x00DB123456789200 + i)).ref
                for i in range(3)]
        before = {s["client_ref"] for s in submissions(info)["submissions"]}
        with server_down(postgres_server):
            r = cli_run("portal", "send")
            assert r.code == 1 and "cannot be reached" in r.err, r.err
            with pytest.raises(StoreUnreachable):
                portal.send_pending(ctx)
            # the simulator saw nothing of them
            assert not {s["client_ref"] for s in submissions(info)["submissions"]} & set(refs)
        r = cli_run("portal", "send", "--json")
        assert r.code == 0, r.err
        r = cli_run("portal", "send", "--json")  # again: nothing is sent twice
        assert r.code == 0, r.err
        sent = [s["client_ref"] for s in submissions(info)["submissions"]
                if s["client_ref"] in refs and s["client_ref"] not in before]
        assert collections.Counter(sent) == {ref: 1 for ref in refs}
        for ref in refs:
            item = portal.outbox(ctx).get(ref)
            assert item.state == "submitted" and item.attempts == 1, (ref, item.state)
    finally:
        simulator_control.stop(ctx)


def _sender(data_root: Path, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "smki_desktop.cli", "--data-dir", str(data_root), "--json",
         "portal", "send", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=dict(os.environ))


def _wait(what: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def _new_at_simulator(info: Any, refs: list[str]) -> collections.Counter[str]:
    from tests.integration.portal_helpers import submissions

    return collections.Counter(s["client_ref"] for s in submissions(info)["submissions"]
                               if s["client_ref"] in refs and s["outcome"] == "new")


@ON_POSTGRES
@pytest.mark.slow
def test_kill_9_mid_transaction_and_mid_send_and_a_server_restart_lose_and_double_nothing(
        ctx, data_root: Path, postgres_server: PostgresServer) -> None:  # type: ignore[no-untyped-def]
    """A sender killed inside its claim transaction, a sender killed while the DCC answers,
    and the PostgreSQL server restarted while a sender waits for an answer: after a re-run
    every request is at the simulator exactly once (its own log of new submissions and its
    batches), and every outbox item is submitted."""
    from smki_desktop.core import ws_xml as W
    from smki_desktop.services import portal, simulator_control
    from tests.integration.portal_helpers import device_csrs, enrolled, submissions

    info = enrolled(ctx)
    dbname = str(ctx.db.url.database)  # type: ignore[attr-defined]
    try:
        refs = [portal.enqueue_device_batch(ctx, device_csrs(1, 0x00DB123456789300 + i)).ref
                for i in range(4)]

        # 1. killed inside a transaction: the test holds the outbox rows, the sender's claim
        #    (BEGIN, the store's write lock, UPDATE) waits on them, and is killed there
        with postgres_server.admin(dbname) as admin:
            admin.execute("BEGIN")
            admin.execute("SELECT ref FROM portal_outbox FOR UPDATE")
            proc = _sender(data_root)

            def claim_waits() -> bool:
                row = postgres_server.admin(dbname).execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND "
                    "wait_event_type = 'Lock' AND state = 'active'", (dbname,)).fetchone()
                return row is not None and int(str(row[0])) >= 1

            _wait(claim_waits)
            proc.kill()
            proc.wait(30)
            admin.execute("ROLLBACK")
        _wait(lambda: not claim_waits(), 30)
        assert all(portal.outbox(ctx).get(r).attempts == 0 for r in refs)  # rolled back
        assert not _new_at_simulator(info, refs)

        # 2. killed while the DCC answers: the first batch is taken and committed there, its
        #    answer delayed; the sender dies before it can mark the item
        simulator_control.control(info, "/_control/faults", {
            "kind": "delay-after", "count": 1, "seconds": 30, "path": W.BATCH_SUBMIT_PATH})
        proc = _sender(data_root)
        _wait(lambda: sum(_new_at_simulator(info, refs).values()) == 1)
        proc.kill()
        proc.wait(30)
        first = next(iter(_new_at_simulator(info, refs)))
        item = portal.outbox(ctx).get(first)
        assert item.state == "queued" and item.attempts == 1  # claimed, leased, not marked
        simulator_control.control(info, "/_control/faults", {"clear": True})

        # 3. the server crashes and restarts while a sender waits for the DCC's answer: its
        #    connection is gone, the next transaction opens on a new one and marks what was
        #    sent (`--force` also takes the leased item of the killed sender)
        simulator_control.control(info, "/_control/faults", {
            "kind": "delay-after", "count": 1, "seconds": 10, "path": W.BATCH_SUBMIT_PATH})
        seen = len(submissions(info)["submissions"])
        proc = _sender(data_root, "--force")
        _wait(lambda: len(submissions(info)["submissions"]) > seen)
        postgres_server.restart("immediate")
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        simulator_control.control(info, "/_control/faults", {"clear": True})

        # a re-run: nothing is left to send, nothing goes twice
        proc = _sender(data_root, "--force")
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        assert json.loads(out)["sent"] == []  # the restarted sender had marked everything
        assert _new_at_simulator(info, refs) == {r: 1 for r in refs}
        batches = collections.Counter(b["client_ref"] for b in submissions(info)["batches"]
                                      if b["client_ref"] in refs)
        assert batches == {r: 1 for r in refs}
        for r in refs:
            assert portal.outbox(ctx).get(r).state == "submitted", r
    finally:
        simulator_control.stop(ctx)
