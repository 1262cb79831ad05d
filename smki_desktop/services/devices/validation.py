"""Validating a source of Device CSRs: every CSR against the device profile and its signature
(in worker processes, `crypto/device_csr.py`), then the batch rules (duplicates, allowed device
range, 100 per device; `core/device_batch.py`) against what this environment already holds,
and the other environment's batches and keys refused, naming both environments.
"""

from __future__ import annotations

import time
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smki_desktop.core import batch_formats as bf
from smki_desktop.core import device_batch as batch
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import EnvironmentMismatch, InputError
from smki_desktop.core.eui import Eui64
from smki_desktop.core.ports import NullProgress, ProgressSink
from smki_desktop.crypto import device_csr as dc
from smki_desktop.portal.outbox import Outbox
from smki_desktop.services import crossing
from smki_desktop.services.context import AppContext
from smki_desktop.services.device_matching import hw_types
from smki_desktop.services.devices.settings import device_ranges
from smki_desktop.services.devices.source import SourceRead, is_zip, read_source
from smki_desktop.store.repos import devices as repo

PENDING_STATES = ("packaged", "pending")
COUNTED_STATES = ("packaged", "pending", "issued", "anomaly")


@dataclass
class ValidationResult:
    source: str
    kind: str
    assessment: batch.Assessment
    seconds: float

    @property
    def accepted(self) -> list[batch.AcceptedCsr]:
        return self.assessment.accepted

    @property
    def rejected(self) -> list[batch.Rejection]:
        return self.assessment.rejected

    def as_dict(self, limit: int | None = None) -> dict[str, Any]:
        rej = self.rejected if limit is None else self.rejected[:limit]
        return {
            "source": self.source, "kind": self.kind, "total": self.assessment.total,
            "valid": len(self.accepted), "rejected": len(self.rejected),
            "seconds": round(self.seconds, 3),
            "rejections": [{"source": r.source, "locator": r.locator, "device_eui": r.eui,
                            "usage": r.usage, "code": r.code, "reason": r.reason} for r in rej],
        }


def known_keys(ctx: AppContext) -> tuple[dict[str, str], dict[bytes, int],
                                         dict[tuple[bytes, str], str]]:
    """What this environment already holds: where each known key is, how many certificates
    (or CSRs on their way to one) each device has, and the waiting (device, usage) pairs."""
    keys: dict[str, str] = {}
    counts: Counter[bytes] = Counter()
    pairs: dict[tuple[bytes, str], str] = {}
    for r in repo.known_csrs(ctx.db, ctx.env.value):
        where = f"batch {r.batch_id} ({r.file_name})"
        keys[r.key_id] = where
        eui = bytes.fromhex(r.device_eui)
        if r.status in COUNTED_STATES:
            counts[eui] += 1
        if r.status in PENDING_STATES:
            pairs[(eui, r.usage)] = where
    # device certificates imported by other routes (`smki cert import`) count as well
    for device_eui, key_id in repo.imported_device_certs(ctx.db, ctx.env.value):
        if key_id in keys:
            continue
        try:
            eui = Eui64.parse(device_eui).octets
        except InputError:
            continue
        counts[eui] += 1
        keys[key_id] = "an imported device certificate"
    # and the ad hoc Device CSRs sent one at a time: a batch and an ad hoc request must not
    # both carry one key, nor both wait for one (device, usage)
    _count_adhoc_requests(ctx, hw_types(ctx), keys, counts, pairs)
    return keys, dict(counts), pairs


COUNTED_ADHOC_STATES = ("queued", "submitted", "done")
"""Ad hoc requests whose key is known and which count towards their device's 100 (a failed
one blocks nothing)."""
PENDING_ADHOC_STATES = ("queued", "submitted")
"""Ad hoc requests that hold their (device, usage) pair until answered."""


def _count_adhoc_requests(ctx: AppContext, hw: list[str], keys: dict[str, str],
                          counts: dict[bytes, int],
                          pairs: dict[tuple[bytes, str], str]) -> None:
    """Add the outbox's ad hoc Device CSRs that have not failed: each key is known, each
    counts towards its device's 100, and those still waiting hold their (device, usage)
    pair. A key the store already holds (a certificate imported for it) is counted once."""
    extra: Counter[bytes] = Counter()
    items = Outbox(ctx.db, ctx.env, ctx.clock).items(COUNTED_ADHOC_STATES, "device-adhoc")
    for item in items:
        _code, _reason, eui, usage, key_id, _hw = dc.check_device_csr(item.payload, hw,
                                                                      verify=False)
        if not key_id or len(eui) != 8 or key_id in keys:
            continue
        where = f"ad hoc request {item.ref} ({item.state})"
        keys[key_id] = where
        extra[eui] += 1
        if item.state in PENDING_ADHOC_STATES and usage:
            pairs.setdefault((eui, usage), where)
    for eui, n in extra.items():
        counts[eui] = counts.get(eui, 0) + n


