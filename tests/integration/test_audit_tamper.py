"""Audit log tampering by someone who can write the data folder but not use the keyring: every
case fails `smki audit verify`; an interrupted write is told apart from a forgery."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from smki_desktop.core.audit import GENESIS, ChainHead, entry_hash, signing_payload
from smki_desktop.core.environment import Environment
from smki_desktop.services.context import open_context
from tests.conftest import link_team_store
from tests.support.raw_store import (
    RawStore,
    copy_audit_log,
    drop_audit_guards,
    is_team,
    open_raw,
    restore,
    set_installation_id,
    snapshot,
    wipe,
)


def _db(data_root: Path) -> RawStore:
    c = open_raw(data_root)  # the SQLite file, or the team store the folder is linked to
    drop_audit_guards(c)
    return c


def _use(data_root: Path, n: int = 4) -> None:
    ctx = open_context(Environment.TEST, data_root)
    try:
        for i in range(n):
            ctx.audit.record(f"test.step{i}", {"i": i}, {"blob": f"data{i}".encode()})
    finally:
        ctx.close()


def _reg(data_root: Path) -> int:
    """Rows a workstation's first record adds before it: on a team store its writer's signed
    registration (`audit.writer.register`), so its records start one row later."""
    return 1 if is_team(data_root) else 0


def _verify(cli_run, root: Path | None = None):  # type: ignore[no-untyped-def]
    r = cli_run("audit", "verify", "--json", root=root)
    return r.code, r.json(), r.err


def _recompute(c: RawStore) -> None:
    prev = GENESIS
    for row in c.execute("SELECT seq,ts,environment,actor,action,details,artifacts FROM audit_log "
                         "ORDER BY seq").fetchall():
        h = entry_hash(prev, *row)
        c.execute("UPDATE audit_log SET prev_hash=?, hash=? WHERE seq=?", (prev, h, row[0]))
        prev = h


def _append_forged(c: RawStore, key: Ed25519PrivateKey | None = None) -> None:
    last = c.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = last[0] + 1, last[1]
    args = (seq, "2026-12-04T10:00:00.000000+00:00", "test", "Mallory (ARO)", "cert.import",
            "{}", "{}")
    h = entry_hash(prev, *args)
    writer, sig = "", ""
    if key is not None:
        pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        import hashlib

        writer = hashlib.sha256(pub).hexdigest()
        sig = base64.b64encode(key.sign(signing_payload(h, writer))).decode()
        c.execute("INSERT INTO audit_writers VALUES(?,?,?,?,?)",
                  (writer, pub, "mallory", "test", args[1]))
    c.execute("INSERT INTO audit_log(seq,ts,environment,actor,action,details,artifacts,"
              "prev_hash,hash,writer,sig) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
              (*args, prev, h, writer, sig))


def test_normal_use_verifies(cli_run, data_root: Path) -> None:
    _use(data_root)
    code, data, _ = _verify(cli_run, data_root)
    assert code == 0 and data["ok"] and data["rows"] == 4 + _reg(data_root)
    assert not data["notes"], data


def test_edited_row_fails(cli_run, data_root: Path) -> None:
    _use(data_root)
    c = _db(data_root)
    c.execute("UPDATE audit_log SET details='{\"i\": 9}' WHERE seq=2")
    c.commit()
    code, data, _ = _verify(cli_run, data_root)
    assert code == 1 and any("Row 2" in p and "edited" in p for p in data["problems"])


def test_recomputed_chain_fails(cli_run, data_root: Path) -> None:
    _use(data_root)
    c = _db(data_root)
    c.execute("UPDATE audit_log SET actor='Mallory (SRO)' WHERE seq=2")
    _recompute(c)
    c.commit()
    code, data, _ = _verify(cli_run, data_root)
    assert code == 1 and any("signature" in p for p in data["problems"])


def test_rows_appended_after_head_with_recomputed_hashes_fail(cli_run, data_root: Path) -> None:
    _use(data_root)
    c = _db(data_root)
    _append_forged(c)
    _append_forged(c)
    c.commit()
    code, data, _ = _verify(cli_run, data_root)
    assert code == 1
    assert any(f"Row {5 + _reg(data_root)}" in p and "no writer signature" in p
               for p in data["problems"]), data
    assert not any("interrupted" in n for n in data["notes"])


def test_row_signed_by_a_self_registered_writer_fails(cli_run, data_root: Path) -> None:
    _use(data_root)
    c = _db(data_root)
    _append_forged(c, Ed25519PrivateKey.generate())
    c.commit()
    code, data, _ = _verify(cli_run, data_root)
    assert code == 1 and any(f"Row {5 + _reg(data_root)}" in p and "not a registered writer" in p
                             for p in data["problems"])


def test_replaced_writer_public_key_fails(cli_run, data_root: Path) -> None:
    _use(data_root)
    c = _db(data_root)
    mallory = Ed25519PrivateKey.generate()
    pub = mallory.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    c.execute("UPDATE audit_writers SET public_key=?", (pub,))
    c.commit()
    code, data, _ = _verify(cli_run, data_root)
    assert code == 1 and any("writer registry" in p for p in data["problems"])


def test_last_row_deleted_fails(cli_run, data_root: Path) -> None:
    _use(data_root)
    c = _db(data_root)
    c.execute("DELETE FROM audit_log WHERE seq=?", (4 + _reg(data_root),))
    c.commit()
    code, data, _ = _verify(cli_run, data_root)
    assert code == 1 and any("deleted" in p for p in data["problems"])


def test_middle_row_removed_fails(cli_run, data_root: Path) -> None:
    _use(data_root)
    c = _db(data_root)
    c.execute("DELETE FROM audit_log WHERE seq=2")
    c.commit()
    code, data, _ = _verify(cli_run, data_root)
    assert code == 1 and any("missing" in p or "link" in p for p in data["problems"])


def test_reordered_rows_fail(cli_run, data_root: Path) -> None:
    _use(data_root)
    c = _db(data_root)
    c.execute("UPDATE audit_log SET seq=-2 WHERE seq=2")
    c.execute("UPDATE audit_log SET seq=2 WHERE seq=3")
    c.execute("UPDATE audit_log SET seq=3 WHERE seq=-2")
    c.commit()
    code, data, _ = _verify(cli_run, data_root)
    assert code == 1 and any("link" in p for p in data["problems"])


def test_every_row_deleted_and_installation_id_changed_fails(cli_run, data_root: Path) -> None:
    _use(data_root)
    c = _db(data_root)
    c.execute("DELETE FROM audit_log")
    c.execute("DELETE FROM audit_writers")
    c.commit()
    # the id in the database (SQLite) or in the folder's team link (a team workstation's own)
    set_installation_id(data_root, "0123456789abcdef0123456789abcdef")
    code, data, _ = _verify(cli_run, data_root)
    assert code == 1 and data["rows"] == 0
    assert any("installation" in p and "replaced" in p for p in data["problems"])


@pytest.mark.parametrize("how", ["deleted", "emptied"])
def test_database_deleted_or_emptied_fails_even_after_new_records(cli_run, data_root: Path,
                                                                  how: str) -> None:
    """The SQLite file deleted or emptied; on a team store its schema dropped and initialised
    again, or every table truncated (raw_store.wipe)."""
    _use(data_root)
    wipe(data_root, how)
    code, data, _ = _verify(cli_run, data_root)
    assert code == 1 and any("installation" in p for p in data["problems"]), data
    # a fresh start is not possible: new records keep the loss on record
    _use(data_root, 2)
    code, data, _ = _verify(cli_run, data_root)
    assert code == 1 and any("disappeared" in p for p in data["problems"]), data


def test_database_replaced_by_another_installations_fails(cli_run, data_root: Path,
                                                         tmp_path: Path,
                                                         request: pytest.FixtureRequest) -> None:
    """Another installation's database (a file copied over; on a team store another team
    store's dump restored over it) with a log that verifies where it came from."""
    _use(data_root)
    other = tmp_path / "other"
    other.mkdir()
    if is_team(data_root):  # another team's store, with its own workstation
        server = request.getfixturevalue("postgres_server")
        for name in link_team_store(server, other):
            request.addfinalizer(lambda name=name: server.drop_database(name))
    _use(other, 6)
    code, data, _ = _verify(cli_run, other)
    assert code == 0, data
    restore(data_root, snapshot(other, tmp_path / "other.copy"))
    code, data, _ = _verify(cli_run, data_root)
    assert code == 1 and any("installation" in p for p in data["problems"]), data


