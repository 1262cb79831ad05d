"""Packaging a Device CSR batch stopped at any point (a real `smki devices package` killed
with SIGKILL at a fault point, as in test_atomic_actions): no zip is ever visible that the app
has no record of; a batch recorded but not yet placed has its staged files placed by the next
`package` or `status` when they match the record, and never when they do not; files missing
since are named; a placing that fails takes the record back. One stopped before its record
has its staging folder removed by the next `package` into that folder (or `status`, in a
packaged batch's folder), audited and said, unless a live process holds its lock."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from smki_desktop.core import batch_formats as bf
from smki_desktop.portal import upload
from smki_desktop.services import devices
from smki_desktop.services.context import AppContext
from smki_desktop.services.devices import packaging
from smki_desktop.store.atomic import OutputError
from tests.integration.test_atomic_actions import _killed_at, _records, _server, _settled

PLACED = "its packaging was stopped before its files were put in place; they are now, in"
STOPPED = "removed the unfinished files of a packaging that was stopped before it was recorded: "


def _source(cli_run, tmp_path: Path, count: int = 5, folder: str = "g") -> Path:  # type: ignore[no-untyped-def]
    gen = cli_run("devices", "generate-test", "--count", str(count), "--out",
                  str(tmp_path / folder), "--discard-keys", "--format", "csv")
    assert gen.code == 0, gen.err
    return tmp_path / folder / "test-devices.csv"


def _kill(ctx: AppContext, data_root: Path, tmp_path: Path, request: pytest.FixtureRequest,
          point: str, *args: str) -> None:
    """`smki ARGS` killed at `point`; on PostgreSQL, once the server has ended its session."""
    _killed_at(data_root, tmp_path, point, *args)
    backend = str(request.getfixturevalue("backend"))
    _settled(ctx, backend, _server(request, backend))


def _visible(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if not p.name.startswith("."))


def _batches(ctx: AppContext) -> list[tuple[str, str]]:
    return [(str(r["id"]), str(r["name"])) for r in ctx.db.conn().execute(
        "SELECT id, name FROM device_batches ORDER BY created")]


def _zip_csrs(out: Path, names: list[str]) -> dict[str, bytes]:
    got: dict[str, bytes] = {}
    for n in names:
        contents = bf.read_batch_zip((out / n).read_bytes())
        assert not contents.problems
        got.update((m.name, m.der) for m in contents.members)
    return got


def test_killed_before_the_record_leaves_no_zip_in_sight_and_no_batch(  # type: ignore[no-untyped-def]
        ctx, cli_run, data_root: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    src = _source(cli_run, tmp_path)
    out = tmp_path / "out"
    # every file is staged; the batch's rows are written, its audit record is next
    _kill(ctx, data_root, tmp_path, request, "audit:devices.package", "devices", "package",
          str(src), "--out", str(out), "--name", "b1")
    assert _visible(out) == []
    # its staged files stay hidden in their staging folder: unrecorded, never placed, with
    # the lock file its process held (the kernel released it at the kill)
    [staging] = upload.staging_folders(out, "b1")
    assert (staging / upload.STAGING_LOCK).is_file()
    assert _batches(ctx) == [] and _records(ctx, "devices.package") == 0
    # packaged again under the same name: whole, once; the stopped packaging's folder removed
    again = cli_run("devices", "package", str(src), "--out", str(out), "--name", "b1",
                    "--json")
    assert again.code == 0, again.err
    assert _visible(out) == ["b1.zip"] and again.json()["finished"] == {}
    assert again.json()["cleared"] == [f"{STOPPED}{staging}"]
    assert f"Removed the unfinished files of a packaging that was stopped before it was " \
        f"recorded: {staging}" in again.err
    assert [n for _, n in _batches(ctx)] == ["b1"] and _records(ctx, "devices.package") == 1
    assert sorted(out.iterdir()) == [out / "b1.zip"]  # nothing hidden left either
    [removed] = ctx.audit.entries(action_prefix="devices.package-staging-removed")
    assert removed.details["folder"] == str(staging) and removed.details["name"] == "b1"
    assert removed.details["files"] == ["b1.zip"]
    status = cli_run("devices", "status")
    assert status.code == 0 and "WARNING" not in status.out, status.out
    verify = cli_run("audit", "verify", "--json")
    assert verify.code == 0 and verify.json()["ok"], verify.out + verify.err


def test_killed_before_the_record_status_clears_it_from_a_batch_output_folder(  # type: ignore[no-untyped-def]
        ctx, cli_run, data_root: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    out = tmp_path / "out"
    first = cli_run("devices", "package", str(_source(cli_run, tmp_path, 2)), "--out",
                    str(out), "--name", "b0", "--json")
    assert first.code == 0, first.err
    b0 = first.json()["batch_id"]
    src = _source(cli_run, tmp_path, 3, "g2")
    _kill(ctx, data_root, tmp_path, request, "audit:devices.package", "devices", "package",
          str(src), "--out", str(out), "--name", "b1")
    [staging] = upload.staging_folders(out, "b1")
    # status looks into the output folders of the packaged batches: said under the newest
    status = cli_run("devices", "status")
    assert status.code == 1
    assert (f"WARNING in its output folder, {STOPPED}{staging}") in status.out, status.out
    assert status.out.index(b0) < status.out.index("WARNING")
    assert upload.staging_folders(out, "b1") == [] and _visible(out) == ["b0.zip"]
    assert _records(ctx, "devices.package-staging-removed") == 1
    # said once: nothing left to remove
    again = cli_run("devices", "status")
    assert again.code == 0 and "WARNING" not in again.out, again.out
    assert _records(ctx, "devices.package-staging-removed") == 1


def test_a_stopped_packaging_whose_lock_another_process_holds_is_left_alone(  # type: ignore[no-untyped-def]
        ctx, cli_run, data_root: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    out = tmp_path / "out"
    first = cli_run("devices", "package", str(_source(cli_run, tmp_path, 2)), "--out",
                    str(out), "--name", "b0")
    assert first.code == 0, first.err
    _kill(ctx, data_root, tmp_path, request, "audit:devices.package", "devices", "package",
          str(_source(cli_run, tmp_path, 3, "g2")), "--out", str(out), "--name", "b1")
    [staging] = upload.staging_folders(out, "b1")
    before = sorted(p.name for p in staging.iterdir())
    # another live process holds its lock, as a packaging running now does
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); "
         "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); sys.stdin.read()",
         str(staging / upload.STAGING_LOCK)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        status = cli_run("devices", "status")
        assert status.code == 0 and "WARNING" not in status.out, status.out
        nxt = cli_run("devices", "package", str(_source(cli_run, tmp_path, 1, "g3")), "--out",
                      str(out), "--name", "b2", "--json")
        assert nxt.code == 0, nxt.err
        assert nxt.json()["cleared"] == [] and nxt.json()["finished"] == {}
        assert upload.staging_folders(out, "b1") == [staging]
        assert sorted(p.name for p in staging.iterdir()) == before
        assert _records(ctx, "devices.package-staging-removed") == 0
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=60)
    # its process ended: the next status removes it
    status = cli_run("devices", "status")
    assert f"{STOPPED}{staging}" in status.out, status.out
    assert upload.staging_folders(out, "b1") == []
    assert _records(ctx, "devices.package-staging-removed") == 1


def test_killed_after_the_record_the_next_status_places_the_staged_files(  # type: ignore[no-untyped-def]
        ctx, cli_run, data_root: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    src = _source(cli_run, tmp_path, 9)  # 9 CSRs, 4 at most per zip: 3 zips
    out = tmp_path / "out"
    # recorded (rows and audit record committed); no file placed yet
    _kill(ctx, data_root, tmp_path, request, "devices.package:place", "devices", "package",
          str(src), "--out", str(out), "--name", "b1", "--max-per-zip", "4")
    assert _visible(out) == []
    [(batch_id, _)] = _batches(ctx)
    assert _records(ctx, "devices.package") == 1
    [staging] = upload.staging_folders(out, "b1")
    # its lock is free, but it is a recorded batch's: placed, never removed as unfinished
    assert packaging.clear_stopped_staging(ctx, out) == [] and staging.is_dir()
    status = cli_run("devices", "status")
    assert status.code == 1
    assert f"{batch_id} b1 [portal-zip, packaged]" in status.out
    assert f"WARNING {PLACED} {out} (4 files)" in status.out, status.out
    names = ["b1-part01.zip", "b1-part02.zip", "b1-part03.zip"]
    assert _visible(out) == ["b1-manifest.json", *names]
    assert _zip_csrs(out, names) == dict(devices.batch_csrs(ctx, batch_id))
    manifest = json.loads((out / "b1-manifest.json").read_text())
    assert [(p["zip"], p["sha256"]) for p in manifest["parts"]] == [
        (n, upload.sha256_file(out / n)) for n in names]
    assert upload.staging_folders(out, "b1") == [] and sorted(out.iterdir()) == [
        out / n for n in sorted(["b1-manifest.json", *names])]
    [placed] = ctx.audit.entries(action_prefix="devices.package-placed")
    assert placed.details["batch_id"] == batch_id and sorted(placed.details["placed"]) == \
        ["b1-manifest.json", *names]
    assert _records(ctx, "devices.package-staging-removed") == 0
    # told once: the batch is whole now
    again = cli_run("devices", "status")
    assert again.code == 0 and "WARNING" not in again.out, again.out
    assert _records(ctx, "devices.package-placed") == 1
    # two of its files deleted since: "2 of its files are", in the plural
    (out / names[0]).unlink()
    (out / names[2]).unlink()
    [b] = [b for b in devices.status(ctx) if b.batch_id == batch_id]
    assert b.warning == (f"2 of its files are not in {out} ({names[0]}, {names[2]}): moved or "
                         "deleted since it was packaged")
    verify = cli_run("audit", "verify", "--json")
    assert verify.code == 0 and verify.json()["ok"], verify.out + verify.err


def test_a_single_zip_is_placed_by_the_next_package_and_named_when_deleted_since(  # type: ignore[no-untyped-def]
        ctx, cli_run, data_root: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    src = _source(cli_run, tmp_path, 2)
    out = tmp_path / "out"
    _kill(ctx, data_root, tmp_path, request, "devices.package:place", "devices", "package",
          str(src), "--out", str(out), "--name", "b2")
    [(batch_id, _)] = _batches(ctx)
    assert _visible(out) == [] and len(upload.staging_folders(out, "b2")) == 1
    other = _source(cli_run, tmp_path, 1, "g2")
    nxt = cli_run("devices", "package", str(other), "--out", str(out), "--name", "b3",
                  "--json")
    assert nxt.code == 0, nxt.err
    assert nxt.json()["finished"] == {batch_id: f"{PLACED} {out} (1 file)"}
    assert f"Batch {batch_id}: {PLACED} {out} (1 file)" in nxt.err
    assert _visible(out) == ["b2.zip", "b3.zip"]
    assert _zip_csrs(out, ["b2.zip"]) == dict(devices.batch_csrs(ctx, batch_id))
    assert _records(ctx, "devices.package-placed") == 1
    # deleted after it was packaged (and before the DCC answered): named by status
    (out / "b2.zip").unlink()
    status = cli_run("devices", "status")
    assert status.code == 1
    assert (f"WARNING 1 of its files is not in {out} (b2.zip): moved or deleted since it "
            "was packaged") in status.out, status.out
    [b] = [b for b in devices.status(ctx) if b.batch_id == batch_id]
    assert "(b2.zip): moved or deleted" in b.warning
    # the whole output folder gone (or a drive not mounted): said so
    moved = tmp_path / "moved"
    out.rename(moved)
    [b] = [b for b in devices.status(ctx) if b.batch_id == batch_id]
    assert b.warning == (f"its output folder {out} is not there (moved, deleted or not "
                         "mounted): its 1 file cannot be found")


def test_a_staged_file_that_does_not_match_the_record_is_never_placed(  # type: ignore[no-untyped-def]
        ctx, cli_run, data_root: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    src = _source(cli_run, tmp_path, 9)
    out = tmp_path / "out"
    _kill(ctx, data_root, tmp_path, request, "devices.package:place", "devices", "package",
          str(src), "--out", str(out), "--name", "b1", "--max-per-zip", "4")
    [(batch_id, _)] = _batches(ctx)
    [staging] = upload.staging_folders(out, "b1")
    original = (staging / "b1-part02.zip").read_bytes()
    # one staged zip swapped for another holding other (valid) CSRs
    other = _source(cli_run, tmp_path, 2, "g2")
    foreign = [(a.file_name, a.der) for a in devices.validate(ctx, other, processes=1).accepted]
    forged = bf.build_zip([(n, bf.encode_csr_text(d)) for n, d in foreign[:4]])
    (staging / "b1-part02.zip").write_bytes(forged)
    before = {p.name: p.read_bytes() for p in staging.iterdir()}
    status = cli_run("devices", "status")
    assert status.code == 1
    assert (f"{staging / 'b1-part02.zip'} does not match the batch as recorded") \
        in status.out, status.out
    assert "Nothing was placed" in status.out
    assert _visible(out) == [] and _records(ctx, "devices.package-placed") == 0
    assert {p.name: p.read_bytes() for p in staging.iterdir()} == before  # left as found
    # the CSRs are checked against the rows even where no digest was recorded for a file
    csrs = dict(devices.batch_csrs(ctx, batch_id))
    names = ["b1-manifest.json", "b1-part01.zip", "b1-part02.zip", "b1-part03.zip"]
    why = packaging._staged_mismatch(staging, names, csrs, {})
    assert why.startswith(f"{staging / 'b1-part02.zip'} does not match the batch as recorded")
    assert "is not the CSR recorded under that name" in why
    # the recorded zip back, and the kill taken mid-placing (one file placed): the rest goes
    (staging / "b1-part02.zip").write_bytes(original)
    os.link(staging / "b1-part01.zip", out / "b1-part01.zip")
    status = cli_run("devices", "status")
    assert status.code == 1 and f"{PLACED} {out} (4 files)" in status.out, status.out
    assert _visible(out) == names
    assert _zip_csrs(out, names[1:]) == csrs
    [placed] = ctx.audit.entries(action_prefix="devices.package-placed")
    assert sorted(placed.details["placed"]) == [n for n in names if n != "b1-part01.zip"]


def test_a_placing_that_fails_takes_the_record_back_and_names_the_file(  # type: ignore[no-untyped-def]
        ctx, cli_run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = _source(cli_run, tmp_path)
    out = tmp_path / "out"
    real = os.link
    calls = {"n": 0}

    def full(a, b, *args, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(b))
        return real(a, b, *args, **kw)

    monkeypatch.setattr(upload.os, "link", full)
    with pytest.raises(OutputError) as err:
        devices.package(ctx, src, out, batch_name="b1", max_per_zip=4, processes=1)
    assert str(err.value) == (f"Cannot put {out / 'b1-part02.zip'} in place: the disk is full "
                              "(no space left on device). Nothing was written.")
    assert list(out.iterdir()) == []  # nothing placed, nothing staged left
    assert _batches(ctx) == [] and devices.csr_rows(ctx) == []
    [undone] = ctx.audit.entries(action_prefix="devices.package-undone")
    assert undone.details["name"] == "b1" and "b1-part02.zip" in undone.details["cause"]
    assert ctx.audit.verify().ok
