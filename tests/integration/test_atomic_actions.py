"""One transaction for a user action's rows, its outbox request and its audit record (issue
16), on both backends: a real `smki` process is stopped at the point where its audit record is
about to be written (`store/fault_point.py`) and killed there with SIGKILL. Afterwards the
change and its record are both there or both absent, never one without the other; the action
then runs again whole, and the audit log verifies."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smki_desktop.services import portal
from smki_desktop.services.context import AppContext
from smki_desktop.services.devices import submission
from smki_desktop.store import fault_point
from tests.integration.portal_helpers import org_csr
from tests.support.postgres import PostgresServer


def _killed_at(data_root: Path, tmp_path: Path, point: str, *args: str) -> None:
    """Run `smki ARGS` until it reaches `point`, then kill it (SIGKILL, its whole group)."""
    marker = tmp_path / f"stalled-{time.monotonic_ns()}"
    env = dict(os.environ, **{fault_point.STALL: point, fault_point.STALL_FILE: str(marker)})
    proc = subprocess.Popen([sys.executable, "-m", "smki_desktop.cli", "--data-dir",
                             str(data_root), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, start_new_session=True)
    end = time.monotonic() + 240
    while not marker.exists() and proc.poll() is None and time.monotonic() < end:
        time.sleep(0.01)
    if proc.poll() is not None:
        out, err = proc.communicate()
        pytest.fail(f"smki {' '.join(args)} ended ({proc.returncode}) before {point}: "
                    f"{err.decode()}{out.decode()}")
    assert marker.exists(), f"smki {' '.join(args)} never reached {point}"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def _settled(ctx: AppContext, backend: str, postgres: PostgresServer | None) -> None:
    """Wait until the server has rolled back the killed client's transaction."""
    if backend != "postgres" or postgres is None:
        return
    db = str(ctx.db.url.database)  # type: ignore[attr-defined]
    end = time.monotonic() + 60
    while time.monotonic() < end:
        with postgres.admin() as c:
            left = c.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = %s AND "
                             "xact_start IS NOT NULL AND pid <> pg_backend_pid()",
                             (db,)).fetchone()
        if left is not None and int(str(left[0])) == 0:
            return
        time.sleep(0.05)
    pytest.fail("the killed client's transaction never ended")


def _records(ctx: AppContext, action: str) -> int:
    return sum(1 for e in ctx.audit.entries() if e.action == action)


def _server(request: pytest.FixtureRequest, backend: str) -> PostgresServer | None:
    return request.getfixturevalue("postgres_server") if backend == "postgres" else None


@pytest.mark.both_backends
def test_kill_before_the_record_of_an_org_csr_submit_leaves_no_request_without_it(  # type: ignore[no-untyped-def]
        ctx, cli_run, backend: str, data_root: Path, tmp_path: Path,
        request: pytest.FixtureRequest) -> None:
    der = org_csr(ctx, "90-B3-D5-1F-30-01-00-21")
    csr = tmp_path / "org.csr"
    csr.write_text("-----BEGIN CERTIFICATE REQUEST-----\n" + base64.encodebytes(der).decode()
                   + "-----END CERTIFICATE REQUEST-----\n")
    _killed_at(data_root, tmp_path, "audit:portal.submit", "portal", "submit", str(csr),
               "--no-send")
    _settled(ctx, backend, _server(request, backend))
    # neither the outbox request nor its record
    assert portal.outbox(ctx).items() == []
    assert _records(ctx, "portal.submit") == 0
    again = cli_run("portal", "submit", str(csr), "--no-send", "--json")
    assert again.code == 0, again.err
    assert [i.ref for i in portal.outbox(ctx).items()] == [again.json()["ref"]]
    assert _records(ctx, "portal.submit") == 1
    verify = cli_run("audit", "verify", "--json")
    assert verify.code == 0 and verify.json()["ok"], verify.out + verify.err


