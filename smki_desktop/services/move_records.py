"""The records a move into a team store (`team.migrate_from_local`) writes again in the team's
log so that the checks made against proven records still pass for the workstation's own data.
The move copies the tables but the local audit log stays in the workstation's database; a check
that trusts a table row only when a proven record vouches for it (services/expiry.py for
certificates and the expiry window, services/form_record.py for nominations,
services/credential_vouch.py for the credentials' certificates,
services/quarantine_drafts.py for the saved quarantine decisions) would otherwise
report every genuine row as unvouched in the team store.

Only what the workstation's own log proves (`AuditLog.vouched`: signed by this workstation's
writer key, or from before signing on the proven chain) is carried: a row someone put in the
local database, or a record they added or altered, is not, and stays unvouched after the move.
Each carried record is the original's action, details and artifact digests (the artifact a
check compares, the SHA-256 of a certificate's DER say, is the same), plus where it came from
(`carried_from`) and its number there (`carried_seq`). Certificate ids are copied as they are,
so a record's `cert_id` still names its certificate.
"""

from __future__ import annotations

from typing import Any

from smki_desktop.services.audit import AuditLog
from smki_desktop.services.credential_vouch import IMPORT_ACTION as CREDENTIAL_ACTION
from smki_desktop.services.expiry import CERT_ACTIONS, REJECT_ACTION, SETTING_ACTION
from smki_desktop.services.quarantine_drafts import DECIDE_ACTION
from smki_desktop.services.vouched import LogCut, last_record

NOMINATE_ACTION = "officer.nominate"
#: every proven record of these is carried, in log order
ALL_OF = (*CERT_ACTIONS, REJECT_ACTION, NOMINATE_ACTION, CREDENTIAL_ACTION, DECIDE_ACTION)
#: of these only the last (the one that counts) is carried, when it is proven
LAST_OF = (SETTING_ACTION,)

Carried = tuple[str, dict[str, Any], dict[str, bytes | str]]


def _carry(action: str, seq: int, details: dict[str, Any], artifacts: dict[str, Any],
           carried_from: str) -> Carried:
    kept = {k: v for k, v in details.items() if k != "app_version"}
    return action, {**kept, "carried_from": carried_from, "carried_seq": seq}, {
        k: str(v) for k, v in artifacts.items()}  # digests: recorded as they are


def vouched_records(audit: AuditLog, carried_from: str) -> list[Carried]:
    """The records to write in the team's log for what the log `audit` (the workstation's
    own) proves: every certificate import, recheck and rejection, every nomination, every
    credential import and every saving of quarantine decisions, in log order, and the last
    setting of the expiry window."""
    found, cut = audit.vouched_or_cut(ALL_OF)
    if cut is not None:  # carrying none of them would leave every genuine row unvouched
        raise LogCut(f"The records of {carried_from} cannot be carried into the team store: "
                     f"{cut}. Its verify names what was lost; the move is not made.")
    out = [_carry(e.action, e.seq, e.details, e.artifacts, carried_from) for e in found]
    for action in LAST_OF:
        last = last_record(audit, action)
        if last is not None and last.vouched:
            out.append(_carry(action, last.seq, last.details, last.artifacts, carried_from))
    return out
