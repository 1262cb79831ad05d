"""Validating, writing and editing ADT (and quarantine) files: a file read once in chunks and
hashed on the way, the profile's template, and the table editor's Save."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

from smki_desktop.core.adt.profile import Profile
from smki_desktop.core.adt.validate import (
    ValidationReport,
    render_csv,
    template_rows,
    validate,
    validate_stream,
)
from smki_desktop.core.errors import InputError
from smki_desktop.services import adt_receipts
from smki_desktop.services.adt.common import Written, open_limited
from smki_desktop.services.adt.profiles import active_profile, party_ranges
from smki_desktop.services.context import AppContext
from smki_desktop.store.atomic import write_recorded


def validate_bytes(ctx: AppContext, data: bytes, kind: str = "adt-file",
                   profile: Profile | None = None, *, keep_rows: bool = True
                   ) -> ValidationReport:
    return validate(data, profile or active_profile(ctx, kind), party_ranges(ctx),
                    keep_rows=keep_rows)


class _HashingReader:
    """A binary stream that hashes (SHA-256) what is read through it."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.sha = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        self.sha.update(data)
        return data

    def hexdigest(self) -> str:
        while self.read(1 << 20):  # whatever validation did not need to read
            pass
        return self.sha.hexdigest()


def validate_file(ctx: AppContext, path: Path, kind: str = "adt-file",
                  profile: Profile | None = None, *, keep_rows: bool = False
                  ) -> ValidationReport:
    """Validate a file on disk, read once in chunks (memory: the unique keys and the first
    findings of each rule, not the file or its rows unless `keep_rows`)."""
    return validate_file_hashed(ctx, path, kind, profile, keep_rows=keep_rows)[0]


def validate_file_hashed(ctx: AppContext, path: Path, kind: str = "adt-file",
                         profile: Profile | None = None, *, keep_rows: bool = False,
                         on_row: Callable[[int, list[str]], None] | None = None,
                         record: bool = True) -> tuple[ValidationReport, str]:
    """`validate_file` and the SHA-256 of the bytes it read, in the same single pass; a valid
    file's receipt is recorded unless not `record` (signing records it with the signature)."""
    prof = profile or active_profile(ctx, kind)
    ranges = party_ranges(ctx)
    with open_limited(path) as fh:
        reader = _HashingReader(fh)
        try:
            report = validate_stream(reader, prof, ranges,  # type: ignore[arg-type]
                                     keep_rows=keep_rows, on_row=on_row)
        except OSError as exc:
            raise InputError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
        sha = reader.hexdigest()
        if record:
            adt_receipts.record(ctx, report, sha, os.fstat(fh.fileno()).st_size, ranges)
        return report, sha


def template_bytes(ctx: AppContext, kind: str = "adt-file") -> bytes:
    prof = active_profile(ctx, kind)
    party = ctx.party()
    first = party.eui_ranges[0].first if party else None
    return render_csv(prof, template_rows(prof, first))


def write_template(ctx: AppContext, out: Path, *, kind: str = "adt-file",
                   overwrite: bool = False) -> Written:
    data = template_bytes(ctx, kind)
    validate_bytes(ctx, data, kind).raise_if_invalid("Template")
    digest = hashlib.sha256(data).hexdigest()
    profile = active_profile(ctx, kind).ref
    # recorded before the file is put in place (store/atomic.write_recorded)
    _p, entry = write_recorded(Path(out), data, lambda p: ctx.audit.record(
        "adt.template", {"path": str(out), "kind": kind, "profile": profile},
        {"file": digest}), overwrite=overwrite)
    return Written(Path(out), digest, entry)


def save_edited(ctx: AppContext, out: Path, rows: Sequence[Sequence[str]], *,
                kind: str = "adt-file", overwrite: bool = False) -> Written:
    """The GUI table editor's Save: render the rows in the profile's dialect and write them
    (validation findings do not block saving a draft; signing refuses an invalid file)."""
    data = render_csv(active_profile(ctx, kind), rows)
    digest = hashlib.sha256(data).hexdigest()
    # recorded before the file is put in place (store/atomic.write_recorded)
    _p, entry = write_recorded(Path(out), data, lambda p: ctx.audit.record(
        "adt.edit", {"path": str(out), "kind": kind, "rows": len(rows)}, {"file": digest}),
        overwrite=overwrite)
    return Written(Path(out), digest, entry)
