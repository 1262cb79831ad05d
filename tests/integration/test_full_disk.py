"""A really full disk (a 64 KiB tmpfs): outputs fail with a message naming the file and the
cause, nothing half-written is left, and an existing file is untouched."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from smki_desktop.store.atomic import OutputError, write_atomic


@pytest.fixture
def tiny_disk(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    size = getattr(request, "param", "64k")
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_atomic_write_on_full_disk(tiny_disk: Path) -> None:
    target = tiny_disk / "out.csr"
    write_atomic(target, b"old content")
    with pytest.raises(OutputError) as e:
        write_atomic(target, b"x" * 200_000, overwrite=True)
    assert "No space left on device" in e.value.message and str(target) in e.value.message
    assert target.read_bytes() == b"old content"
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["out.csr"]


@pytest.mark.parametrize("tiny_disk", ["4m"], indirect=True)
def test_key_generation_on_full_disk_leaves_nothing(tiny_disk: Path, cli_run) -> None:
    filler = tiny_disk / "filler"
    r = cli_run("key", "list", root=tiny_disk / "root")
    assert r.code == 0, r.err
    # fill what is left, then ask for a key
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    r = cli_run("key", "generate", "--usage", "signing", "--label", "x", root=tiny_disk / "root")
    assert r.code == 1
    assert "No space left on device" in r.err or "is full" in r.err, r.err
    assert not list((tiny_disk / "root" / "test" / "keys").glob("*.pem"))
    filler.unlink()
    assert cli_run("key", "list", "--json", root=tiny_disk / "root").json()["keys"] == []
