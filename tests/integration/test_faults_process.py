"""kill -9 of real `smki` processes during a signing and a database-heavy batch, and two
`smki` processes writing one data folder at once. After each: the database passes SQLite's
integrity check, the audit chain verifies (or names an interrupted write, never a forgery),
every output file that exists is complete, and the same command then succeeds.
(kill -9 during a portal batch: tests/integration/test_faults.py; during key generation:
issue 12's fix, tests/integration/test_key_generate_kill.py.)"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smki_desktop.core.adt.manifest import Manifest
from smki_desktop.crypto.cms import verify_detached
from smki_desktop.services import adt as adt_service
from tests.integration.adt_support import make_aro

CLI = [sys.executable, "-m", "smki_desktop.cli"]


def smki(root: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "--data-dir", str(root), *args], capture_output=True,
                          text=True, timeout=timeout)


def _killed_at(root: Path, delay: float, *args: str) -> int:
    """Start `smki ARGS`, kill -9 it after `delay` s; its exit code (-9 if the kill landed)."""
    p = subprocess.Popen([*CLI, "--data-dir", str(root), *args], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    time.sleep(delay)
    try:
        os.kill(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return p.wait(30)


def _killed_when(root: Path, watch: Path, *args: str) -> int:
    """Start `smki ARGS` and kill -9 it the moment `watch` appears (or when it ends)."""
    p = subprocess.Popen([*CLI, "--data-dir", str(root), *args], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while p.poll() is None and not watch.exists() and time.monotonic() < deadline:
        time.sleep(0.0005)
    try:
        os.kill(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return p.wait(30)


def _db_intact(root: Path) -> None:
    db = root / "test" / "smki.sqlite3"
    if not db.exists():
        db = next((root / "test").glob("*.sqlite*"))
    c = sqlite3.connect(db)
    try:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        c.close()


def _audit_ok(root: Path) -> dict:  # type: ignore[type-arg]
    r = smki(root, "audit", "verify", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(r.stdout)
    assert report["ok"] and not report["problems"], report
    return report  # type: ignore[no-any-return]


def _big_adt(path: Path, users: int) -> None:
    """A valid ADT file of 2 x `users` rows (users inside the Party's EUI range)."""
    rows = ["User ID,User Role,Service Request Type,Period,User Warning Threshold,"
            "User Quarantine Threshold"]
    for i in range(users):
        eui = "90-B3-D5-1F-30-01-" + f"{i >> 8:02X}-{i & 0xFF:02X}"
        rows.append(f"{eui},IS,ALL,DAY,200000,250000")
        rows.append(f"{eui},IS,1.1.1,HOUR,5000,8000")
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode())


