"""Staging folders of packagings stopped before their record: only a folder of ours (its exact
name, a folder itself, its lock file free) is removed; a link or a file named like one, a
folder with no lock file (made by an earlier version), one holding something else, one whose
lock a packaging holds now, are left as found; the ones left that need the user are named.
(The real SIGKILL cases are in test_package_kill.py.)"""

from __future__ import annotations

from pathlib import Path

from smki_desktop.crypto import device_csr as dc
from smki_desktop.portal import upload
from smki_desktop.services import devices
from smki_desktop.services.context import AppContext
from smki_desktop.services.devices import packaging

STOPPED = "removed the unfinished files of a packaging that was stopped before it was recorded: "


def _stopped(out: Path, name: str, *, lock: bool = True) -> Path:
    """A staging folder as a packaging killed before its record leaves it."""
    staging = out / f".{name}.0123abcd.staging"
    staging.mkdir(parents=True)
    (staging / f"{name}.zip").write_bytes(b"staged")
    if lock:
        (staging / upload.STAGING_LOCK).write_bytes(b"")
    return staging


def _source(folder: Path, eui: int) -> Path:
    from smki_desktop.core import batch_formats as bf

    folder.mkdir()
    der = dc.generate_one(eui.to_bytes(8, "big"), dc.SIGNING, keep_key=False)[2]
    (folder / "d.csr").write_bytes(bf.encode_csr_text(der))
    return folder


def _removed(ctx: AppContext) -> list[str]:
    return [str(e.details["folder"])
            for e in ctx.audit.entries(action_prefix="devices.package-staging-removed")]


def test_only_our_staging_folders_with_a_free_lock_are_removed(  # type: ignore[no-untyped-def]
        ctx, tmp_path: Path) -> None:
    out = tmp_path / "out"
    ours = _stopped(out, "b1")
    # a link named like a staging folder, to a folder that looks like one (lock free)
    target = _stopped(tmp_path / "elsewhere", "b2")
    link = out / ".b2.0123abcd.staging"
    link.symlink_to(target, target_is_directory=True)
    # a file named like one
    plain = out / ".b3.0123abcd.staging"
    plain.write_bytes(b"mine")
    # names not quite ours
    odd = [_stopped(out, "b4").rename(out / ".b4.0123ABCD.staging"),
           _stopped(out, "b5").rename(out / ".b5.0123abcd.staging.bak")]
    res = devices.package(ctx, _source(tmp_path / "src", 0x00DB123456930000), out,
                          batch_name="b9", processes=1)
    assert res.cleared == [f"{STOPPED}{ours}"]
    assert not ours.exists() and _removed(ctx) == [str(ours)]
    assert link.is_symlink() and sorted(p.name for p in target.iterdir()) == [
        upload.STAGING_LOCK, "b2.zip"]
    assert plain.read_bytes() == b"mine"
    assert all(p.is_dir() for p in odd)
    assert ctx.audit.verify().ok


def test_a_staging_folder_without_a_lock_file_is_left_and_named(  # type: ignore[no-untyped-def]
        ctx, tmp_path: Path) -> None:
    out = tmp_path / "out"
    old = _stopped(out, "b1", lock=False)  # an earlier version's: cannot be told apart
    swapped = _stopped(out, "b2")  # its lock file a link: not ours to trust
    (swapped / upload.STAGING_LOCK).unlink()
    (swapped / upload.STAGING_LOCK).symlink_to(tmp_path / "lock-elsewhere")
    (tmp_path / "lock-elsewhere").write_bytes(b"")
    notes = packaging.clear_stopped_staging(ctx, out)
    assert notes == [
        "left the files of a packaging that was stopped before it was recorded, made by an "
        "earlier version of the app (it cannot be told from a packaging still running): "
        f"{folder}; remove that folder when no packaging is running" for folder in (old, swapped)]
    assert (old / "b1.zip").is_file() and (swapped / "b2.zip").is_file()
    assert (tmp_path / "lock-elsewhere").is_file() and _removed(ctx) == []


def test_a_staging_folder_holding_something_else_is_left_as_found(  # type: ignore[no-untyped-def]
        ctx, tmp_path: Path) -> None:
    out = tmp_path / "out"
    staging = _stopped(out, "b1")
    (staging / "sub").mkdir()
    (staging / "sub" / "keep.txt").write_bytes(b"keep")
    notes = packaging.clear_stopped_staging(ctx, out)
    assert notes == [f"could not remove the unfinished files of a packaging that was stopped "
                     f"before it was recorded, {staging}: {staging} holds sub, which is not a "
                     "staged file; the folder was left as found."]
    assert (staging / "sub" / "keep.txt").read_bytes() == b"keep"
    assert (staging / "b1.zip").is_file() and _removed(ctx) == []


def test_the_lock_is_held_while_a_packaging_writes(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """In this process too (another thread's status while a packaging runs): held, left."""
    out = tmp_path / "out"
    seen: list[tuple[str, list[str]]] = []

    def before_place(files: upload.PackagedBatch, staging: Path) -> None:
        with upload.claim_staging(staging) as state:
            seen.append((state, packaging.clear_stopped_staging(ctx, out)))
        assert staging.is_dir() and (staging / "b1.zip").is_file()

    upload.write_batch(out, "b1", [("a.csr", b"\x30\x00")], environment="test",
                       before_place=before_place)
    assert seen == [(upload.HELD, [])]
    assert sorted(p.name for p in out.iterdir()) == ["b1.zip"]  # its own folder removed
