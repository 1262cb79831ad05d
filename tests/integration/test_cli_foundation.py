"""The foundation's CLI: keys, environments, party and officer profile, audit verify."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from smki_desktop.core.audit import GENESIS, entry_hash
from tests.support.raw_store import RawStore, drop_audit_guards, open_raw


def test_generate_key_json_and_live_does_not_see_it(cli_run) -> None:
    r = cli_run("key", "generate", "--usage", "signing", "--label", "a", "--json")
    assert r.code == 0, r.err
    key_id = r.json()["key_id"]
    assert len(key_id) == 64
    live = cli_run("key", "list", "--json", env="live")
    assert live.code == 0 and live.json()["keys"] == []
    test = cli_run("--json", "key", "list")
    assert [k["key_id"] for k in test.json()["keys"]] == [key_id]
    pub = cli_run("key", "export-public", key_id[:8])
    assert pub.out.startswith("-----BEGIN PUBLIC KEY-----")
    bad = cli_run("key", "show", key_id[:8], env="live")
    # Live does not use it, and says why: the key is the Test environment's (issue 12)
    assert bad.code == 1 and "belongs to the Test environment" in bad.err \
        and "Live" in bad.err, bad.err


def test_bad_usage_and_short_prefix_are_input_errors(cli_run) -> None:
    r = cli_run("key", "generate", "--usage", "encryption", "--label", "a")
    assert r.code == 2 and "Usage 'encryption'" in r.err
    r = cli_run("key", "show", "abc")
    assert r.code == 2 and "at least 8" in r.err


def test_party_and_profile(cli_run) -> None:
    r = cli_run("party", "set", "--name", "Acme Energy", "--party-id", "ACME01", "--party-type",
                "import-supplier", "--eui-range", "90-B3-D5-1F-30-01-00-00..90B3D51F3001FFFF")
    assert r.code == 0, r.err
    shown = cli_run("party", "show", "--json").json()
    assert shown["party"]["eui_ranges"] == ["90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF"]
    assert cli_run("party", "show", env="live").code == 1
    bad = cli_run("party", "set", "--name", "A", "--party-id", "X", "--party-type",
                  "import-supplier", "--eui-range", "90B3D51F3001..90B3D51F3001FFFF")
    assert bad.code == 2 and "--eui-range" in bad.err
    bad = cli_run("profile", "set", "--name", "Ann", "--role", "boss")
    assert bad.code == 2 and "'aro' or 'sro'" in bad.err
    ok = cli_run("profile", "set", "--name", "Ann Smith", "--role", "aro", "--email", "a@b.co.uk")
    assert ok.code == 0
    assert cli_run("profile", "show", "--json").json()["profile"]["role"] == "aro"
    entries = cli_run("audit", "list", "--json").json()["entries"]
    assert entries[0]["action"] == "profile.set" and entries[0]["actor"] == "Ann Smith (ARO)"


def _db(data_root: Path) -> RawStore:
    c = open_raw(data_root)  # the SQLite file, or the team store the folder is linked to
    drop_audit_guards(c)
    return c


def _use(cli_run) -> None:
    cli_run("profile", "set", "--name", "Ann", "--role", "aro")
    for i in range(3):
        assert cli_run("key", "generate", "--usage", "signing", "--label", f"k{i}").code == 0


def test_audit_verify_passes_after_normal_use(cli_run, backend: str) -> None:
    _use(cli_run)
    r = cli_run("audit", "verify", "--json")
    # on a team store the workstation's first write registers its writer key, a record before it
    assert r.code == 0 and r.json()["ok"] and r.json()["rows"] == (5 if backend == "postgres"
                                                                   else 4)
    if backend == "postgres":
        first = cli_run("audit", "list", "--json").json()["entries"][-1]
        assert first["action"] == "audit.writer.register"


def test_audit_verify_fails_after_row_edit(cli_run, data_root: Path) -> None:
    _use(cli_run)
    c = _db(data_root)
    c.execute("UPDATE audit_log SET actor='Mallory (SRO)' WHERE seq=2")
    c.commit()
    r = cli_run("audit", "verify")
    assert r.code == 1 and "Row 2" in r.err and "edited" in r.err


def test_audit_verify_fails_after_recomputed_chain(cli_run, data_root: Path) -> None:
    _use(cli_run)
    c = _db(data_root)
    c.execute("UPDATE audit_log SET actor='Mallory (SRO)' WHERE seq=2")
    prev = GENESIS
    for row in c.execute("SELECT seq,ts,environment,actor,action,details,artifacts FROM audit_log "
                         "ORDER BY seq").fetchall():
        h = entry_hash(prev, *row)
        c.execute("UPDATE audit_log SET prev_hash=?, hash=? WHERE seq=?", (prev, h, row[0]))
        prev = h
    c.commit()
    r = cli_run("audit", "verify")
    assert r.code == 1 and "recomputed" in r.err


def test_audit_verify_fails_after_last_row_deleted(cli_run, data_root: Path) -> None:
    _use(cli_run)
    c = _db(data_root)
    c.execute("DELETE FROM audit_log WHERE seq=(SELECT MAX(seq) FROM audit_log)")
    c.commit()
    r = cli_run("audit", "verify")
    assert r.code == 1 and "deleted" in r.err


def test_audit_log_is_append_only_for_the_app(ctx) -> None:
    ctx.audit.record("test.one", {"a": 1})
    import pytest

    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        ctx.db.conn().execute("UPDATE audit_log SET actor='x'")


def test_moved_data_folder_is_refused(data_root: Path, cli_run) -> None:
    assert cli_run("key", "list").code == 0
    shutil.rmtree(data_root / "live", ignore_errors=True)  # a team link makes both folders
    (data_root / "test").rename(data_root / "live")
    r = cli_run("key", "list", env="live")
    assert r.code == 1 and "belongs to the test environment" in r.err


def test_party_show_names_a_missing_keyring_first(data_root: Path) -> None:
    """A fresh process with no Secret Service on its session bus: `smki party show` says so
    first, with how to start one, before the profile items."""
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent/smki-no-bus")
    smki = str(Path(sys.executable).parent / "smki")
    res = subprocess.run([smki, "--data-dir", str(data_root), "--json", "party", "show"],
                         env=env, capture_output=True, text=True, timeout=60)
    doc = json.loads(res.stdout)
    assert res.returncode == 1 and doc["party"] is None, (res.stdout, res.stderr)
    assert doc["missing"][0].startswith("No secure OS keyring is available")
    assert "no Secret Service is running in this session" in doc["missing"][0]
    assert "dbus-run-session" in doc["missing"][0]
    assert any("Party profile" in m for m in doc["missing"][1:])
