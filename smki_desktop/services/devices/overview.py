"""What the Devices room shows: every batch with its per-status counts and pick-up warning,
every Device CSR row with its state, and a batch's CSRs for resubmission."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from smki_desktop.core.errors import NotFound
from smki_desktop.core.eui import Eui64
from smki_desktop.services.context import AppContext
from smki_desktop.services.device_matching import STATUS_WORDS
from smki_desktop.services.devices.packaging import finish_packaging
from smki_desktop.services.devices.validation import PENDING_STATES
from smki_desktop.store.repos import devices as repo

PICKUP_WARN_DAYS = 7


@dataclass
class BatchStatus:
    batch_id: str
    name: str
    channel: str
    state: str
    total: int
    created: str
    pickup_deadline: str | None
    counts: dict[str, int]
    warning: str = ""


def status(ctx: AppContext, *, at: datetime | None = None) -> list[BatchStatus]:
    """Every batch with its per-status counts and a warning when pick-up is near its end, or
    when its files were stopped before being placed (placed now) or are missing
    (`packaging.finish_packaging`, run first)."""
    now = at or ctx.clock.now()
    notes = finish_packaging(ctx)
    per = repo.status_counts(ctx.db, ctx.env.value)
    out = []
    for b in repo.list_batches(ctx.db, ctx.env.value):
        counts = per.get(b.batch_id, {})
        waiting = sum(n for s, n in counts.items() if s in PENDING_STATES)
        warning = _pickup_warning(b.pickup_deadline, waiting, now) if waiting else ""
        warning = "; ".join(w for w in (notes.get(b.batch_id, ""), warning) if w)
        out.append(BatchStatus(b.batch_id, b.name, b.channel, b.state, b.total, b.created,
                               b.pickup_deadline, counts, warning))
    return out


def _pickup_warning(pickup_deadline: str | None, waiting: int, now: datetime) -> str:
    if not pickup_deadline:
        return ""
    deadline = datetime.fromisoformat(pickup_deadline)
    left = deadline - now
    if left <= timedelta(0):
        return (f"pick-up window ended {deadline:%Y-%m-%d}: {waiting} CSRs never "
                "collected; resubmit them")
    if left <= timedelta(days=PICKUP_WARN_DAYS):
        return (f"collect the results before {deadline:%Y-%m-%d %H:%M} UTC "
                f"({left.days} days left, {waiting} CSRs waiting)")
    return ""


@dataclass(frozen=True, slots=True)
class CsrRow:
    """One row of the results table."""

    file_name: str
    device_eui: str
    usage: str
    status: str
    error_code: str
    detail: str
    batch_id: str
    cert_serial: str
    key_id: str


def csr_rows(ctx: AppContext, batch_id: str | None = None) -> list[CsrRow]:
    return [CsrRow(r.file_name, str(Eui64(bytes.fromhex(r.device_eui))), r.usage, r.status,
                   r.error_code or "", r.detail or STATUS_WORDS.get(r.status, ""),
                   r.batch_id or "", r.cert_serial or "", r.key_id)
            for r in repo.list_rows(ctx.db, ctx.env.value, batch_id)]


def batch_csrs(ctx: AppContext, batch_id: str) -> list[tuple[str, bytes]]:
    """(file name, CSR DER) of a batch, for resubmission or the simulator."""
    rows = repo.batch_csrs(ctx.db, ctx.env.value, batch_id)
    if not rows:
        raise NotFound(f"No device batch {batch_id!r} in the {ctx.env.label} environment.")
    return rows
