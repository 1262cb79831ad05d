"""Submitting a validated source to the DCC over the web service: one batched request (<= 50,000
CSRs) queued in the portal layer's outbox and sent; and collecting the results of every batch
whose outbox request has finished (`smki portal poll` fetches them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smki_desktop.core import batch_formats as bf
from smki_desktop.core import device_batch as batch
from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.errors import NotFound, Refusal
from smki_desktop.core.portal_ports import PortalError
from smki_desktop.core.ports import ProgressSink
from smki_desktop.services import crossing, portal
from smki_desktop.services.context import AppContext
from smki_desktop.services.devices.packaging import new_batch_id, record_batch
from smki_desktop.services.devices.results import ImportResult, apply_batch_state
from smki_desktop.services.devices.validation import ValidationResult, validate
from smki_desktop.store.repos import devices as repo


@dataclass
class SubmitResult:
    batch_id: str
    outbox_ref: str
    validation: ValidationResult
    audit: AuditEntry
    send_error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"batch_id": self.batch_id, "outbox_ref": self.outbox_ref,
                "send_error": self.send_error or None,
                "validation": self.validation.as_dict(limit=1000)}


def submit(ctx: AppContext, path: Path, *, progress: ProgressSink | None = None,
           processes: int | None = None, send_now: bool = True) -> SubmitResult:
    """Validate, then queue one batched web-service submission (<= 50,000 CSRs) in the portal
    layer's outbox and try to send it. Results: `smki portal poll` fetches them, then
    `collect` (also run by `status`) files them against the CSRs."""
    crossing.require_party(ctx, "Device batch")  # Live submits nothing without a Party
    result = validate(ctx, path, progress=progress, processes=processes)
    if not result.accepted:
        raise Refusal(f"{path}: no valid CSR to submit ({len(result.rejected)} rejected).")
    if len(result.accepted) > bf.MAX_CSRS_PER_ZIP:
        raise Refusal(f"A web-service batch holds at most {bf.MAX_CSRS_PER_ZIP:,} CSRs; "
                      f"this source has {len(result.accepted):,} valid ones: split it.")
    batch_id = new_batch_id(ctx)
    items = [(ws_item_id(a), a.der) for a in result.accepted]
    # our rows and the outbox request in one transaction: a result can never arrive for an
    # unknown batch, and a process killed half-way cannot leave a batch no request will send
    # and their audit records in the same one
    req = portal.device_batch_request(ctx, items, {"device_batch_id": batch_id})
    with ctx.audit.change():
        record_batch(ctx, batch_id, batch_id, "web-service", "pending", result.accepted,
                     outbox_ref=req.ref, also=req.insert)
        item = req.queued(ctx)
        entry = ctx.audit.record(
            "devices.submit",
            {"batch_id": batch_id, "outbox_ref": item.ref, "source": str(path),
             "valid": len(result.accepted), "rejected": len(result.rejected)},
        )
    send_error = ""
    if send_now:
        try:
            portal.send_pending(ctx, refs=[item.ref])
        except PortalError as exc:  # stays queued in the outbox; `smki portal poll` resends
            send_error = exc.message
    return SubmitResult(batch_id, item.ref, result, entry, send_error)


def ws_item_id(a: batch.AcceptedCsr) -> str:
    """The web-service DeviceCSR ID (an xs:ID, <= 100 chars): `D` + the CSR file stem."""
    return "D" + a.file_name[: -len(".csr")]


def collect(ctx: AppContext) -> list[ImportResult]:
    """File the results of every web-service batch whose outbox request is finished."""
    out: list[ImportResult] = []
    ob = portal.outbox(ctx)
    for batch_id, ref in repo.open_web_batches(ctx.db, ctx.env.value):
        try:
            item = ob.get(ref)
        except NotFound:
            continue
        if item.state == "done":
            out.append(apply_batch_state(ctx, batch_id, portal.batch_results(ctx, item.ref)))
        elif item.state == "failed":
            now = ctx.clock.now().isoformat()
            why = f"the batch failed at the DCC: {item.last_error or item.server_status}"
            with ctx.audit.change():
                with ctx.db.transaction() as c:
                    n = repo.fail_waiting(c, batch_id, why, now)
                    repo.set_batch_completed(c, batch_id, now)
                entry = ctx.audit.record("devices.results", {"batch_id": batch_id,
                                                             "failed": why, "csrs": n})
            out.append(ImportResult([batch_id], {"error": n}, [], [why], entry))
    return out