def validate(ctx: AppContext, path: Path, *, progress: ProgressSink | None = None,
             processes: int | None = None) -> ValidationResult:
    """Check every CSR of a source against the profile, signatures and the batch rules."""
    start = time.perf_counter()
    sink = progress or NullProgress()
    path = Path(path)
    hw = hw_types(ctx)
    if processes is None or processes > 1:
        dc.prewarm(processes)  # workers start while the source is read
    if path.is_file() and is_zip(path):
        _refuse_other_environment_zip(ctx, path)
        read, checks = _check_zip_streamed(path, hw, sink, processes)
    else:
        read = read_source(path)
        checks = dc.check_many([e.der for e in read.entries], hw, processes=processes,
                               progress=sink)
    if not read.entries and not read.rejections:
        what = {"zip": "no .csr members in the zip", "csv": "no CSR lines in the CSV"}.get(
            read.kind, "no CSRs")
        raise InputError(f"{path}: {what}; nothing to check.")
    keys, counts, pairs = known_keys(ctx)
    assessment = batch.assess(read.entries, checks, device_ranges=device_ranges(ctx),
                              known_keys=keys, known_counts=counts, known_pairs=pairs)
    assessment.rejected[:0] = read.rejections
    _reject_other_environment_csrs(ctx, assessment)
    return ValidationResult(str(path), read.kind, assessment, time.perf_counter() - start)


def _check_zip_streamed(path: Path, hw: list[str], sink: ProgressSink,
                        processes: int | None) -> tuple[SourceRead, list[dc.CheckTuple]]:
    """Members are read and decoded while the workers check earlier ones."""
    entries: list[batch.SourceEntry] = []
    rejections: list[batch.Rejection] = []
    with open(path, "rb") as fh:
        total, members = bf.open_zip_raw(fh, suffix=".csr")

        def ders() -> Iterator[bytes]:
            for name, raw, why in members:
                if raw is None:
                    rejections.append(batch.Rejection(path.name, name, "member",
                                                      why or "unusable"))
                    continue
                try:
                    der = bf.decode_base64_text(raw, "CSR")
                except InputError as exc:
                    rejections.append(batch.Rejection(path.name, name, "member", exc.message))
                    continue
                entries.append(batch.SourceEntry(path.name, name, der))
                yield der

        checks = dc.check_many(ders(), hw, processes=processes, progress=sink, total=total)
    return SourceRead(entries, rejections, "zip"), checks


def _reject_other_environment_csrs(ctx: AppContext, assessment: batch.Assessment) -> None:
    """Device CSRs the other environment packaged or submitted (its database holds their
    keys, this one's does not) are rejected here, naming both environments."""
    foreign = crossing.foreign_device_keys(ctx, {a.key_id for a in assessment.accepted})
    if not foreign:
        return
    them = crossing.other(ctx.env)
    keep = []
    for a in assessment.accepted:
        if a.key_id not in foreign:
            keep.append(a)
            continue
        assessment.rejected.append(batch.Rejection(
            a.source, a.locator, "environment",
            f"this CSR's key was packaged or submitted in the {them.label} environment: it "
            f"belongs to the {them.label} environment; this is the {ctx.env.label} "
            f"environment. {them.label} device CSRs are never used in {ctx.env.label}.",
            a.eui_text, a.usage))
    assessment.accepted[:] = keep


def _refuse_other_environment_zip(ctx: AppContext, path: Path) -> None:
    """A batch zip packaged by this application carries its environment in the zip comment:
    one of the other environment is refused, naming both (an unreadable zip is reported by
    the reader)."""
    try:
        with zipfile.ZipFile(path) as zf:
            comment = zf.comment
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return
    if not comment.startswith(bf.BATCH_ZIP_COMMENT_PREFIX):
        return
    found = comment[len(bf.BATCH_ZIP_COMMENT_PREFIX):].decode("ascii", "replace").strip()
    if found and found != ctx.env.value:
        try:
            label = Environment(found).label
        except ValueError:
            label = repr(found)
        raise EnvironmentMismatch(
            f"{path.name} was packaged in the {label} environment (its zip comment says so); "
            f"this is the {ctx.env.label} environment. {label} batches are never used in "
            f"{ctx.env.label}.")
