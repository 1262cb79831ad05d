"""A key's Organisation CSRs still at the DCC (an outbox request queued or submitted, not yet
answered, withdrawn or failed), for the key's end of life: a key is not deleted while the DCC
may still issue a certificate for it, and a certificate that arrives for a key deleted anyway
is never called accepted. Both read the request's own CSR (its public key), not a column."""

from __future__ import annotations

from dataclasses import dataclass

from smki_desktop.core.keys import key_id_for_spki
from smki_desktop.services.context import AppContext
from smki_desktop.store.repos import keys as keys_repo
from smki_desktop.store.repos import outbox as outbox_repo

#: outbox states of a request the DCC may still answer
WAITING = ("queued", "submitted")
#: the outbox kinds whose payload is one Organisation CSR of a key held here
CSR_KINDS = ("org-csr",)


@dataclass(frozen=True)
class PendingCsr:
    ref: str
    state: str
    server_status: str


def csr_key_id(der: bytes) -> str | None:
    """The key id of a PKCS#10 request's public key, None when it does not parse."""
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    try:
        spki = x509.load_der_x509_csr(der).public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    except (ValueError, UnsupportedAlgorithm):
        return None
    return key_id_for_spki(spki)


def pending_csrs(ctx: AppContext, key_id: str) -> list[PendingCsr]:
    """This environment's requests waiting at (or for) the DCC whose CSR is `key_id`'s."""
    out = []
    for kind in CSR_KINDS:
        for r in outbox_repo.items(ctx.db, ctx.env.value, WAITING, kind):
            if csr_key_id(bytes(r.payload)) == key_id:
                out.append(PendingCsr(r.ref, r.state, r.server_status or ""))
    return out


def deleted_key_note(ctx: AppContext, csr_der: bytes) -> str | None:
    """When the key of `csr_der` is no longer held here, words saying so (and the audit record
    of its deletion when there is one); None when the key is here (or the CSR is not ours)."""
    key_id = csr_key_id(csr_der)
    if key_id is None or keys_repo.exists(ctx.db, key_id):
        return None
    records = [e for e in ctx.audit.vouched_naming(("key.delete",), "key_id", [key_id])
               if e.environment == ctx.env.value]
    if records:
        e = records[-1]
        reason = str(e.details.get("reason", "")).strip()
        return (f"its key {key_id[:16]} was deleted on {e.ts[:10]} (audit record {e.seq}"
                + (f", reason: {reason}" if reason else "") + ")")
    return f"its key {key_id[:16]} is not held in this environment (it was deleted)"
