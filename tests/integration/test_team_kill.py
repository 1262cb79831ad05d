"""Kill and restart safety on a PostgreSQL team store (issue 16): a workstation process killed
with SIGKILL in the middle of a store transaction (`smki devices submit`) or of an outbox send
(`smki portal send`), and the database server restarted in the middle of a batch of sends.
After a re-run nothing is lost and nothing is duplicated: the store holds each batch once, whole,
and the simulator's own submission log shows one new submission per request (a re-send of a
request whose answer was lost is a replay, answered with the first answer, by design)."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from smki_desktop.services import portal, simulator_control
from smki_desktop.services.context import AppContext
from smki_desktop.store.db import StoreError
from tests.integration.portal_helpers import device_csrs, enrolled, submissions
from tests.support.postgres import PostgresServer

pytestmark = [pytest.mark.parametrize("backend", ["postgres"], indirect=True),
              pytest.mark.slow]


def _smki(data_root: Path, *args: str) -> subprocess.Popen[bytes]:
    """A workstation process of its own (its own session: killed with its children)."""
    return subprocess.Popen(
        [sys.executable, "-m", "smki_desktop.cli", "--data-dir", str(data_root), "--json",
         *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ),
        start_new_session=True)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def _wait_for(what: str, check: Callable[[], Any], timeout: float = 120.0,
              step: float = 0.02) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = check()
        if got:
            return got
        time.sleep(step)
    pytest.fail(f"timed out waiting for {what}")


def _dbname(ctx: AppContext) -> str:
    return str(ctx.db.url.database)  # type: ignore[attr-defined]


def _open_transactions(server: PostgresServer, db: str, like: str = "%") -> list[int]:
    """Server processes of the store's clients now inside a transaction running `like`."""
    with server.admin() as c:
        rows = c.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND "
                         "xact_start IS NOT NULL AND pid <> pg_backend_pid() AND query ILIKE %s",
                         (db, like)).fetchall()
    return [int(r[0]) for r in rows]


def _advisory_lock_holders(server: PostgresServer, db: str) -> list[int]:
    """Server processes of the store's clients holding an advisory lock (a sender's hold on a
    request outlives a killed client's transaction until its server process has exited)."""
    with server.admin() as c:
        rows = c.execute("SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                         "WHERE l.locktype = 'advisory' AND l.granted AND d.datname = %s "
                         "AND l.pid <> pg_backend_pid()", (db,)).fetchall()
    return [int(r[0]) for r in rows]


def _new_and_replayed(info: simulator_control.SimulatorInfo, refs: list[str]
                      ) -> tuple[collections.Counter[str], collections.Counter[str]]:
    subs = [s for s in submissions(info)["submissions"] if s["client_ref"] in refs]
    return (collections.Counter(s["client_ref"] for s in subs if s["outcome"] == "new"),
            collections.Counter(s["client_ref"] for s in subs if s["outcome"] == "replay"))


def _store_batches(ctx: AppContext) -> list[tuple[str, int, int, str | None]]:
    """(batch id, CSRs it says it holds, CSR rows it has, outbox ref) for every batch."""
    rows = ctx.db.conn().execute(
        "SELECT b.id, b.total, b.outbox_ref, (SELECT COUNT(*) FROM device_csrs d "
        "WHERE d.batch_id = b.id) AS n FROM device_batches b ORDER BY b.id")
    return [(r["id"], int(r["total"]), int(r["n"]), r["outbox_ref"]) for r in rows]


def _slow_row_writes(server: PostgresServer, db: str, table: str, seconds: float,
                     on: str = "INSERT") -> None:
    """Make the database server itself take `seconds` over each row written to `table` (a
    trigger of the test's own store): the window in which a kill is wanted is then held open
    whatever the speed of the machine, instead of raced for (a fast CI machine finished a
    200-device submit before the test could catch it)."""
    with server.admin(db) as c:
        c.execute("CREATE FUNCTION smki_test_slow_row() RETURNS trigger LANGUAGE plpgsql AS "
                  f"$$ BEGIN PERFORM pg_sleep({seconds:f}); RETURN NEW; END $$")
        c.execute(f"CREATE TRIGGER smki_test_slow_row BEFORE {on} ON {table} "
                  "FOR EACH ROW EXECUTE FUNCTION smki_test_slow_row()")


