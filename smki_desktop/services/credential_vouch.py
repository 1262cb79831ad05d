"""Is a stored credential's certificate the one SMKI Desktop recorded when it was imported?

A credential's certificate is kept in a store table (`portal_credentials`), which anyone who can
write the store can rewrite without the OS keyring (the threat of services/audit.py): swap in a
certificate with a later expiry, or one for another key, under the same issuer and serial, or
add a row of their own. Such a person cannot sign an audit record. So a credential is used
(signing, client TLS, a signer's credential checked) only when its certificate's DER is the
artifact of a `credential.import` record for its environment, issuer and serial that the log
proves (`AuditLog.vouched_or_cut`: its hash, its writer's signature; read once and kept while
the log's last row, its writers and its `credential.import` rows stay the same). A mismatch or
a missing record is refused naming the credential and the cause, never passed over; a cut log
is refused saying so (`LogCut`), as the trust anchors are.
"""

from __future__ import annotations

import hashlib
import json
from typing import Protocol, TypeVar

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.errors import Refusal
from smki_desktop.services.context import AppContext
from smki_desktop.services.vouched import LogCut

IMPORT_ACTION = "credential.import"  # details: purpose, key_id, serial, issuer; artifact: DER
CRL_ACTION = "credential.crl"  # details: issuer, the serials revoked; artifact: the CRL
# one proof of both for the checks made together on every use of a credential (the import and
# the revocations: services/credential_store.check_not_revoked): proofs are kept per tuple
RECORDS = (CRL_ACTION, IMPORT_ACTION)


class StoredCredential(Protocol):
    """What the check needs of a credential (services/credential_store.Credential)."""

    @property
    def purpose(self) -> str: ...

    @property
    def issuer(self) -> str: ...

    @property
    def serial(self) -> str: ...

    @property
    def der(self) -> bytes: ...

    @property
    def key_id(self) -> str: ...


C = TypeVar("C", bound=StoredCredential)


class CredentialUnvouched(Refusal):
    """A credential whose stored certificate no proven `credential.import` record vouches for."""


def _import_records(ctx: AppContext, who: str) -> dict[tuple[str, str], AuditEntry]:
    """The last proven `credential.import` record of each (issuer, serial) of this
    environment; `LogCut` naming `who` when the log was cut."""
    found, cut = ctx.audit.vouched_or_cut(RECORDS)
    found = [e for e in found if e.action == IMPORT_ACTION]
    if cut is not None:
        raise LogCut(f"The credential {who} cannot be used: {cut}.")
    out: dict[tuple[str, str], AuditEntry] = {}
    for e in found:
        if e.environment == ctx.env.value:
            out[(str(e.details.get("issuer", "")),
                 str(e.details.get("serial", "")).upper())] = e
    return out


def credential_problem(ctx: AppContext, cred: StoredCredential) -> str | None:
    """Why `cred`'s certificate is not the one its proven import record holds, in words
    naming the credential and the audit record; None when it is."""
    who = f"{cred.issuer} serial {cred.serial}"
    record = _import_records(ctx, who).get((cred.issuer, cred.serial.upper()))
    if record is None:
        return _unproven(ctx, cred, who)
    digest = hashlib.sha256(cred.der).hexdigest()
    if str(record.artifacts.get("certificate", "")).lower() != digest:
        return (f"The {cred.purpose} credential {who} cannot be used: its certificate "
                f"differs from the one recorded when it was imported (audit record "
                f"{record.seq}); the store was changed without SMKI Desktop.")
    # the row's key and purpose are the import's too: a genuine certificate's row moved to
    # another key or purpose would list (and be left out of revocations) as that key's
    recorded = (str(record.details.get("key_id", "")), str(record.details.get("purpose", "")))
    if recorded != (cred.key_id, cred.purpose):
        return (f"The {cred.purpose} credential {who} cannot be used: the store files it as "
                f"the {cred.purpose} credential of key {cred.key_id[:16]}, but it was imported "
                f"(audit record {record.seq}) as the {recorded[1]} credential of key "
                f"{recorded[0][:16]}; the store was changed without SMKI Desktop.")
    return None


def _issuer(details_json: str) -> str:
    try:
        details = json.loads(details_json)
    except (ValueError, RecursionError):
        return ""
    return str(details.get("issuer", "")) if isinstance(details, dict) else ""


def _unproven(ctx: AppContext, cred: StoredCredential, who: str) -> str:
    """Why no proven record vouches for `cred`: a record of its import the log cannot prove
    (on a team store, most often one written by a workstation not yet endorsed), or none."""
    rows = [r for r in ctx.audit.repo.naming((IMPORT_ACTION,), "serial",
                                             [cred.serial, cred.serial.upper()])
            if r.environment == ctx.env.value and _issuer(r.details_json) == cred.issuer]
    if rows:
        r = rows[-1]
        by = f"writer {r.writer[:16]}" if r.writer and r.sig else "no writer's signature"
        return (f"The {cred.purpose} credential {who} cannot be used: its import is recorded "
                f"in audit record {r.seq} ({by}), but the log cannot prove SMKI Desktop wrote "
                "it: the record was altered, or its writer is neither this workstation nor a "
                "writer the team's log endorses (a workstation that joined the team store is "
                "trusted once an endorsed workstation endorses it).")
    return (f"The {cred.purpose} credential {who} cannot be used: there is no audit record of "
            "its import (its certificate was put in the store without SMKI Desktop, or its "
            "record was altered).")


def require_vouched(ctx: AppContext, cred: C) -> C:
    """`cred` when its certificate is the one its proven import record holds; else
    `CredentialUnvouched` (or `LogCut`) naming the credential and the cause."""
    problem = credential_problem(ctx, cred)
    if problem is not None:
        raise CredentialUnvouched(problem)
    return cred


def listing_problem(ctx: AppContext, cred: StoredCredential) -> str | None:
    """For a list of the credentials held: why `cred` would be refused when used (as
    `credential_problem`, a cut log's message included), None when it would not."""
    try:
        return credential_problem(ctx, cred)
    except LogCut as exc:
        return exc.message