@pytest.mark.both_backends
@pytest.mark.slow
def test_kill_before_the_records_of_a_devices_submit_leaves_no_batch_without_them(  # type: ignore[no-untyped-def]
        ctx, cli_run, backend: str, data_root: Path, tmp_path: Path,
        request: pytest.FixtureRequest) -> None:
    gen = cli_run("devices", "generate-test", "--count", "5", "--out", str(tmp_path / "g"),
                  "--discard-keys", "--format", "csv")
    assert gen.code == 0, gen.err
    src = tmp_path / "g" / "test-devices.csv"
    # the batch's rows and its outbox request are written; its records are next
    _killed_at(data_root, tmp_path, "audit:devices.submit", "devices", "submit", str(src))
    _settled(ctx, backend, _server(request, backend))
    assert portal.outbox(ctx).items() == []
    assert ctx.db.conn().execute("SELECT COUNT(*) AS n FROM device_batches").fetchone()["n"] == 0
    assert _records(ctx, "portal.submit") == _records(ctx, "devices.submit") == 0
    # run again: queued once, recorded once (not sent: no simulator is asked for here)
    again = submission.submit(ctx, src, send_now=False)
    assert [i.ref for i in portal.outbox(ctx).items()] == [again.outbox_ref]
    assert _records(ctx, "portal.submit") == _records(ctx, "devices.submit") == 1


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # a workstation's own first
def test_kill_before_the_record_of_a_migrate_from_local_leaves_the_team_store_empty(  # type: ignore[no-untyped-def]
        cli_run, data_root: Path, tmp_path: Path, postgres_server: PostgresServer) -> None:
    assert cli_run("key", "generate", "--usage", "signing", "--label", "one").code == 0
    name = postgres_server.create_database()
    try:
        assert cli_run("team", "connect", postgres_server.socket_url(name)).code == 0
        assert cli_run("team", "init").code == 0

        def keys_in_store() -> int:
            with postgres_server.admin(name) as c:
                row = c.execute("SELECT COUNT(*) FROM keys").fetchone()
            assert row is not None
            return int(str(row[0]))

        def moves() -> int:
            r = cli_run("audit", "list", "--json")
            assert r.code == 0, r.err
            return sum(1 for e in r.json()["entries"] if e["action"] == "team.migrate_from_local")

        _killed_at(data_root, tmp_path, "audit:team.migrate_from_local", "team",
                   "migrate-from-local")
        end = time.monotonic() + 60
        while time.monotonic() < end:  # the server rolls the killed client's work back
            with postgres_server.admin() as c:
                row = c.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = %s "
                                "AND xact_start IS NOT NULL", (name,)).fetchone()
            if row is not None and int(str(row[0])) == 0:
                break
            time.sleep(0.05)
        assert keys_in_store() == 0 and moves() == 0  # neither the copy nor its record
        r = cli_run("team", "migrate-from-local", "--json")
        assert r.code == 0, r.err
        assert keys_in_store() == 1 and moves() == 1
        verify = cli_run("audit", "verify", "--json")
        assert verify.code == 0 and verify.json()["ok"], verify.out + verify.err
    finally:
        postgres_server.drop_database(name)


@pytest.mark.both_backends
def test_a_change_commits_its_rows_and_records_together_or_neither(ctx) -> None:  # type: ignore[no-untyped-def]
    import contextlib
    import sqlite3

    before = len(ctx.audit.entries())
    with pytest.raises(RuntimeError, match="boom"), ctx.audit.change():
        ctx.set_setting("x.atomic", "1")
        ctx.audit.record("test.atomic", {})
        raise RuntimeError("boom")
    assert ctx.setting("x.atomic") is None and len(ctx.audit.entries()) == before
    # a part that fails inside the change (a savepoint) is undone alone; the rest commits
    with ctx.audit.change():
        ctx.set_setting("x.kept", "1")
        with contextlib.suppress(sqlite3.IntegrityError), ctx.db.transaction() as c:
            c.execute("INSERT INTO settings(name, value) VALUES('x.inner', '1')")
            c.execute("INSERT INTO settings(name, value) VALUES('x.kept', '2')")
        ctx.audit.record("test.atomic", {"kept": 1})
    assert (ctx.setting("x.kept"), ctx.setting("x.inner")) == ("1", None)
    assert [e.action for e in ctx.audit.entries(1)] == ["test.atomic"]
    assert ctx.audit.verify().ok
    # the audit lock comes first: a change is never opened inside a store transaction
    with pytest.raises(RuntimeError, match="before the store transaction"), \
            ctx.db.transaction(), ctx.audit.change():
        pass


