"""`store.atomic.write_recorded`: the record of a file export commits before the file appears
(issue 16), and a failed record leaves nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.core.errors import Refusal
from smki_desktop.store.atomic import part_files, write_recorded


def test_the_record_is_made_before_the_file_appears(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "export.csv"
    seen: list[bool] = []

    def record(p: Path) -> int:
        seen.append(p.exists())
        return 7

    path, got = write_recorded(out, b"a,b\n", record)
    assert (path, got, seen) == (out, 7, [False])
    assert out.read_bytes() == b"a,b\n" and part_files(out) == []


def test_a_failed_record_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "export.csv"

    def record(_p: Path) -> None:
        raise RuntimeError("the store refused")

    with pytest.raises(RuntimeError, match="the store refused"):
        write_recorded(out, b"x", record)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_refused_before_anything_is_recorded(tmp_path: Path) -> None:
    out = tmp_path / "export.csv"
    out.write_bytes(b"old")
    calls: list[Path] = []
    with pytest.raises(Refusal, match="already exists"):
        write_recorded(out, b"new", calls.append)
    assert calls == [] and out.read_bytes() == b"old" and part_files(out) == []
    path, _ = write_recorded(out, b"new", calls.append, overwrite=True)
    assert calls == [out] and path.read_bytes() == b"new"