def test_rows_from_the_other_environment_fail(cli_run, data_root: Path) -> None:
    _use(data_root)
    c = _db(data_root)
    c.execute("UPDATE audit_log SET environment='live' WHERE seq=1")
    c.commit()
    code, data, _ = _verify(cli_run, data_root)
    assert code == 1 and any("live environment" in p for p in data["problems"])


def test_interrupted_write_is_told_apart_from_a_forgery(cli_run, data_root: Path) -> None:
    _use(data_root)
    ctx = open_context(Environment.TEST, data_root)
    try:
        # a crash after the row's commit and before the keyring head was moved
        anchor = ctx.audit._load_anchor()
        assert anchor is not None
        row3 = ctx.audit.repo.rows()[2]
        anchor.seq, anchor.hash = row3.seq, row3.hash
        ctx.keystore.secrets.set(ctx.audit.anchor_entry, anchor.to_text())
    finally:
        ctx.close()
    code, data, _ = _verify(cli_run, data_root)
    assert code == 0 and any("interrupted" in n for n in data["notes"])
    # the same position with a forged row instead fails
    c = _db(data_root)
    c.execute("DELETE FROM audit_log WHERE seq=?", (4 + _reg(data_root),))
    _append_forged(c)
    c.commit()
    code, data, _ = _verify(cli_run, data_root)
    assert code == 1 and not any("interrupted" in n for n in data["notes"])


