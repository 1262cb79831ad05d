"""Packaging a validated source for the SMKI Portal: the batch zips (split with a manifest when
needed) and the reject report (`portal/upload.py`), then a batch record with one row per
packaged Device CSR. Also the batch record itself, shared with the web-service submission.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from smki_desktop.core import batch_formats as bf
from smki_desktop.core import device_batch as batch
from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.errors import Refusal
from smki_desktop.core.ports import NullProgress, ProgressSink
from smki_desktop.portal import upload
from smki_desktop.services import crossing
from smki_desktop.services.context import AppContext
from smki_desktop.services.devices.validation import ValidationResult, validate
from smki_desktop.store.repos import devices as repo

PICKUP_DAYS = 30


@dataclass
class PackageResult:
    batch_id: str
    validation: ValidationResult
    files: upload.PackagedBatch
    audit: AuditEntry

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "zips": [str(p) for p in self.files.zips],
            "counts": self.files.counts,
            "manifest": str(self.files.manifest) if self.files.manifest else None,
            "reject_report": str(self.files.reject_report) if self.files.reject_report else None,
            "validation": self.validation.as_dict(limit=1000),
        }


def new_batch_id(ctx: AppContext) -> str:
    return f"DB{ctx.clock.now():%Y%m%d%H%M%S}{uuid.uuid4().hex[:6].upper()}"


def package(ctx: AppContext, path: Path, out_dir: Path, *, batch_name: str | None = None,
            max_per_zip: int = bf.MAX_CSRS_PER_ZIP, progress: ProgressSink | None = None,
            processes: int | None = None) -> PackageResult:
    """Validate, then write portal zips (split with a manifest when needed) and the reject
    report, and record every packaged CSR. All files or none; the database rows only after
    the files are complete."""
    sink = progress or NullProgress()
    crossing.require_party(ctx, "Device batch")  # Live packages nothing without a Party
    result = validate(ctx, path, progress=sink, processes=processes)
    if not result.accepted:
        raise Refusal(f"{path}: no valid CSR to package ({len(result.rejected)} rejected).")
    batch_id = new_batch_id(ctx)
    name = batch_name or batch_id
    reject_csv = batch.reject_report_csv(result.rejected) if result.rejected else None
    files = upload.write_batch(Path(out_dir), name,
                               [(a.file_name, a.der) for a in result.accepted],
                               environment=ctx.env.value, max_per_zip=max_per_zip,
                               reject_csv=reject_csv, progress=sink)
    # the zips (of unbounded size) are written first, outside any transaction; the batch's
    # rows and its record then commit together (a failure takes the zips back)
    try:
        with ctx.audit.change():
            record_batch(ctx, batch_id, name, "portal-zip", "packaged", result.accepted,
                         out_dir=Path(out_dir), files=[str(p) for p in files.files])
            entry = ctx.audit.record(
                "devices.package",
                {"batch_id": batch_id, "name": name, "source": str(path),
                 "valid": len(result.accepted), "rejected": len(result.rejected),
                 "zips": [p.name for p in files.zips], "counts": files.counts},
                {part.zip_name: part.sha256 for part in files.parts},
            )
    except BaseException:
        for p in files.files:
            p.unlink(missing_ok=True)
        raise
    return PackageResult(batch_id, result, files, entry)


def record_batch(ctx: AppContext, batch_id: str, name: str, channel: str, status: str,
                 accepted: Sequence[batch.AcceptedCsr], *, out_dir: Path | None = None,
                 files: Sequence[str] = (), outbox_ref: str | None = None,
                 also: Callable[[Any], None] | None = None) -> None:
    """Record a batch and a row per accepted CSR, all with `status`, in one transaction
    (with `also(c)`, e.g. the batch's outbox request, in the same one)."""
    now = ctx.clock.now()
    iso = now.isoformat()
    new = repo.NewBatch(
        batch_id, ctx.env.value, name, channel, status, len(accepted), iso,
        iso if status == "pending" else None, (now + timedelta(days=PICKUP_DAYS)).isoformat(),
        outbox_ref, str(out_dir) if out_dir else None, json.dumps(list(files)))
    rows = (repo.NewCsr(a.key_id, a.file_name, a.eui.hex().upper(), a.usage, a.der, a.source,
                        a.locator) for a in accepted)
    with ctx.db.transaction() as c:
        repo.insert_batch(c, new, status, rows)
        if also is not None:
            also(c)
