"""Is a setting kept in a store table vouched for by the last audit record that set it? A value
such as the portal endpoint (its URLs, its pinned trust anchor) can be rewritten by anyone who
can write the store but not use this workstation's OS keyring (the threat of services/audit.py):
such a person cannot sign an audit record. So the value is used only when it matches the LAST
record of the action that sets it, and `AuditLog.vouched` proves that record (its hash is its
content's; it is signed by this workstation's writer key or, on a team store, by an endorsed
writer; or it predates signing and the chain reaches the head the keyring held then).

The newest record of the action is the one that counts, proven or not: a record someone added
or altered is reported, never passed over for an earlier one (that would bring an older setting
back). Nor is the last record that is left when newer ones were deleted: `AuditLog.vouched`
vouches for nothing while this workstation's keyring head is missing from the log, a link from
the record to the log's end is broken, or the keyring records an unacknowledged rollback, and
the problem then says the log was cut (its verify says what was lost).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from smki_desktop.core.errors import Refusal
from smki_desktop.services.audit import AuditLog


class LogCut(Refusal):
    """A reader of vouched records met a cut log (`AuditLog.vouched_or_cut`): it refuses,
    saying so, rather than go on with fewer records (fewer trust anchors, an officer's change
    no longer proven). Readers that skip a record with a problem let this one through."""


@dataclass(frozen=True)
class LastRecord:
    """The last record of an action in this environment's log: `problem` is None when the log
    proves it, else why it does not."""

    seq: int
    details: dict[str, Any]
    artifacts: dict[str, Any]
    problem: str | None

    @property
    def vouched(self) -> bool:
        return self.problem is None


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def last_record(audit: AuditLog, action: str) -> LastRecord | None:
    """The last record of `action` in `audit`'s environment (None if there is none), and
    whether the log proves SMKI Desktop wrote it."""
    row = audit.repo.last_of(action, audit.environment.value)
    if row is None:
        return None
    found, cut = audit.vouched_or_cut((action,))
    proven = {e.seq: e for e in found}
    entry = proven.get(row.seq)
    if entry is not None:
        return LastRecord(entry.seq, entry.details, entry.artifacts, None)
    if cut is not None:
        return LastRecord(row.seq, _json(row.details_json), _json(row.artifacts_json), cut)
    who = (f"signed by writer {row.writer[:16]}" if row.writer and row.sig
           else "with no writer signature")
    return LastRecord(row.seq, _json(row.details_json), _json(row.artifacts_json),
                      f"audit record {row.seq} ({who}) cannot be proven to be SMKI "
                      "Desktop's: it was altered, or its writer is neither this workstation nor "
                      "an endorsed writer of the log")