def _legacy_log(data_root: Path, n: int) -> tuple[str, list[str]]:
    """A log as the app wrote it before signing: hash chain + head in the keyring by id."""
    ctx = open_context(Environment.TEST, data_root)
    try:
        c = ctx.db.conn()
        prev, hashes = GENESIS, []
        for i in range(1, n + 1):
            args = (i, f"2026-11-0{i}T10:00:00.000000+00:00", "test", "Ann (ARO)",
                    f"old.{i}", "{}", "{}")
            h = entry_hash(prev, *args)
            c.execute("INSERT INTO audit_log(seq,ts,environment,actor,action,details,artifacts,"
                      "prev_hash,hash) VALUES(?,?,?,?,?,?,?,?,?)", (*args, prev, h))
            prev = h
            hashes.append(h)
        ctx.keystore.secrets.set(f"audit-head:{ctx.installation_id}",
                                 ChainHead(n, prev).to_text())
        return ctx.installation_id, hashes
    finally:
        ctx.close()


def test_existing_log_is_migrated_signing_from_its_head(cli_run, data_root: Path) -> None:
    _legacy_log(data_root, 3)
    code, data, _ = _verify(cli_run, data_root)
    assert code == 0 and any("hash-chained only" in n for n in data["notes"])
    _use(data_root, 2)
    entries = cli_run("audit", "list", "--json").json()["entries"]
    start = [e for e in entries if e["action"] == "audit.signing.start"]
    assert start and start[0]["seq"] == 4 + _reg(data_root)
    assert start[0]["details"]["unsigned_rows"] == 3
    code, data, _ = _verify(cli_run, data_root)
    assert code == 0 and data["rows"] == 6 + _reg(data_root)
    assert any("Rows 1..3 predate signing" in n for n in data["notes"])
    # the unsigned part is still bound: editing it (even with a recomputed chain) fails
    c = _db(data_root)
    c.execute("UPDATE audit_log SET actor='Mallory (SRO)' WHERE seq=2")
    _recompute(c)
    c.commit()
    code, data, _ = _verify(cli_run, data_root)
    assert code == 1


def test_migration_does_not_bless_rows_added_after_the_old_head(cli_run, data_root: Path) -> None:
    _legacy_log(data_root, 3)
    c = _db(data_root)
    _append_forged(c)
    c.commit()
    _use(data_root, 1)
    code, data, _ = _verify(cli_run, data_root)
    assert code == 1 and any("Rows 4..4 were added after" in p for p in data["problems"])


