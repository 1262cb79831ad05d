"""A suspected compromise of a Relevant Private Key and its Method 1 recovery (the Subscriber
re-keys and replaces its own Organisation certificates): what was recorded, the SRO's
confirmation, the replacement CSRs, the revocation of the old certificates through dual control,
and the checklist that must be complete before the incident closes. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from smki_desktop.core.errors import Refusal

OUTCOMES = ("confirmed", "not-compromised")


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    done: bool
    text: str


def checklist(data: Mapping[str, Any], *, replacements_issued: Sequence[bool],
              revocation_state: str | None,
              confirmation: Mapping[str, Any] | None = None,
              confirmation_problem: str | None = None) -> list[ChecklistItem]:
    """The steps of Method 1 recovery and whether each is done. `confirmation` is the SRO's
    confirmation as its verified signature says (None when there is none that verifies);
    `confirmation_problem` why a stored one does not count."""
    conf = confirmation or {}
    if conf:
        conf_text = f"SRO confirmation: {conf.get('outcome')} by {conf.get('by')}"
    elif confirmation_problem:
        conf_text = (f"SRO confirmation: not given (the stored confirmation does not count: "
                     f"{confirmation_problem})")
    else:
        conf_text = "SRO confirmation: awaited"
    items = [ChecklistItem("recorded", True,
                           f"Suspected compromise recorded ({data.get('reported_by')}, "
                           f"{data.get('suspected_at')})"),
             ChecklistItem("sro-confirmation", bool(conf), conf_text)]
    if conf.get("outcome") == "not-compromised":
        return items
    rekey = data.get("rekey") or {}
    if rekey:
        csrs_text = f"Replacement keys and CSRs: {len(rekey.get('csrs', []))} made"
    elif data.get("rekey_plan"):
        csrs_text = ("Replacement keys and CSRs: stopped part way (re-key again to finish; "
                     "nothing already made is made again)")
    else:
        csrs_text = "Replacement keys and CSRs: not made"
    items.append(ChecklistItem("replacement-csrs", bool(rekey), csrs_text))
    issued = sum(1 for x in replacements_issued if x)
    items.append(ChecklistItem("replacement-certificates",
                               bool(replacements_issued) and all(replacements_issued),
                               f"Replacement certificates imported: {issued} of "
                               f"{len(replacements_issued)}"))
    items.append(ChecklistItem("revocation", revocation_state == "revoked",
                               f"Old certificates revoked through dual control: "
                               f"{revocation_state or 'no request yet'}"))
    return items


def check_can_close(items: Sequence[ChecklistItem], incident_id: str) -> None:
    open_items = [i.text for i in items if not i.done]
    if open_items:
        raise Refusal(f"Rule: an incident closes only when its checklist is complete; "
                      f"{incident_id} still has: " + "; ".join(open_items) + ".")