@pytest.mark.slow
def test_kill_9_during_adt_signing(ctx, data_root: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Threat model #18: killed at each point of `adt sign`, the outputs are no set or the
    complete verified one (a kill between the publishing renames leaves a set without its
    manifest signature, which `adt verify` refuses as incomplete); the next signing of the
    same file, without --overwrite, succeeds, leaves no `.part` file, and the audit verifies
    with an `adt.sign` record for every set that exists."""
    aro = make_aro(ctx, tmp_path / "pki")
    f = tmp_path / "out" / "big-adt.csv"
    f.parent.mkdir()
    _big_adt(f, 30_000)
    adt_service.validate_file(ctx, f).raise_if_invalid(str(f))
    sig, manifest, manifest_sig = adt_service.default_paths(f)
    outputs = (sig, manifest, manifest_sig)
    # how long a whole signing takes here: the kills land at fractions of it, most near the end
    started = time.monotonic()
    r = smki(data_root, "adt", "sign", str(f), "--key", aro.key.key_id, "--smsr", "SMSR-KILL-0")
    assert r.returncode == 0, r.stderr
    whole = time.monotonic() - started
    outcomes = []
    args = ("adt", "sign", str(f), "--key", aro.key.key_id, "--smsr", "SMSR-KILL-1")
    plan: list[float | Path] = [whole * x for x in (0.3, 0.5, 0.7, 0.85, 0.95)]
    plan += [sig, manifest, manifest_sig]  # the moment each output appears
    for when in plan:
        for p in outputs:
            p.unlink(missing_ok=True)
        if isinstance(when, Path):
            code = _killed_when(data_root, when, *args)
            delay: float | str = when.name
        else:
            code = _killed_at(data_root, when, *args)
            delay = round(when, 2)
        present = [p for p in outputs if p.exists()]
        leftovers = [p.name for p in f.parent.iterdir() if p.name.endswith(".part")]
        _db_intact(data_root)
        _audit_ok(data_root)
        v = smki(data_root, "adt", "verify", str(f), "--json")
        if len(present) == 3:
            assert v.returncode == 0, v.stdout + v.stderr  # the complete set verifies
            shown = "complete"
        elif present:
            # a kill between the renames: the completing file is the one missing, and verify
            # refuses the set, saying it is incomplete
            assert manifest_sig not in present, (delay, present)
            with open(f, "rb") as fh:  # each file that is there is whole
                verify_detached(fh, sig.read_bytes())
            if manifest in present:
                Manifest.from_bytes(manifest.read_bytes())
            assert v.returncode != 0 and "incomplete" in v.stdout + v.stderr, v.stdout + v.stderr
            shown = "incomplete, refused"
        else:
            assert v.returncode != 0
            shown = "none"
        # every set that exists has its audit record (written before publishing)
        if present:
            sha = hashlib.sha256(present[0].read_bytes()).hexdigest()
            key = {sig: "signature", manifest: "manifest"}.get(present[0], "manifest_signature")
            assert any(e.artifacts.get(key) == sha for e in ctx.audit.entries(
                action_prefix="adt.sign")), (delay, present)
        # the next signing, without --overwrite, completes (replacing what the killed run left
        # unless it had completed), and no temporary file of the target is left
        again = smki(data_root, "adt", "sign", str(f), "--key", aro.key.key_id, "--smsr",
                     "SMSR-KILL-2", *(("--overwrite",) if len(present) == 3 else ()))
        assert again.returncode == 0, again.stdout + again.stderr
        assert all(p.exists() for p in outputs)
        assert not [p.name for p in f.parent.iterdir() if p.name.endswith(".part")]
        v = smki(data_root, "adt", "verify", str(f), "--json")
        assert v.returncode == 0, v.stdout + v.stderr
        assert json.loads(v.stdout)["smsr_reference"] == "SMSR-KILL-2"
        _audit_ok(data_root)
        outcomes.append((delay, code, shown, len(leftovers)))
        assert f.exists()  # the input is never touched
    assert any(code == -signal.SIGKILL for _d, code, *_ in outcomes), outcomes
    print("kill -9 during adt sign (when, exit, outputs seen, .part files left by the kill):",
          outcomes)


@pytest.mark.slow
def test_kill_9_during_a_database_batch(data_root: Path, tmp_path: Path) -> None:
    """`devices generate-test` writes thousands of rows and a zip: killed at several points,
    the database stays consistent and a re-run works."""
    # a first, whole run: the audit head exists in the keyring before the kills (a kill
    # before the very first head is written is the audit log's own case, issue 12 part A)
    r = smki(data_root, "devices", "generate-test", "--count", "10", "--out",
             str(tmp_path / "first"), "--discard-keys")
    assert r.returncode == 0, r.stderr
    outcomes = []
    for i, delay in enumerate((1.0, 1.6, 2.4)):
        out = tmp_path / f"gen{i}"
        code = _killed_at(data_root, delay, "devices", "generate-test", "--count", "4000",
                          "--out", str(out), "--discard-keys")
        _db_intact(data_root)
        report = _audit_ok(data_root)
        zips = sorted(out.glob("*.zip")) if out.exists() else []
        for z in zips:  # a zip that exists is complete
            import zipfile

            with zipfile.ZipFile(z) as zf:
                assert zf.testzip() is None
        outcomes.append((delay, code, len(zips), report.get("rows")))
    r = smki(data_root, "devices", "generate-test", "--count", "200", "--out",
             str(tmp_path / "after"), "--discard-keys", "--json")
    assert r.returncode == 0, r.stderr
    _db_intact(data_root)
    _audit_ok(data_root)
    print("kill -9 during devices generate-test (delay s, exit, zips, audit records):",
          outcomes)


WRITER = r"""
import sys
from pathlib import Path
from smki_desktop.core.environment import Environment
from smki_desktop.core.keys import KeyUsage
from smki_desktop.services.context import open_context
from smki_desktop.services.keys import generate_key
ctx = open_context(Environment.TEST, Path(sys.argv[1]))
for i in range(int(sys.argv[3])):
    generate_key(ctx, KeyUsage.SIGNING, f"{sys.argv[2]}-{i}")
ctx.close()
"""


@pytest.mark.slow
def test_two_processes_writing_at_once(data_root: Path) -> None:
    n = 15
    assert smki(data_root, "key", "list").returncode == 0  # the data folder exists
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(data_root), name, str(n)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name in ("alpha", "beta")]
    results = [(p.wait(300), p.stderr.read() if p.stderr else "") for p in procs]
    assert all(code == 0 for code, _ in results), results
    keys = json.loads(smki(data_root, "key", "list", "--json").stdout)["keys"]
    labels = sorted(k["label"] for k in keys)
    assert labels == sorted([f"alpha-{i}" for i in range(n)] + [f"beta-{i}" for i in range(n)])
    _db_intact(data_root)
    report = _audit_ok(data_root)
    # nothing was interrupted: the head in the keyring is the last row, no note of a lost write
    assert report["notes"] == [], report
    # and each key is usable (its wrapping secret and file match)
    r = smki(data_root, "key", "export-public", keys[0]["key_id"])
    assert r.returncode == 0 and "BEGIN PUBLIC KEY" in r.stdout, r.stderr
