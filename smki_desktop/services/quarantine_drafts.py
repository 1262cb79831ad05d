"""The ARO's saved quarantine decisions (drafts), each vouched for by the audit record written
when it was saved.

A draft is a row of the store (`adt_quarantine_items.decision`), which anyone who can write the
store but not use this workstation's OS keyring (the threat of services/audit.py) can rewrite:
plant PROCESS for communications the officer never decided, and the next Action file built from
the drafts would carry them, signed. Such a person cannot sign an audit record. So every saving
of drafts writes a `quarantine.decide` record naming the Report (its SHA-256) and each
communication's decision, in the same transaction as the rows; and a draft is used only when
the latest record the log proves (`AuditLog.vouched_naming`: its hash, its writer's signature,
no cut after it) naming its communication holds that same decision. Any other draft is not
used and is named, with why, so that the officer sees it (the Quarantine page, `smki
quarantine import|action`): no record at all (put in the store without SMKI Desktop, or saved
before drafts were recorded), or a record that holds another decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from smki_desktop.core.audit import AuditEntry
from smki_desktop.services.context import AppContext
from smki_desktop.store.repos import quarantine as q_repo
from smki_desktop.store.repos.quarantine import ReportRow

DECIDE_ACTION = "quarantine.decide"
# the record's lists of communications, by the decision saved for them ('' clears one)
_LISTS = (("process", "PROCESS"), ("delete", "DELETE"), ("cleared", ""))


@dataclass(frozen=True)
class Drafts:
    """A Report's saved decisions: those the log vouches for (`proven`), and the others with
    the sentence that says why each is not used (`not_used`: quarantine id -> sentence)."""

    proven: dict[str, str] = field(default_factory=dict)
    not_used: dict[str, str] = field(default_factory=dict)

    @property
    def messages(self) -> tuple[str, ...]:
        return tuple(self.not_used[q] for q in sorted(self.not_used))


def save(ctx: AppContext, report: ReportRow, chosen: Mapping[str, str]) -> AuditEntry | None:
    """Keep `chosen` (quarantine id -> PROCESS, DELETE or '' to clear) as the Report's drafts,
    with the `quarantine.decide` record that vouches for them, in one transaction; None (and
    nothing written) when `chosen` is empty."""
    if not chosen:
        return None
    lists = {key: sorted(q for q, d in chosen.items() if d == value) for key, value in _LISTS}
    with ctx.audit.change():  # the rows and the record that vouches for them
        updated = q_repo.set_decisions(ctx.db, report.report_id, chosen)
        return ctx.audit.record(DECIDE_ACTION, {
            "report": report.name, "report_sha256": report.sha256, "saved": updated,
            **lists}, {"report": report.sha256})


def _latest(ctx: AppContext, report: ReportRow) -> dict[str, tuple[int, str]]:
    """For each communication of the Report, the latest proven record's (seq, decision)."""
    latest: dict[str, tuple[int, str]] = {}
    records = ctx.audit.vouched_naming((DECIDE_ACTION,), "report_sha256", [report.sha256])
    for entry in sorted(records, key=lambda e: e.seq):
        if entry.environment != ctx.env.value:
            continue
        for key, value in _LISTS:
            ids = entry.details.get(key, [])
            for qid in ids if isinstance(ids, list) else []:
                latest[str(qid)] = (entry.seq, value)
    return latest


def saved(ctx: AppContext, report: ReportRow) -> Drafts:
    """The Report's drafts, each checked against the latest proven record that saved it."""
    rows = q_repo.decisions(ctx.db, report.report_id)
    if not rows:
        return Drafts()
    latest = _latest(ctx, report)
    proven: dict[str, str] = {}
    not_used: dict[str, str] = {}
    for qid, decision in rows.items():
        record = latest.get(qid)
        if record is None:
            not_used[qid] = f"saved decision for {qid} has no audit record: not used"
        elif record[1] != decision:
            not_used[qid] = (f"saved decision for {qid} ({decision}) is not the one its audit "
                             f"record {record[0]} holds ({record[1] or 'none'}): not used")
        else:
            proven[qid] = decision
    return Drafts(proven, not_used)