def test_writer_key_is_not_in_the_data_folder(data_root: Path) -> None:
    _use(data_root)
    ctx = open_context(Environment.TEST, data_root)
    try:
        anchor = ctx.audit._load_anchor()
        assert anchor is not None
        secret = base64.b64decode(anchor.key)
    finally:
        ctx.close()
    for f in (data_root).rglob("*"):
        if f.is_file():
            blob = f.read_bytes()
            assert secret not in blob and anchor.key.encode() not in blob, f
    assert json.loads(anchor.to_text())["installation"]


def test_several_processes_starting_a_log_at_once_agree_on_one_writer(data_root: Path,
                                                                       cli_run) -> None:
    import os
    import subprocess
    import sys

    open_context(Environment.TEST, data_root).close()  # the database exists; no record yet
    env = {**os.environ, "SMKI_DATA_DIR": str(data_root)}
    procs = [subprocess.Popen([sys.executable, "-m", "smki_desktop.cli", "profile", "set",
                               "--name", f"Officer {i}", "--role", "aro"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for i in range(4)]
    for p in procs:
        assert p.wait(120) == 0, p.stderr.read() if p.stderr else ""
    code, data, _ = _verify(cli_run, data_root)
    assert code == 0 and data["rows"] == 4 + _reg(data_root), data


# A workstation's own log lives in its data folder; the folder of a workstation linked to a team
# store holds no log (only the link), and the store's own loss (wiped, truncated, replaced) is
# the pin tests' below: these two start from a workstation's own SQLite folder on either run.
OWN_LOG = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@OWN_LOG
def test_a_deliberate_fresh_start_can_be_acknowledged_by_an_officer(cli_run,
                                                                    data_root: Path) -> None:
    _use(data_root)
    reg = _reg(data_root)  # before the folder (and its team link) goes
    shutil.rmtree(data_root / "test")
    assert cli_run("audit", "verify").code == 1
    assert cli_run("audit", "acknowledge-loss", "--reason", " ").code == 2
    r = cli_run("audit", "acknowledge-loss", "--reason", "laptop rebuilt, ticket 42")
    assert r.code == 0, r.err
    code, data, _ = _verify(cli_run, data_root)
    assert code == 0 and any("ticket 42" in n for n in data["notes"]), data
    entries = cli_run("audit", "list", "--json").json()["entries"]
    assert entries[0]["action"] == "audit.loss.acknowledge"
    assert entries[0]["details"]["lost"][0]["seq"] == 4 + reg
    # nothing more to acknowledge
    assert cli_run("audit", "acknowledge-loss", "--reason", "again").code == 1


def test_a_moved_data_folder_still_verifies(cli_run, data_root: Path, tmp_path: Path) -> None:
    _use(data_root)
    reg = _reg(data_root)
    moved = tmp_path / "elsewhere"
    shutil.move(str(data_root), str(moved))
    code, data, _ = _verify(cli_run, moved)
    assert code == 0 and data["rows"] == 4 + reg
    assert any("moved here" in n for n in data["notes"])
    _use(moved, 1)
    code, data, _ = _verify(cli_run, moved)
    assert code == 0 and data["rows"] == 5 + reg and not data["notes"], data


def test_deleted_last_row_is_not_healed_by_later_records(cli_run, data_root: Path) -> None:
    """Deleting the last row and letting the app write on must not make the log verify once
    the new rows pass the keyring's head (the head must not jump over a gap)."""
    _use(data_root)
    c = _db(data_root)
    c.execute("DELETE FROM audit_log WHERE seq=?", (4 + _reg(data_root),))
    c.commit()
    c.close()
    _use(data_root, 3)
    code, data, _ = _verify(cli_run, data_root)
    assert code == 1, data
    assert any("rolled back" in p for p in data["problems"]), data


def test_database_rolled_back_to_an_older_copy_stays_detected(cli_run, data_root: Path,
                                                              tmp_path: Path) -> None:
    """Restore an older copy of the database (rollback), wait for the officer to write more
    records than were removed: still a failure; and putting the newer copy back after that
    (losing the records written meanwhile) fails too."""
    _use(data_root, 2)
    old = snapshot(data_root, tmp_path / "old.copy")  # a file copy, or a pg_dump
    _use(data_root, 4)
    newer = snapshot(data_root, tmp_path / "newer.copy")
    restore(data_root, old)
    _use(data_root, 6)
    code, data, _ = _verify(cli_run, data_root)
    assert code == 1 and any("rolled back" in p for p in data["problems"]), data
    restore(data_root, newer)
    code, data, _ = _verify(cli_run, data_root)
    assert code == 1, data


def test_a_deliberate_rollback_can_be_acknowledged_by_an_officer(cli_run,
                                                                 data_root: Path) -> None:
    _use(data_root)
    c = _db(data_root)
    c.execute("DELETE FROM audit_log WHERE seq>=3")
    c.commit()
    c.close()
    _use(data_root, 1)
    assert cli_run("audit", "verify").code == 1
    r = cli_run("audit", "acknowledge-loss", "--reason", "backup restored, ticket 7")
    assert r.code == 0, r.err
    code, data, _ = _verify(cli_run, data_root)
    assert code == 0 and any("ticket 7" in n for n in data["notes"]), data
    assert cli_run("audit", "acknowledge-loss", "--reason", "again").code == 1


@pytest.mark.parametrize("change", [
    "hash=X'00'", "details='{not json'", "details=X'7b7d'", "prev_hash=X'30'",
    "artifacts='[1'", "ts=X'00ff'", "sig=X'0102'", "writer=X'41'",
])
def test_columns_of_odd_types_or_bad_json_fail_verification_without_a_traceback(
        cli_run, data_root: Path, change: str) -> None:
    """SQLite keeps whatever type is written; a tampered row holding a BLOB or broken JSON is
    a forgery to report, not a crash of `audit verify` or `audit list`."""
    _use(data_root)
    c = _db(data_root)
    c.execute(f"UPDATE audit_log SET {change} WHERE seq=2")
    c.commit()
    c.close()
    code, data, _ = _verify(cli_run, data_root)
    assert code == 1 and any("Row 2" in p for p in data["problems"]), data
    r = cli_run("audit", "list", "--json")
    assert r.code == 0, r.err
    assert [e["seq"] for e in r.json()["entries"]] == list(range(4 + _reg(data_root), 0, -1))


_WRITER = """
import sys
from pathlib import Path
from smki_desktop.core.environment import Environment
from smki_desktop.services.context import open_context
ctx = open_context(Environment.TEST, Path(sys.argv[1]))
print("ready", flush=True)
i = 0
while True:
    ctx.audit.record("test.loop", {"i": i})
    i += 1
"""


def test_real_kill_9_mid_write_never_looks_like_a_forgery(cli_run, data_root: Path) -> None:
    """A process writing records in a loop, killed with SIGKILL at odd moments (between the
    row's commit and the keyring head's update among them), then more records by the app:
    verify never reports a problem (a lagging head is only a note)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    _use(data_root, 1)
    for attempt in range(4):
        proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(data_root)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(0.2 + 0.37 * attempt)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        code, data, _ = _verify(cli_run, data_root)
        assert code == 0, data
        _use(data_root, 1)  # the app goes on writing after the crash
        code, data, _ = _verify(cli_run, data_root)
        assert code == 0 and data["rows"] > 1, data


def test_live_rows_and_writer_copied_into_test_fail(cli_run, data_root: Path) -> None:
    """The whole Live log (rows and its registered writer) copied over the Test log: signed,
    chained and registered, but by another installation's writer in another environment (on a
    team store: the Live store's rows, with its writer's signed registration)."""
    _use(data_root)
    live = open_context(Environment.LIVE, data_root)
    try:
        for i in range(6):
            live.audit.record(f"live.step{i}", {"i": i})
    finally:
        live.close()
    copy_audit_log(data_root, "live")  # ATTACH on SQLite, rows copied across on PostgreSQL
    code, data, _ = _verify(cli_run, data_root)
    assert code == 1, data
    assert any("not a registered writer" in p for p in data["problems"]), data
    assert any("live environment" in p for p in data["problems"]), data


@OWN_LOG
@pytest.mark.parametrize("target", ["env folder", "data root"])
def test_folder_swapped_for_a_symlink_to_an_empty_one_is_not_a_fresh_start(
        cli_run, data_root: Path, tmp_path: Path, target: str) -> None:
    """The attacker moves the log away and puts a symbolic link to an empty folder where it
    was: the app opens a fresh database there, but the folder the app uses is the same, so
    the keyring's mark for it still says another installation's log lived there."""
    _use(data_root)
    empty = tmp_path / "empty"
    empty.mkdir()
    link = data_root / "test" if target == "env folder" else data_root
    shutil.move(str(link), str(tmp_path / "hidden"))
    link.symlink_to(empty, target_is_directory=True)
    code, data, _ = _verify(cli_run, data_root)
    assert code == 1, data
    _use(data_root, 2)
    code, data, _ = _verify(cli_run, data_root)
    assert code == 1 and any("disappeared" in p for p in data["problems"]), data


# -- a team store's identity and the newest row each workstation saw (core/team_pin.py) ------
# These attacks exist only where the store is shared, so the tests make their own team store
# (two workstations on it) in every run, whatever SMKI_TEST_BACKEND says.

def _team(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, Path]:
    """Two workstations (own data folders and installation ids) on one fresh team store."""
    import secrets as _secrets

    from smki_desktop.store import team_link

    server = request.getfixturevalue("postgres_server")
    a, b = tmp_path / "ws-a", tmp_path / "ws-b"
    for name in link_team_store(server, a):
        request.addfinalizer(lambda name=name: server.drop_database(name))
    for env in ("test", "live"):
        link = team_link.load(a / env)
        assert link is not None
        (b / env).mkdir(parents=True)
        team_link.save(b / env, team_link.TeamLink(link.url, _secrets.token_hex(16),
                                                   link.connected_at))
    return a, b


def test_team_store_rolled_back_is_seen_by_a_workstation_that_only_read_it(
        cli_run, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Workstation B never writes, only verifies: it pins the newest row it saw. The store
    rolled back to an older dump is refused there, and stays refused once A writes on."""
    a, b = _team(request, tmp_path)
    _use(a, 2)
    old = snapshot(a, tmp_path / "old.dump")
    _use(a, 3)
    code, data, _ = _verify(cli_run, b)
    assert code == 0, data
    restore(a, old)
    code, data, _ = _verify(cli_run, b)
    assert code == 1 and any("rolled back" in p and "row 6" in p for p in data["problems"]), \
        data
    _use(a, 6)  # the store moves on past the row B saw
    code, data, _ = _verify(cli_run, b)
    assert code == 1 and any("rolled back" in p for p in data["problems"]), data


def test_team_store_replaced_is_refused_on_every_workstation_that_saw_it(
        cli_run, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Another team's store restored over this one: A (which wrote) and B (which only read)
    both name the store that disappeared, each from its own keyring; B acknowledges the loss
    with a reason in a signed record and verifies again, A still refuses."""
    a, b = _team(request, tmp_path)
    other, _ = _team(request, tmp_path / "other")
    _use(a, 3)
    assert _verify(cli_run, b)[0] == 0
    _use(other, 5)
    restore(a, snapshot(other, tmp_path / "other.dump"))
    for ws in (a, b):
        code, data, _ = _verify(cli_run, ws)
        assert code == 1 and any("disappeared" in p and "installation" in p
                                 for p in data["problems"]), (ws, data)
    r = cli_run("audit", "acknowledge-loss", "--reason", "store rebuilt, ticket 9", root=b)
    assert r.code == 0, r.err
    code, data, _ = _verify(cli_run, b)
    assert not any("disappeared" in p for p in data["problems"]), data
    assert any("ticket 9" in n and "replaced" in n for n in data["notes"]), data
    assert cli_run("audit", "acknowledge-loss", "--reason", "again", root=b).code == 1
    assert _verify(cli_run, a)[0] == 1


def test_team_store_identity_is_written_at_init_and_kept(request: pytest.FixtureRequest,
                                                         tmp_path: Path) -> None:
    """`team init` gives the store a random identity, which a second init does not change."""
    from smki_desktop.store import team_link
    from smki_desktop.store.repos import team as team_repo

    a, _ = _team(request, tmp_path)
    link = team_link.load(a / "test")
    assert link is not None
    store = team_link.open_store(link, None, a / "test")
    try:
        first = team_repo.store_id(team_link.as_database(store))
        assert len(first) == 32 and int(first, 16) >= 0
        assert not team_repo.initialise(store, "test", "", "x" * 32, "2026-12-05T00:00:00Z")
        assert team_repo.store_id(team_link.as_database(store)) == first
    finally:
        store.close()
