"""What the audit log proves about a key, for its end of life, where the store's rows (which
anyone who can write the store can edit) might say otherwise:

- the credentials its proven `credential.import` records issued for it, wherever their rows now
  point (a credential row moved to another key let a key whose credential is in use be
  deleted);
- where it was made: a row edited to say a token key is in the OS keyring recorded a
  `key.delete` while the private key stayed on the token.
"""

from __future__ import annotations

import hashlib

from smki_desktop.core.errors import Refusal
from smki_desktop.core.keys import KeyInfo, KeyLocation
from smki_desktop.services.context import AppContext
from smki_desktop.services.credential_vouch import IMPORT_ACTION
from smki_desktop.store.repos import credentials as cred_repo
from smki_desktop.store.repos.keys import DependentCert

#: the records that put a key under this environment's stores, and what each says of where
MADE = ("key.generate", "key.restore")


def recorded_credentials(ctx: AppContext, key_id: str) -> list[DependentCert]:
    """The credentials proven records imported for `key_id` in this environment. The
    certificate (whose notAfter the caller believes) is the stored row's only when it is the
    one the record holds; otherwise it is unknown (b""), and the credential counts as in use."""
    out: list[DependentCert] = []
    for e in ctx.audit.vouched_naming((IMPORT_ACTION,), "key_id", [key_id]):
        if e.environment != ctx.env.value or e.details.get("key_id") != key_id:
            continue
        issuer, serial = str(e.details.get("issuer", "")), str(e.details.get("serial", ""))
        purpose = str(e.details.get("purpose", ""))
        row = cred_repo.get(ctx.db, ctx.env.value, issuer, serial)
        sha = str(e.artifacts.get("certificate", "")).lower()
        der = (row.certificate if row is not None
               and hashlib.sha256(row.certificate).hexdigest() == sha else b"")
        out.append(DependentCert("credential", serial, row.subject if row else issuer,
                                 f"{purpose} credential (imported in audit record {e.seq})",
                                 "", der))
    return out


def refuse_unproven_location(ctx: AppContext, info: KeyInfo) -> None:
    """Refusal when the key's row says it is in the OS keyring but its proven creation record
    says otherwise, or (no such record: a key from before records, or made outside the
    services) the OS keyring holds no wrapping key for it: deleting it would record a
    deletion while the private key stays where it is."""
    if info.location is not KeyLocation.OS_KEYRING:
        return
    made = [e for e in ctx.audit.vouched_naming(MADE, "key_id", [info.key_id])
            if e.environment == ctx.env.value and e.details.get("key_id") == info.key_id]
    who = f"Key {info.short_id} ({info.label})"
    last = made[-1] if made else None
    where = ""
    if last is not None:
        where = (KeyLocation.OS_KEYRING.value if last.action == "key.restore"
                 else str(last.details.get("location", "")))
    if last is not None and where:  # a record naming no location proves none: as if none
        if where != info.location.value:
            raise Refusal(
                f"{who} cannot be deleted: the store says it is kept in {info.location.value}, "
                f"but it was made in {where} (audit record {last.seq}); the store was changed "
                "without SMKI Desktop. Nothing was deleted. A key on a token is deleted with "
                "the token's own tools.")
        return
    if ctx.keystore.secrets.get_optional(f"key:{info.key_id}") is None:
        raise Refusal(
            f"{who} cannot be deleted: the store says it is kept in the OS keyring, but the "
            "keyring holds no key for it and no audit record says it was made there. Nothing "
            "was deleted.")