@pytest.mark.both_backends
def test_kill_before_the_record_of_a_key_generation_leaves_no_key_without_it(  # type: ignore[no-untyped-def]
        ctx, cli_run, backend: str, data_root: Path, tmp_path: Path,
        request: pytest.FixtureRequest) -> None:
    _killed_at(data_root, tmp_path, "audit:key.generate", "key", "generate", "--usage",
               "signing", "--label", "killed")
    _settled(ctx, backend, _server(request, backend))
    # neither the key's row nor its record; its pending file is swept on the next open
    assert [k.label for k in ctx.keystore.list_keys()] == []
    assert _records(ctx, "key.generate") == 0
    listed = cli_run("key", "list", "--json")
    assert listed.code == 0, listed.err
    assert ctx.audit.entries(action_prefix="key.store.recover")[-1].details["outcome"] \
        == "removed"
    assert list(ctx.paths.keys_dir.iterdir()) == []
    again = cli_run("key", "generate", "--usage", "signing", "--label", "killed", "--json")
    assert again.code == 0, again.err
    assert [k.label for k in ctx.keystore.list_keys()] == ["killed"]
    assert _records(ctx, "key.generate") == 1
    verify = cli_run("audit", "verify", "--json")
    assert verify.code == 0 and verify.json()["ok"], verify.out + verify.err


@pytest.mark.both_backends
@pytest.mark.slow
def test_kill_before_the_record_of_an_outbox_send_leaves_the_request_queued(  # type: ignore[no-untyped-def]
        ctx, cli_run, backend: str, data_root: Path, tmp_path: Path,
        request: pytest.FixtureRequest) -> None:
    from smki_desktop.services import simulator_control
    from tests.integration.portal_helpers import enrolled

    enrolled(ctx)
    try:
        der = org_csr(ctx, "90-B3-D5-1F-30-01-00-22")
        csr = tmp_path / "org.csr"
        csr.write_text("-----BEGIN CERTIFICATE REQUEST-----\n"
                       + base64.encodebytes(der).decode()
                       + "-----END CERTIFICATE REQUEST-----\n")
        queued = cli_run("portal", "submit", str(csr), "--no-send", "--json")
        assert queued.code == 0, queued.err
        ref = queued.json()["ref"]
        # the DCC has answered; the state it gives and the send's record are next
        _killed_at(data_root, tmp_path, "audit:portal.send", "portal", "send", "--force")
        _settled(ctx, backend, _server(request, backend))
        assert portal.outbox(ctx).get(ref).state == "queued"
        assert _records(ctx, "portal.send") == 0
        # sent again under the same reference: submitted once, recorded once
        sent = cli_run("portal", "send", "--force", "--json")
        assert sent.code == 0, sent.err
        assert [(i["ref"], i["state"]) for i in sent.json()["sent"]] == [(ref, "submitted")]
        assert portal.outbox(ctx).get(ref).state == "submitted"
        assert [e.details["results"] for e in ctx.audit.entries(action_prefix="portal.send")] \
            == [{ref: "submitted"}]
        verify = cli_run("audit", "verify", "--json")
        assert verify.code == 0 and verify.json()["ok"], verify.out + verify.err
    finally:
        simulator_control.stop(ctx)


