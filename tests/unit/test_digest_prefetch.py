"""The helper-thread digest: the same SHA-256 as hashlib over the file; nothing when the file
changed after hashing began, is small, or is not a regular file; argv parsing picks the files
of `adt sign|verify` only."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from smki_desktop.services import digest_prefetch


def _big(path: Path, fill: bytes = b"x") -> Path:
    path.write_bytes(fill * (digest_prefetch.MIN_SIZE + 12345))
    return path


def test_prefetched_digest_is_the_files(tmp_path: Path) -> None:
    f = _big(tmp_path / "a.csv")
    assert digest_prefetch.start(f)
    assert digest_prefetch.take(f) == hashlib.sha256(f.read_bytes()).digest()
    assert digest_prefetch.take(f) is None  # taken once


def test_changed_file_gives_no_digest(tmp_path: Path) -> None:
    f = _big(tmp_path / "a.csv")
    assert digest_prefetch.start(f)
    f.write_bytes(f.read_bytes()[:-1] + b"y")  # same size, new content and time
    os.utime(f, ns=(1, 1))
    assert digest_prefetch.take(f) is None


def test_small_or_missing_or_folder_not_started(tmp_path: Path) -> None:
    small = tmp_path / "s.csv"
    small.write_bytes(b"a,b\r\n")
    assert not digest_prefetch.start(small)
    assert not digest_prefetch.start(tmp_path / "missing.csv")
    assert not digest_prefetch.start(tmp_path)
    assert digest_prefetch.take(small) is None


def test_argv_names_the_sign_and_verify_files_only(tmp_path: Path) -> None:
    f = _big(tmp_path / "a.csv")
    other = _big(tmp_path / "b.csv", b"z")
    commands = {"adt": {"sign", "verify"}}
    digest_prefetch.start_for_argv(["--env", "test", "adt", "validate", str(other)], commands)
    assert digest_prefetch.take(other) is None
    digest_prefetch.start_for_argv(["--data-dir", str(tmp_path), "adt", "sign", str(f),
                                    "--key", "abc"], commands)
    assert digest_prefetch.take(f) == hashlib.sha256(f.read_bytes()).digest()
