"""The audit log as the officer reads it: the records (newest first, filtered by action), the
verification of the whole chain, and the acknowledgement of a log lost on purpose. The CLI's
`smki audit list|verify|acknowledge-loss` and the GUI's Audit page call these same entry points;
faces never reach the log (`ctx.audit`) themselves."""

from __future__ import annotations

from smki_desktop.core.audit import AuditEntry, VerifyReport
from smki_desktop.services.context import AppContext


def records(ctx: AppContext, *, limit: int | None = None,
            action_prefix: str = "") -> list[AuditEntry]:
    """This environment's audit records, newest first; `action_prefix` keeps the actions that
    start with it (e.g. "key." or "csr.")."""
    return ctx.audit.entries(limit=limit, action_prefix=action_prefix.strip())


def verify(ctx: AppContext) -> VerifyReport:
    """Check every row, the hash chain, the writer signatures and the head kept in the OS
    keyring; the report lists each problem and note."""
    return ctx.audit.verify()


def acknowledge_loss(ctx: AppContext, reason: str) -> AuditEntry:
    """Record (signed, in the log itself) that an earlier log at this folder was deleted or
    rolled back on purpose, so that verify reports it as a note from now on."""
    return ctx.audit.acknowledge_loss(reason)
