"""Was the audit log cut under what a reader asks for (`AuditLog.vouched_or_cut`)? A newer record
deleted so that an older one is the last again (a setting, an anchor, an officer's change
brought back) is the attack; the log cannot show it by itself when whole rows were taken off
its end, so what this workstation remembers outside the store decides:

- its own keyring head (its last record) must still be in the log, unchanged, and the keyring
  must record no unacknowledged rollback before a write (`AuditAnchor.breaks`);
- on a team store, its store pin (`services/store_pin.py`) must record no unacknowledged loss,
  and the last record of each OTHER writer it read before must still be there as it was: one
  workstation cannot see another's keyring head, but every workstation that read another's
  records remembers them (`StorePin.heads`), so deleting them afterwards is a cut there too;
- a link broken between the first record asked about and the log's end (one query) leaves only
  the records after it.

A tail that no other workstation read before it was deleted is seen only by the workstation
that wrote it (its keyring head): nothing else holds a trace of it (docs/team-audit.md).
"""

from __future__ import annotations

from collections.abc import Callable

from smki_desktop.core.audit import AuditAnchor, StoredRow, entry_hash
from smki_desktop.services.store_pin import StorePins
from smki_desktop.store.repos.audit import AuditRepo

NEVER = 1 << 62  # a row number past every row: nothing from it on


def log_cut(repo: AuditRepo, pins: StorePins | None, anchor: AuditAnchor | None,
            first: int) -> tuple[int, str | None]:
    """Were rows cut out of the log from row `first` on? The first row that can count and,
    when rows were cut, why (else None), as a sentence naming what was cut."""
    since, why = 0, None
    if anchor is not None and anchor.breaks:
        since, why = NEVER, ("the OS keyring records that its head was missing from it "
                             "before a write")
    elif anchor is not None and anchor.seq > 0 and (
            (at := repo.at(anchor.seq)) is None or at.hash != anchor.hash):
        since, why = NEVER, (f"its row {anchor.seq}, the last this workstation wrote as "
                             "the OS keyring records it, is missing or changed")
    elif pins is not None and (pinned := pins.cut(repo)) is not None:
        since, why = NEVER, pinned
    elif (broken := repo.last_break(first)) is not None:
        since, why = broken, f"the chain is broken before row {broken}"
    if why is None:
        return 0, None
    return since, (f"the audit log was cut ({why}), so no record before it is vouched "
                   "for: run the audit log's verify to see what was lost (a deliberate "
                   "loss, a backup restored, can be acknowledged there with a reason)")


def read_by_others(proven: list[StoredRow], tip: StoredRow | None, anchor: AuditAnchor | None,
                   since: int, environment: str,
                   problem: Callable[[StoredRow], str | None]) -> list[StoredRow]:
    """Of the records just proven and the log's last row (`tip`, proven here: its hash and
    its signature by a writer that counts), those of OTHER writers after this workstation's
    own head: what its pin remembers as read (its own records are its keyring head's)."""
    rows = list(proven)
    if tip is not None and tip.seq >= since and tip.environment == environment and \
            entry_hash(tip.prev_hash, tip.seq, tip.ts, tip.environment, tip.actor, tip.action,
                       tip.details_json, tip.artifacts_json) == tip.hash and \
            problem(tip) is None:
        rows.append(tip)
    own, head = (anchor.writer, anchor.seq) if anchor is not None else ("", 0)
    return [r for r in rows if r.writer and r.writer != own and r.seq > head]
