"""Was a request in the portal outbox queued through SMKI Desktop? Anyone who can write the store
(a team store's database password, a workstation's data folder) but not use this workstation's
OS keyring (the threat of services/audit.py) can insert a `queued` row; the sender would send it
to the DCC under this workstation's mutual-TLS credential. Such a person cannot sign an audit
record. So a request is sent only when the record that queued it (`portal.submit` for CSRs and
batches, `portal.revoke` for a revocation) is one `AuditLog.vouched_naming` proves (signed by
this workstation's writer key or, on a team store, by an endorsed writer; or from before signing,
on the proven chain), and the request is the one the record describes: the SHA-256 of its
payload is the record's artifact (core/audit.py `artifact_digest`), its kind and, for a
revocation, its serial and reason are the record's.

A queueing record is used once: a request the log proves was already sent and answered (a
`portal.send` record naming it with a state other than `queued`: the DCC took it, or refused
it) is not sent again, so whoever puts a sent request back to `queued` in the store cannot have
it sent a second time. A send that failed on the way (the request stays queued, and its record
says so) leaves it to be sent again under the same reference.

The records of the requests being sent are read in one query (`AuditRepo.naming`), not the
whole log. A workstation's queued requests moving into a team store (`team migrate-from-local`)
keep going: the move records them again in the team's log (`carried_records`), as it does for
the portal endpoint.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from smki_desktop.core.audit import AuditEntry, artifact_digest
from smki_desktop.portal.outbox import OutboxRow
from smki_desktop.services.audit import AuditLog

SUBMIT_ACTION = "portal.submit"
REVOKE_ACTION = "portal.revoke"
ACTIONS = (SUBMIT_ACTION, REVOKE_ACTION)
#: the record of one attempt to send a request: {"ref", "results": {ref: state after}, ...}
SEND_ACTION = "portal.send"
#: the artifact of its queueing record that holds a request's payload, by kind
ARTIFACT = {"org-csr": "csr", "device-adhoc": "csr", "device-batch": "batch"}

NOT_QUEUED = ("this request was not queued through SMKI Desktop: no audit record vouches for "
              "it (none this workstation can prove was written by SMKI Desktop here or by an "
              "endorsed workstation of the team)")


def already_sent(seq: int) -> str:
    return f"it was already sent (audit record {seq}); not sent again"


def sent_by(e: AuditEntry, ref: str) -> bool:
    """Does the send record `e` say request `ref` reached the DCC and was answered (anything
    but left queued by a failure on the way)?"""
    results = e.details.get("results")
    state = results.get(ref) if isinstance(results, dict) else None
    return state is not None and state != "queued"


def action_of(kind: str) -> str:
    return REVOKE_ACTION if kind == "revocation" else SUBMIT_ACTION


def _differs(item: OutboxRow, e: AuditEntry) -> str | None:
    """What of `item` differs from the request its queueing record `e` describes (None: it is
    that request)."""
    if e.action != action_of(item.kind):
        return f"audit record {e.seq} queued a request of another kind ({e.action})"
    if item.kind == "revocation":
        serial = item.payload.decode("ascii", "replace")
        if e.details.get("serial") != serial:
            return (f"its serial {serial[:40]} is not the one audit record {e.seq} queued "
                    f"({e.details.get('serial')})")
        if str(e.details.get("reason", "")) != str(item.meta.get("reason", "")):
            return f"its reason is not the one audit record {e.seq} queued"
        return None
    if e.details.get("kind") != item.kind:
        return (f"it is a {item.kind} request; audit record {e.seq} queued a "
                f"{e.details.get('kind')} one")
    want = e.artifacts.get(ARTIFACT[item.kind])
    if want != artifact_digest(item.payload):
        return (f"its content (SHA-256 {artifact_digest(item.payload)[:16]}) is not what audit "
                f"record {e.seq} queued (SHA-256 {str(want)[:16]}): it was changed after it "
                "was queued")
    return None


def queue_records(audit: AuditLog, items: Iterable[OutboxRow]
                  ) -> dict[str, AuditEntry | str]:
    """For each of `items` (by reference): the proven record that queued it, as it is now, or
    why there is none (a sentence naming the cause; a request already sent has none left to
    use). One query for all of them."""
    items = list(items)
    found: dict[str, list[AuditEntry]] = {}
    sent: dict[str, AuditEntry] = {}
    for e in audit.vouched_naming((*ACTIONS, SEND_ACTION), "ref", [i.ref for i in items]):
        ref = str(e.details.get("ref"))
        if e.action != SEND_ACTION:
            found.setdefault(ref, []).append(e)
        elif sent_by(e, ref):
            sent.setdefault(ref, e)
    out: dict[str, AuditEntry | str] = {}
    for item in items:
        records = found.get(item.ref, [])
        if item.ref in sent:
            out[item.ref] = already_sent(sent[item.ref].seq)
            continue
        if not records:
            out[item.ref] = NOT_QUEUED
            continue
        why = [d for d in (_differs(item, e) for e in records) if d is not None]
        match = [e for e in records if _differs(item, e) is None]
        out[item.ref] = match[-1] if match else (
            "this request is not the one SMKI Desktop queued under its reference: "
            + "; ".join(why))
    return out


def queue_record(item: OutboxRow, details: dict[str, Any] | None = None
                 ) -> tuple[str, dict[str, Any], dict[str, bytes | str]]:
    """The record that queues `item` (action, details, artifacts) as the outbox's own queueing
    writes it, with `details` added (the move into a team store says where it came from)."""
    more = dict(details or {})
    if item.kind == "revocation":
        return REVOKE_ACTION, {"ref": item.ref, "serial": item.payload.decode("ascii", "replace"),
                               "reason": item.meta.get("reason", ""), **more}, {}
    return (SUBMIT_ACTION, {"kind": item.kind, "ref": item.ref, **more},
            {ARTIFACT[item.kind]: item.payload})


def carried_records(audit: AuditLog, items: Iterable[OutboxRow], carried_from: str
                    ) -> list[tuple[str, dict[str, Any], dict[str, bytes | str]]]:
    """The queueing records to write in another log (a team store's, on the move) for those of
    `items` the log `audit` (the workstation's own) proves were queued through SMKI Desktop; a
    request it does not vouch for gets none, so it is not sent from the team store."""
    items = list(items)
    records = queue_records(audit, items)
    out = []
    for item in items:
        e = records[item.ref]
        if isinstance(e, str):
            continue
        extra = {k: v for k, v in e.details.items() if k in ("channel", "source", "count")}
        out.append(queue_record(item, {**extra, "carried_from": carried_from,
                                       "queued_seq": e.seq}))
    return out
