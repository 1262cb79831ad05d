"""Authorised Subscriber readiness: record the organisation's milestones (identity verified,
SREPT passed per certificate type) and build the checklists from them and the officer
register."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.errors import InputError
from smki_desktop.core.readiness import (
    CertType,
    Checklist,
    Milestone,
    ReadinessFacts,
    all_checklists,
)
from smki_desktop.services.context import AppContext
from smki_desktop.services.officers import list_officers
from smki_desktop.store.repos import forecasts as forecasts_repo


@dataclass(frozen=True)
class FactsSaved:
    facts: ReadinessFacts
    audit: AuditEntry


def _date(text: str, what: str, hint: str) -> str:
    try:
        return dt.date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise InputError(f"{what}: {text!r} is not a date; write YYYY-MM-DD.",
                         hint=hint) from None


def facts(ctx: AppContext) -> ReadinessFacts:
    by = {r.name: Milestone(r.date, r.reference)
          for r in forecasts_repo.facts(ctx.db, ctx.env.value)}
    srept = {t: by[f"srept:{t.value}"] for t in CertType if f"srept:{t.value}" in by}
    return ReadinessFacts(by.get("org-verified"), srept)


def set_facts(ctx: AppContext, *, org_verified: str | None = None, org_ref: str = "",
              srept_passed: str | None = None, srept_ref: str = "",
              cert_types: list[CertType] | None = None) -> FactsSaved:
    if org_verified is None and srept_passed is None:
        raise InputError("Give the date the organisation was verified and/or the date SREPT "
                         "was passed.", hint="field.readiness")
    if srept_passed is not None and not srept_ref.strip():
        raise InputError("SREPT reference: record the SREPT reference the DCC gave.",
                         hint="field.ref")
    now = ctx.clock.now().isoformat()
    changes: dict[str, dict[str, str]] = {}
    if org_verified is not None:
        changes["org-verified"] = {
            "date": _date(org_verified, "Organisation verified", "field.org-verified"),
            "reference": org_ref.strip()}
    if srept_passed is not None:
        d = _date(srept_passed, "SREPT passed", "field.srept-passed")
        for t in cert_types or list(CertType):
            changes[f"srept:{t.value}"] = {"date": d, "reference": srept_ref.strip()}
    with ctx.audit.change():  # the facts and their record: one transaction
        forecasts_repo.set_facts(ctx.db, ctx.env.value, {
            name: (v["date"], v["reference"]) for name, v in changes.items()}, now)
        entry = ctx.audit.record("readiness.set", changes)
    return FactsSaved(facts(ctx), entry)


def checklists(ctx: AppContext) -> list[Checklist]:
    return all_checklists(ctx.env, facts(ctx), list_officers(ctx))


def checklist_as_dict(cl: Checklist) -> dict[str, object]:
    return {"certificate_type": cl.cert_type.value, "environment": cl.environment.value,
            "ready": cl.ready,
            "items": [{"code": i.code, "label": i.label, "ok": i.ok, "detail": i.detail,
                       "next_step": i.next_step, "hint": i.hint} for i in cl.items]}
