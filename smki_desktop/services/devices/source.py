"""Reading a source of Device CSRs: a folder of `*.csr`, a zip of `*.csr`, one CSR file, or a
`device_eui,usage,csr` CSV (layouts in `core/device_batch.py`). Unusable members and lines
become rejections; a folder with no `*.csr` is explained (what it holds, which of it to pass).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from smki_desktop.core import batch_formats as bf
from smki_desktop.core import device_batch as batch
from smki_desktop.core.errors import InputError


@dataclass
class SourceRead:
    entries: list[batch.SourceEntry]
    rejections: list[batch.Rejection]
    kind: str


def read_source(path: Path) -> SourceRead:
    """Entries of a folder, zip or CSV; unusable members/lines become rejections."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder.")
    if path.is_dir():
        return _read_folder(path)
    name = path.name
    if is_zip(path):
        with open(path, "rb") as fh:
            got = bf.read_zip_members(fh, suffix=".csr", what="CSR")
        entries = [batch.SourceEntry(name, m.name, m.der) for m in got.members]
        rejects = [batch.Rejection(name, p.name, "member", p.reason) for p in got.problems]
        return SourceRead(entries, rejects, "zip")
    if path.suffix.lower() == ".csv":
        entries, rejects = batch.parse_csv(path.read_bytes(), name)
        return SourceRead(entries, rejects, "csv")
    if path.suffix.lower() in (".csr", ".pem", ".der", ".req"):
        return _read_files([path], path.parent)
    raise InputError(f"{path}: not a folder, a .zip or a .csv of device CSRs.")


def is_zip(path: Path) -> bool:
    """Whether the file starts as a zip does."""
    with open(path, "rb") as fh:
        return fh.read(2) == b"PK"


def _read_folder(folder: Path) -> SourceRead:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".csr")
    if not files:
        raise InputError(_empty_folder_message(folder))
    return _read_files(files, folder)


def _is_source_file(p: Path) -> bool:
    """A .zip, or a .csv of device CSRs, that the user may have meant to pass."""
    return p.is_file() and (p.suffix.lower() == ".zip"
                            or (p.suffix.lower() == ".csv" and _is_csr_csv(p)))


def _is_csr_folder(p: Path) -> bool:
    return p.is_dir() and any(c.suffix.lower() == ".csr" for c in p.iterdir() if c.is_file())


def _pass_instead(sources: list[Path], subdirs: list[Path]) -> str:
    """Which of what a folder holds to pass instead of it."""
    if sources:
        return (f" — pass that file: {sources[0]}" if len(sources) == 1
                else " — pass one of the .zip/.csv files")
    if subdirs:
        return (f" — pass that folder: {subdirs[0]}" if len(subdirs) == 1
                else " — pass one of the folders of .csr files")
    return ""


def _empty_folder_message(folder: Path) -> str:
    """What a folder with no `*.csr` holds, and which of it to pass instead."""
    found = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    if not found:
        return f"no .csr files in {folder}: the folder is empty."
    sources = [p for p in found if _is_source_file(p)]
    subdirs = [p for p in found if _is_csr_folder(p)]
    names = ", ".join(p.name + ("/" if p.is_dir() else "") for p in found[:6])
    more = f" and {len(found) - 6} more" if len(found) > 6 else ""
    return f"no .csr files in {folder}; found {names}{more}{_pass_instead(sources, subdirs)}."


def _is_csr_csv(path: Path) -> bool:
    """A CSV of device CSRs starts with the `device_eui,usage,csr` header (not a key file or a
    reject report)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64).lstrip(b"\xef\xbb\xbf").replace(b" ", b"").lower()
    except OSError:
        return False
    return head.startswith(b"device_eui,usage,csr")


def _read_files(files: Iterable[Path], base: Path) -> SourceRead:
    entries: list[batch.SourceEntry] = []
    rejects: list[batch.Rejection] = []
    src = base.name or str(base)
    for f in files:
        try:
            size = f.stat().st_size
            if size > bf.MAX_MEMBER_BYTES:
                rejects.append(batch.Rejection(src, f.name, "member",
                                               f"oversized file: {size:,} bytes, the limit is "
                                               f"{bf.MAX_MEMBER_BYTES:,}"))
                continue
            raw = f.read_bytes()
        except OSError as exc:
            rejects.append(batch.Rejection(src, f.name, "member", f"unreadable: {exc.strerror}"))
            continue
        try:
            der = bf.decode_base64_text(raw, "CSR")
        except InputError as exc:
            rejects.append(batch.Rejection(src, f.name, "parse", exc.message))
            continue
        entries.append(batch.SourceEntry(src, f.name, der))
    return SourceRead(entries, rejects, "folder")
