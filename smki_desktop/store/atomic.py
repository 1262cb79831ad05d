"""Atomic file output: a temporary file in the same folder, fsync, then rename.

A reader sees the old file or the whole new one, never half; an existing file is not replaced
unless the caller says so; a full disk or a permission problem is reported naming the file, and
nothing is left behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from smki_desktop.core.errors import Refusal, SmkiError

T = TypeVar("T")


class OutputError(SmkiError):
    """An output file could not be written (full disk, permissions, missing folder)."""


def check_output(path: Path, *, overwrite: bool = False) -> Path:
    """Check before any work that `path` can be written: it is not an existing file (unless
    `overwrite`) nor a folder, and its folder (or the nearest existing parent, since folders
    are made on writing) is a writable folder. Raises `Refusal` / `OutputError` naming it."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path} is a folder; give a file name.")
    if os.path.lexists(path) and not overwrite:  # a symbolic link, even dangling, is there
        raise Refusal(f"{path} already exists; choose another name or allow replacing it. "
                      "Nothing was done.")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"Cannot write {path}: {folder} is not a folder. Nothing was done.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"Cannot write {path}: the folder {folder} is not writable. "
                          "Nothing was done.")
    return path


def write_atomic(path: Path, data: bytes | Iterable[bytes], *, overwrite: bool = False,
                 mode: int = 0o644) -> Path:
    path = Path(path)
    if path.exists() and not overwrite:
        raise Refusal(f"{path} already exists; choose another name or allow replacing it.")
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Cannot create the folder {folder}: {exc.strerror or exc}") from exc
    fd, tmp = -1, ""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            fd = -1
            if isinstance(data, bytes | bytearray | memoryview):
                fh.write(data)
            else:
                for chunk in data:
                    fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        if overwrite:
            os.replace(tmp, path)
        else:
            # link() fails if the target appeared meanwhile: never clobber silently
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise Refusal(
                    f"{path} already exists; choose another name or allow replacing it."
                ) from None
            except OSError:
                if path.exists():
                    raise Refusal(f"{path} already exists.") from None
                os.replace(tmp, path)
            else:
                os.unlink(tmp)
        tmp = ""
        with contextlib.suppress(OSError):
            dfd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        return path
    except OSError as exc:
        raise OutputError(f"Cannot write {path}: {exc.strerror or exc}. Nothing was written.") \
            from exc
    finally:
        if fd >= 0:
            os.close(fd)
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


@contextlib.contextmanager
def atomic_output(path: Path, *, overwrite: bool = False, mode: int = 0o644) -> Iterator[Path]:
    """For writers that need a path (zipfile, sqlite): yields a temporary path in the same
    folder; on success it is moved into place atomically, on error it is removed."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise Refusal(f"{path} already exists; choose another name or allow replacing it.")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        if not overwrite and path.exists():
            raise Refusal(f"{path} already exists; choose another name or allow replacing it.")
        os.replace(tmp, path)
        tmp = ""
    except OSError as exc:
        raise OutputError(f"Cannot write {path}: {exc.strerror or exc}. Nothing was written.") \
            from exc
    finally:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def part_files(path: Path) -> list[Path]:
    """The hidden temporary files (`.NAME.XXXX.part`) that a write of `path` made beside it:
    a killed writer leaves them behind."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    return sorted(path.parent.glob(f".{glob_escape(path.name)}.*.part"))


def glob_escape(name: str) -> str:
    """`name` with the glob wildcards quoted."""
    return "".join(f"[{ch}]" if ch in "*?[" else ch for ch in name)


def stage(path: Path, data: bytes, *, mode: int = 0o644) -> Path:
    """Write `data` to a hidden temporary file beside `path` (fsynced) and return its path; it
    is published with `publish`. On error nothing is left and the error names `path`."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Cannot create the folder {path.parent}: {exc.strerror or exc}") \
            from exc
    fd, tmp = -1, ""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fd = -1
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        done, tmp = Path(tmp), ""
        return done
    except OSError as exc:
        raise OutputError(f"Cannot write {path}: {exc.strerror or exc}. Nothing was written.") \
            from exc
    finally:
        if fd >= 0:
            os.close(fd)
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def publish(tmp: Path, path: Path, *, overwrite: bool = False) -> Path:
    """Move a file made by `stage` into place in one step: the name shows nothing or the whole
    file. Without `overwrite` an existing `path` is never replaced (`Refusal`)."""
    try:
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise Refusal(
                    f"{path} already exists; choose another name or allow replacing it."
                ) from None
            os.unlink(tmp)
    except OSError as exc:
        raise OutputError(f"Cannot write {path}: {exc.strerror or exc}.") from exc
    with contextlib.suppress(OSError):
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    return path


def write_recorded(path: Path, data: bytes, record: Callable[[Path], T], *,
                   overwrite: bool = False, mode: int = 0o644) -> tuple[Path, T]:
    """Write `data` to `path` with `record(path)` (the write's audit record) committed before
    the file appears: staged, recorded, then published. A kill before the record commits
    leaves no file (a hidden .part one at most); after it, a record of a file that is missing,
    never a file written unrecorded. A failed `record` leaves nothing."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise Refusal(f"{path} already exists; choose another name or allow replacing it.")
    tmp = stage(path, data, mode=mode)
    try:
        got = record(path)
        publish(tmp, path, overwrite=overwrite)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return path, got