def _submit_caught_writing(ctx, cli_run, data_root: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                           server: PostgresServer, count: int, step: float):
    """`smki devices submit` of `count` generated test devices, started and caught while its
    transaction writes the batch's CSR rows: (the CSV, the store's database, the process).
    Each row is held 2 ms by the server, so the rows take at least count × 2 ms to write."""
    gen = cli_run("devices", "generate-test", "--count", str(count), "--out",
                  str(tmp_path / "g"), "--discard-keys", "--format", "csv")
    assert gen.code == 0, gen.err
    src = tmp_path / "g" / "test-devices.csv"
    db = _dbname(ctx)
    _slow_row_writes(server, db, "device_csrs", 0.002)
    proc = _smki(data_root, "devices", "submit", str(src))
    _wait_for("the submit's transaction to write device_csrs",
              lambda: _open_transactions(server, db, "%device_csrs%")
              or proc.poll() is not None, timeout=300, step=step)
    assert proc.poll() is None, "the submit finished before it could be caught"
    return src, db, proc


def test_kill_9_mid_transaction_of_devices_submit_leaves_nothing_half_written(  # type: ignore[no-untyped-def]
        ctx, cli_run, data_root: Path, tmp_path: Path, postgres_server: PostgresServer) -> None:
    info = enrolled(ctx)
    try:
        # the moment its transaction is writing the batch's CSR rows: kill it
        src, db, proc = _submit_caught_writing(ctx, cli_run, data_root, tmp_path,
                                               postgres_server, 1000, step=0.005)
        _kill(proc)
        # the server notices the dead client and rolls its transaction back
        _wait_for("the killed client's transaction to end",
                  lambda: not _open_transactions(postgres_server, db), timeout=60)
        assert _store_batches(ctx) == []  # nothing half-written: no batch, no CSR row
        assert portal.outbox(ctx).items() == []
        assert not [s for s in submissions(info)["submissions"] if s["kind"] == "batch"]

        again = cli_run("devices", "submit", str(src), "--json")
        assert again.code == 0, again.err
        ref = again.json()["outbox_ref"]
        (_, count, n, outbox_ref), = _store_batches(ctx)
        assert count == n == 1000 and outbox_ref == ref
        assert [i.ref for i in portal.outbox(ctx).items()] == [ref]
        assert _new_and_replayed(info, [ref])[0] == {ref: 1}
    finally:
        simulator_control.stop(ctx)


BATCHES = 40


def test_kill_9_mid_send_and_server_restart_mid_batch_lose_and_duplicate_nothing(  # type: ignore[no-untyped-def]
        ctx, data_root: Path, postgres_server: PostgresServer) -> None:
    info = enrolled(ctx)
    try:
        refs = [portal.enqueue_device_batch(ctx, device_csrs(1, 0x00DB123456789200 + i)).ref
                for i in range(BATCHES)]

        def sent() -> int:
            return sum(_new_and_replayed(info, refs)[0].values())

        # each change of a request's outbox row held 20 ms by the server: the senders cannot
        # race through the 40 requests between two looks of the test
        _slow_row_writes(postgres_server, _dbname(ctx), "portal_outbox", 0.02, on="UPDATE")

        first = _smki(data_root, "portal", "send")
        _wait_for("the first sender to submit two requests",
                  lambda: sent() >= 2 or first.poll() is not None, step=0.01)
        assert first.poll() is None, "the first sender finished before it could be killed"
        _kill(first)
        after_kill = sent()
        assert after_kill < BATCHES

        second = _smki(data_root, "portal", "send", "--force")
        _wait_for("the second sender to submit two more",
                  lambda: sent() >= after_kill + 2 or second.poll() is not None, step=0.01)
        assert second.poll() is None, "the second sender finished before the restart"
        postgres_server.restart()  # every session cut off mid-batch; the data stays
        _, err = second.communicate(timeout=300)
        if second.returncode != 0:  # cut off: it says why, in words
            assert "team store" in err.decode() and "cannot be reached" in err.decode(), \
                err.decode()

        # re-run until every request is through (a killed sender's claims are leased:
        # --force takes them now instead of when the lease ends)
        for _ in range(3):
            if all(i.state == "submitted" for i in portal.outbox(ctx).items()):
                break
            rerun = _smki(data_root, "portal", "send", "--force")
            _, err = rerun.communicate(timeout=300)
            assert rerun.returncode == 0, err.decode()
        new, replayed = _new_and_replayed(info, refs)
        assert new == {r: 1 for r in refs}, new  # each request reached the DCC once
        items = {i.ref: i for i in portal.outbox(ctx).items()}
        assert set(items) == set(refs)
        assert {i.state for i in items.values()} == {"submitted"}, \
            {r: (i.state, i.last_error) for r, i in items.items() if i.state != "submitted"}
        # a replay only for a request whose answer a kill or the restart cut off
        assert sum(replayed.values()) <= 2, replayed
    finally:
        simulator_control.stop(ctx)