@pytest.mark.both_backends
def test_kill_before_the_record_of_an_adt_delivery_leaves_no_package(  # type: ignore[no-untyped-def]
        ctx, cli_run, backend: str, data_root: Path, tmp_path: Path,
        request: pytest.FixtureRequest) -> None:
    from tests.integration.adt_support import make_aro

    aro = make_aro(ctx, tmp_path)
    f = tmp_path / "adt.csv"
    assert cli_run("adt", "template", "--out", str(f)).code == 0
    signed = cli_run("adt", "sign", str(f), "--key", aro.key.key_id)
    assert signed.code == 0, signed.err
    package = tmp_path / "adt.csv.delivery.zip"
    _killed_at(data_root, tmp_path, "audit:adt.deliver", "adt", "deliver", str(f))
    _settled(ctx, backend, _server(request, backend))

    def deliveries() -> int:
        return int(ctx.db.conn().execute("SELECT COUNT(*) AS n FROM adt_deliveries")
                   .fetchone()["n"])

    # neither the package, nor its row, nor its record
    assert not package.exists()
    assert deliveries() == 0 and _records(ctx, "adt.deliver") == 0
    again = cli_run("adt", "deliver", str(f), "--json")
    assert again.code == 0, again.err
    assert package.is_file() and Path(again.json()["package"]) == package
    assert deliveries() == 1 and _records(ctx, "adt.deliver") == 1
    verify = cli_run("audit", "verify", "--json")
    assert verify.code == 0 and verify.json()["ok"], verify.out + verify.err


@pytest.mark.both_backends
@pytest.mark.slow
def test_kill_before_the_record_of_a_ceremony_key_step_leaves_no_key_without_it(  # type: ignore[no-untyped-def]
        ctx, cli_run, backend: str, data_root: Path, tmp_path: Path,
        request: pytest.FixtureRequest) -> None:
    import threading

    from tests.integration.ceremony_support import prepare, run_cli
    from tests.integration.test_ceremony_service import CEREMONY

    prepare(ctx, tmp_path)
    path = tmp_path / "media" / "c.toml"
    path.parent.mkdir()
    # backed up as shares (no passphrase to type), as in test_ceremony_attacks
    path.write_text(CEREMONY.replace('backup = "passphrase"', 'backup = "shares"').replace(
        'witnesses = ["Wendy Witness", "Walt Witness"]',
        'witnesses = ["Wendy Witness", "Walt Witness"]\ncustodians = ["Cara", "Cal", "Cy"]'
    ).replace("[[keys]]", "[backup]\nthreshold = 2\nshares = 3\n\n[[keys]]"))
    marker = tmp_path / "stalled-ceremony"

    def kill_when_stalled() -> None:  # the ceremony's key is made; its record is next
        end = time.monotonic() + 240
        while not marker.exists() and time.monotonic() < end:
            time.sleep(0.01)
        if marker.exists():
            time.sleep(0.05)  # the pid is written
            os.kill(int(marker.read_text()), signal.SIGKILL)

    killer = threading.Thread(target=kill_when_stalled, daemon=True)
    killer.start()
    code, out = run_cli(data_root, path, env_vars={fault_point.STALL: "audit:key.generate",
                                                   fault_point.STALL_FILE: str(marker)})
    killer.join(5)
    assert code == -signal.SIGKILL, out
    _settled(ctx, backend, _server(request, backend))

    def ceremony_keys() -> list[str]:
        return [k.label for k in ctx.keystore.list_keys() if k.label.startswith("ceremony ")]

    def key_records() -> list[str]:
        return [e.details["key_id"] for e in ctx.audit.entries(action_prefix="key.generate")
                if e.details.get("ceremony") == "small-one"]

    assert ceremony_keys() == [] and key_records() == []  # neither the key nor its record
    # the re-run resumes the interrupted step: one key, recorded once, and a transcript
    code, out = run_cli(data_root, path)
    assert code == 0, out
    assert len(ceremony_keys()) == 1
    assert key_records() == [k.key_id for k in ctx.keystore.list_keys()
                             if k.label.startswith("ceremony ")]
    verify = cli_run("--json", "ceremony", "verify", str(tmp_path / "media" / "out"))
    assert verify.code == 0, verify.out + verify.err
    audit = cli_run("audit", "verify", "--json")
    assert audit.code == 0 and audit.json()["ok"], audit.out + audit.err


