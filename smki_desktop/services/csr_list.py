"""The Organisation CSRs made here, each with what became of it (sent, with the DCC,
certificate issued), the text to paste into the SMKI Portal (Live), and "submit this CSR"
through the same outbox path as a CSR file. Both faces call these functions."""

from __future__ import annotations

from dataclasses import dataclass

from smki_desktop.core.errors import NotFound
from smki_desktop.portal.upload import org_paste_text
from smki_desktop.services import portal as portal_service
from smki_desktop.services.context import AppContext
from smki_desktop.store.repos import csrs as csr_repo
from smki_desktop.store.repos.csrs import CsrRow


@dataclass(frozen=True)
class OrgCsr:
    row: CsrRow
    outbox_ref: str  # "" when never submitted
    outbox_state: str  # "" | queued | submitted | done | failed

    @property
    def submitted(self) -> bool:
        return bool(self.outbox_ref) and self.outbox_state != "failed"


def org_csrs(ctx: AppContext) -> list[OrgCsr]:
    items = portal_service.outbox(ctx).items()
    by_der = {bytes(i.payload): i for i in items if i.kind == "org-csr"}
    out = []
    for row in csr_repo.list_csrs(ctx.db, ctx.env.value):
        item = by_der.get(row.der)
        out.append(OrgCsr(row, item.ref if item else "", item.state if item else ""))
    return out


def get_org_csr(ctx: AppContext, csr_id: int) -> OrgCsr:
    for c in org_csrs(ctx):
        if c.row.csr_id == csr_id:
            return c
    raise NotFound(f"No Organisation CSR {csr_id} in the {ctx.env.label} environment.")


def paste_text(ctx: AppContext, csr_id: int) -> str:
    """What the officer pastes into the SMKI Portal's Organisation CSR form."""
    return org_paste_text(get_org_csr(ctx, csr_id).row.der)


def submit(ctx: AppContext, csr_id: int) -> portal_service.Enqueued:
    c = get_org_csr(ctx, csr_id)
    return portal_service.submit_org_csr(ctx, c.row.der, source=f"CSR {csr_id}")


def check_submit(ctx: AppContext, csr_id: int) -> None:
    """Would `submit` refuse this CSR (no SRO authorisation where the rule needs one, no Party
    profile in Live, ...)? Read-only: raises what `submit` would raise, before anything is
    sent or recorded."""
    c = get_org_csr(ctx, csr_id)
    portal_service.check_org_csr(ctx, c.row.der, source=f"CSR {csr_id}")
