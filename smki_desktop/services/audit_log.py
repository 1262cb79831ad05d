"""The audit log as the officer reads it: the records (newest first, filtered by action), the
verification of the whole chain, and the acknowledgement of a log lost on purpose. The CLI's
`smki audit list|verify|acknowledge-loss` and the GUI's Audit page call these same entry points;
faces never reach the log (`ctx.audit`) themselves."""

from __future__ import annotations

from smki_desktop.core.audit import AuditEntry, VerifyReport
from smki_desktop.services.context import AppContext
from smki_desktop.store.repos.audit import AuditRepo


def records(ctx: AppContext, *, limit: int | None = None,
            action_prefix: str = "") -> list[AuditEntry]:
    """This environment's audit records, newest first; `action_prefix` keeps the actions that
    start with it (e.g. "key." or "csr.")."""
    return ctx.audit.entries(limit=limit, action_prefix=action_prefix.strip())


def verify(ctx: AppContext) -> VerifyReport:
    """Check every row, the hash chain, the writer signatures and the head kept in the OS
    keyring; the report lists each problem and note."""
    report = ctx.audit.verify()
    if ctx.team is not None:
        _check_local_log(ctx, report)
    return report


def _check_local_log(ctx: AppContext, report: VerifyReport) -> None:
    """A workstation that moved into the team store: its own log (in its own database) still
    holds the head the team log's signed move record refers to."""
    ref = ctx.audit.own_last_details("team.migrate_from_local").get("local_log")
    if not isinstance(ref, dict) or not ref.get("head_seq"):
        return
    seq, want = int(ref["head_seq"]), str(ref.get("head_hash", ""))
    what = (f"This workstation's local audit log (installation {ref.get('installation_id')}, "
            f"kept in its own database when it moved into the team store)")
    local = ctx.local_db()
    row = AuditRepo(local).at(seq) if local is not None else None
    if row is None or row.hash != want:
        report.problems.append(
            f"{what} no longer holds row {seq} as the team log's signed reference records it "
            f"(head {want[:16]}): it was changed, cut short or removed since the move.")
    else:
        report.notes.append(f"{what} still holds row {seq} as the team log's signed "
                            "reference records it.")


def acknowledge_loss(ctx: AppContext, reason: str) -> AuditEntry:
    """Record (signed, in the log itself) that an earlier log at this folder was deleted or
    rolled back on purpose, so that verify reports it as a note from now on."""
    return ctx.audit.acknowledge_loss(reason)