@pytest.mark.both_backends
def test_kill_before_the_record_of_a_key_backup_hands_out_no_share(  # type: ignore[no-untyped-def]
        ctx, cli_run, backend: str, data_root: Path, tmp_path: Path,
        request: pytest.FixtureRequest) -> None:
    made = cli_run("key", "generate", "--usage", "signing", "--label", "backed", "--json")
    assert made.code == 0, made.err
    key_id = made.json()["key_id"]
    out = tmp_path / "backup"
    _killed_at(data_root, tmp_path, "audit:key.backup", "key", "backup", key_id, "--out",
               str(out), "--shares", "2-of-3")
    _settled(ctx, backend, _server(request, backend))

    def backups() -> int:
        return int(ctx.db.conn().execute("SELECT COUNT(*) AS n FROM key_backups")
                   .fetchone()["n"])

    # no share and no encrypted key file in sight, no backup row, no record
    assert [p.name for p in out.iterdir() if not p.name.startswith(".")] == []
    assert backups() == 0 and _records(ctx, "key.backup") == 0
    # the same folder is used again: what the killed run left does not stand in the way
    again = cli_run("key", "backup", key_id, "--out", str(out), "--shares", "2-of-3")
    assert again.code == 0, again.err + again.out
    assert sorted(p.name for p in out.iterdir()) == [
        f"key-{key_id[:16]}.smkikey", "share-1-of-3.txt", "share-2-of-3.txt",
        "share-3-of-3.txt"]
    assert backups() == 1 and _records(ctx, "key.backup") == 1
    verify = cli_run("audit", "verify", "--json")
    assert verify.code == 0 and verify.json()["ok"], verify.out + verify.err


@pytest.mark.both_backends
@pytest.mark.slow
def test_kill_before_the_record_of_a_polled_answer_leaves_the_request_to_ask_again(  # type: ignore[no-untyped-def]
        ctx, cli_run, backend: str, data_root: Path, tmp_path: Path,
        request: pytest.FixtureRequest) -> None:
    from smki_desktop.services import simulator_control
    from tests.integration.portal_helpers import enrolled

    enrolled(ctx)
    try:
        der = org_csr(ctx, "90-B3-D5-1F-30-01-00-23")
        item = portal.submit_org_csr(ctx, der, source="test")
        assert portal.outbox(ctx).get(item.item.ref).state == "submitted"
        ref = item.item.ref

        def certificates() -> int:
            return int(ctx.db.conn().execute("SELECT COUNT(*) AS n FROM certificates")
                       .fetchone()["n"])

        before = certificates()
        time.sleep(2.2)  # the simulator's default stage is 2 s
        # the certificate is fetched and imported, the request's end and its record are next
        _killed_at(data_root, tmp_path, "audit:portal.answer", "portal", "poll", "--force")
        _settled(ctx, backend, _server(request, backend))
        assert portal.outbox(ctx).get(ref).state == "submitted"
        assert certificates() == before and _records(ctx, "portal.answer") == 0
        polled = cli_run("portal", "poll", "--force", "--json")
        assert polled.code == 0, polled.err
        assert [c["ref"] for c in polled.json()["completed"]] == [ref]
        assert portal.outbox(ctx).get(ref).state == "done"
        assert certificates() == before + 1 and _records(ctx, "portal.answer") == 1
        verify = cli_run("audit", "verify", "--json")
        assert verify.code == 0 and verify.json()["ok"], verify.out + verify.err
    finally:
        simulator_control.stop(ctx)
