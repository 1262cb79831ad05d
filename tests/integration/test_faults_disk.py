"""A really full disk (a small tmpfs, as root; see test_full_disk.py for single outputs) under
the database and under the outputs of whole workflows: each fails with a message naming the
cause, nothing half-written is left, earlier data is intact, and the work succeeds once space
is freed."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from tests.integration.test_full_disk import tiny_disk  # noqa: F401  (the tmpfs fixture)

FULL = ("No space left on device", "is full", "disk is full", "database or disk is full")


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def _clear(err: str) -> None:
    assert any(f in err for f in FULL), err
    assert "Traceback" not in err, err


@pytest.mark.parametrize("tiny_disk", ["6m"], indirect=True)
def test_database_on_a_full_disk(tiny_disk: Path, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    root = tiny_disk / "root"
    r = cli_run("key", "generate", "--usage", "signing", "--label", "before", root=root)
    assert r.code == 0, r.err
    key_id = cli_run("key", "list", "--json", root=root).json()["keys"][0]["key_id"]
    filler = _fill(tiny_disk)
    # a database write of many rows (generated test devices; their files go elsewhere)
    r = cli_run("devices", "generate-test", "--count", "3000", "--out",
                str(tmp_path / "devices"), "--discard-keys", root=root)
    assert r.code == 1, (r.code, r.err)
    _clear(r.err)
    # a small write too (the Party profile)
    r = cli_run("party", "set", "--name", "Example Energy", "--party-id", "EXEN",
                "--party-type", "import-supplier",
                "--eui-range", "90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF", root=root)
    if r.code != 0:  # SQLite may find room in a free page for a small write
        _clear(r.err)
    filler.unlink()
    db = next((root / "test").glob("*.sqlite3"))
    c = sqlite3.connect(db)
    try:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert c.execute("SELECT COUNT(*) FROM device_csrs").fetchone()[0] == 0 \
            if _has(c, "device_csrs") else True
    finally:
        c.close()
    keys = cli_run("key", "list", "--json", root=root).json()["keys"]
    assert [k["key_id"] for k in keys] == [key_id]  # nothing lost
    v = cli_run("audit", "verify", "--json", root=root)
    assert v.code == 0 and json.loads(v.out)["ok"], v.out + v.err
    r = cli_run("devices", "generate-test", "--count", "50", "--out",
                str(tmp_path / "devices2"), "--discard-keys", root=root)
    assert r.code == 0, r.err


def _has(c: sqlite3.Connection, table: str) -> bool:
    return c.execute("SELECT 1 FROM sqlite_master WHERE name=?", (table,)).fetchone() is not None


@pytest.mark.parametrize("tiny_disk", ["256k"], indirect=True)
def test_outputs_on_a_full_disk(tiny_disk: Path, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """Workflow outputs onto a full disk: a CSR, an ADT template, a device batch; the data
    folder is elsewhere and stays consistent."""
    out = tiny_disk / "out"
    out.mkdir()
    filler = _fill(tiny_disk)
    r = cli_run("adt", "template", "--out", str(out / "adt.csv"))
    assert r.code == 1
    _clear(r.err)
    r = cli_run("devices", "generate-test", "--count", "200", "--out", str(out / "batch"),
                "--discard-keys")
    assert r.code == 1
    _clear(r.err)
    left = [p for p in out.rglob("*") if p.is_file()]
    assert left == [], left  # nothing half-written
    filler.unlink()
    assert cli_run("adt", "template", "--out", str(out / "adt.csv")).code == 0
    v = cli_run("audit", "verify", "--json")
    assert v.code == 0 and json.loads(v.out)["ok"], v.out