def test_reads_resume_after_a_server_restart_and_a_write_is_never_repeated(  # type: ignore[no-untyped-def]
        ctx, postgres_server: PostgresServer) -> None:
    c = ctx.db.conn()  # one connection object held across restarts, as a page holds it
    assert c.execute("SELECT COUNT(*) FROM settings").fetchone()[0] >= 1
    postgres_server.restart()
    # a read on the lost session is run again, once, on a new one
    assert c.execute("SELECT COUNT(*) FROM settings WHERE name='x'").fetchone()[0] == 0
    postgres_server.restart()
    # a write on the lost session is refused with the reason, never sent again by the store
    with pytest.raises(StoreError, match="cannot be reached"):
        c.execute("INSERT INTO settings(name, value) VALUES('x', '1')")
    assert c.execute("SELECT COUNT(*) FROM settings WHERE name='x'").fetchone()[0] == 0
    postgres_server.restart()
    # a transaction begins on a new session, and is all there
    with ctx.db.transaction() as t:
        t.execute("INSERT INTO settings(name, value) VALUES('x', '2')")
        t.execute("INSERT INTO settings(name, value) VALUES('y', '2')")
    assert c.execute("SELECT COUNT(*) FROM settings WHERE name IN ('x', 'y') AND value='2'") \
        .fetchone()[0] == 2


def test_kill_9_between_the_batch_rows_and_its_outbox_item_loses_nothing(  # type: ignore[no-untyped-def]
        ctx, cli_run, data_root: Path, tmp_path: Path, postgres_server: PostgresServer) -> None:
    """The submit records the batch's rows and queues its request, then audits and sends: a
    kill right after the rows are written (held there by taking the store's write lock from
    outside) must not leave a batch that no request will ever send."""
    from smki_desktop.store.postgres import WRITE_LOCK_KEY

    info = enrolled(ctx)
    try:
        src, db, proc = _submit_caught_writing(ctx, cli_run, data_root, tmp_path,
                                               postgres_server, 200, step=0.002)
        with postgres_server.admin(db) as lock:
            # waits for the batch's transaction to commit; the submit's next one then waits
            lock.execute("SELECT pg_advisory_lock(%s)", (WRITE_LOCK_KEY,))
            _wait_for("the submit to wait for the store's write lock",
                      lambda: _open_transactions(postgres_server, db, "%pg_advisory_xact_lock%")
                      or proc.poll() is not None, timeout=60)
            assert proc.poll() is None
            _kill(proc)
            lock.execute("SELECT pg_advisory_unlock(%s)", (WRITE_LOCK_KEY,))
        # its transaction ends first; its hold on the request it was about to send ends only
        # when its server process exits, a moment later (a send before then skips the request)
        _wait_for("the killed client's transaction and hold to end",
                  lambda: not _open_transactions(postgres_server, db)
                  and not _advisory_lock_holders(postgres_server, db), timeout=60)
        # the batch's rows, its request and its audit record are one transaction: the kill
        # left all of them or none of them, never a batch without a request
        batches = _store_batches(ctx)
        if not batches:
            assert portal.outbox(ctx).items() == []
            first = cli_run("devices", "submit", str(src))  # nothing was kept: submit again
            assert first.code == 0, first.err
            batches = _store_batches(ctx)
        (_, count, n, ref), = batches
        assert count == n == 200 and ref is not None
        assert [i.ref for i in portal.outbox(ctx).items()] == [ref]

        again = cli_run("devices", "submit", str(src))  # the same CSRs: no second batch
        assert again.code == 1 and "no valid CSR to submit (200 rejected)" in again.err, \
            again.err
        assert len(_store_batches(ctx)) == 1
        send = cli_run("portal", "send", "--json")  # the queued request goes out, once
        assert send.code == 0, send.err
        assert [i["state"] for i in send.json()["sent"]] == ["submitted"]
        assert _new_and_replayed(info, [ref])[0] == {ref: 1}
    finally:
        simulator_control.stop(ctx)
