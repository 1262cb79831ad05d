"""Who signs a ceremony transcript: the administrator's officer credential.

ONE entry point, `sign_as_officer`. The credential is the one the revocation and ADT work use
(issue 11's identity model): a key whose DCC-issued file-signing certificate is recorded
(`services.credentials.find_credential(ctx, "file-signing", key)`), on whichever store holds it.
Unless the ceremony file names the key, the person's identity comes from the officer register:
the key linked (`officer link-key`) to the register entry bearing the administrator's (or
witness's) name, else the newest credential here. A linked entry must be active in the register
(`core.identity.check_may_act`, as for every signed act), its key carries no suspension or
revocation flag, and a credential that names its officer's register id passes every rule of
`services.identity.resolve_actor`. A credential no register entry holds is refused for a
named administrator or witness (`require_named_officer`). `signer_entry` applies the same
rules to a signature's certificate when the transcript is verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop.core.errors import NotFound, Refusal, SmkiError
from smki_desktop.core.identity import Signatory, check_credential_names, check_may_act
from smki_desktop.core.keys import key_id_for_spki
from smki_desktop.core.officers import OfficerRole
from smki_desktop.crypto.cms import sign_detached
from smki_desktop.keystores.os_keyring import resolve_key_ref
from smki_desktop.services.context import AppContext
from smki_desktop.services.credential_store import check_not_revoked, list_credentials
from smki_desktop.services.credential_vouch import credential_problem
from smki_desktop.services.credentials import find_credential, register_id_of
from smki_desktop.services.identity import resolve_actor
from smki_desktop.services.officers import key_holder, list_officers, signing_block
from smki_desktop.services.token import signer_for


@dataclass(frozen=True)
class OfficerIdentity:
    key_id: str
    certificate: x509.Certificate
    register_entry: str = ""  # the officer register entry holding the key, if linked
    holder_name: str = ""  # that entry's officer name

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()

    @property
    def certificate_sha256(self) -> str:
        import hashlib

        return hashlib.sha256(self.certificate.public_bytes(serialization.Encoding.DER)
                              ).hexdigest()


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).lower() == " ".join(b.split()).lower()


def registered_key(ctx: AppContext, name: str) -> str | None:
    """The key linked to the register entry named `name` that has a valid file-signing
    credential (an unflagged one first, so that a suspended officer's key is still found and
    refused by name); None when no such entry holds one."""
    for officer in list_officers(ctx):
        if not _same_name(officer.name, name):
            continue
        for c in sorted(officer.credentials, key=lambda c: c.flagged):
            try:
                if find_credential(ctx, "file-signing", c.key_id) is not None:
                    return c.key_id
            except NotFound:
                continue
    return None


def officer_identity(ctx: AppContext, key_ref: str | None = None,
                     name: str = "") -> OfficerIdentity:
    """The signing credential of the officer at this machine (a given key, else the key linked
    to the register entry named `name`, else the newest valid file-signing credential);
    refused, naming what is missing, when there is none or its register entry may not act."""
    if not key_ref and name:
        key_ref = registered_key(ctx, name)
    cred = find_credential(ctx, "file-signing", key_ref or None)
    if cred is None:
        which = f" for key {key_ref}" if key_ref else ""
        raise Refusal(f"No valid file-signing credential{which} in the {ctx.env.label} "
                      "environment: the administrator signs the transcript with it. Request "
                      "one first.", hint="credential.request.file-signing")
    info = resolve_key_ref(ctx.db, ctx.env, cred.key_id)
    blocked = signing_block(ctx, info)  # its officer was suspended or revoked
    if blocked:
        raise Refusal(blocked)
    holder = key_holder(ctx, info.key_id)
    if holder is not None and register_id_of(cred.certificate):
        # a credential naming its officer: every rule of issue 11's identity (linked to that
        # entry, chains to this environment's anchor, not revoked, names it, entry active)
        resolve_actor(ctx, holder.officer_id, info.key_id, roles=tuple(OfficerRole),
                      what="signing a ceremony transcript")
    elif holder is not None:  # role and standing come from the register (issue 11)
        check_may_act(Signatory.of(holder), ctx.env, tuple(OfficerRole),
                      "signing a ceremony transcript")
    entry = f"{holder.officer_id} ({holder.name})" if holder is not None else ""
    return OfficerIdentity(cred.key_id, cred.certificate, entry,
                           holder.name if holder is not None else "")


def require_named_officer(identity: OfficerIdentity, name: str, role: str) -> None:
    """The credential's officer register entry must be the person the ceremony names: a
    transcript saying 'Administrator: Ada' must not be signed with the key of another officer
    registered on this machine, nor with a credential no register entry holds (anyone can
    hold a certificate from the same CA)."""
    if not identity.holder_name:
        raise Refusal(f"The {role} is {name!r} in the ceremony file, but the file-signing "
                      f"credential {identity.key_id[:16]} ({identity.subject}) is linked to no "
                      "entry of the officer register. Link it to the register entry of "
                      f"{name!r} first.", hint="officer.link-key")
    if not _same_name(identity.holder_name, name):
        raise Refusal(f"The {role} is {name!r} in the ceremony file, but the file-signing "
                      f"credential {identity.key_id[:16]} belongs to register entry "
                      f"{identity.register_entry}. Name the right credential "
                      "(administrator_key) or the right person.")


def sign_as_officer(ctx: AppContext, content: bytes, identity: OfficerIdentity,
                    at: datetime | None = None) -> bytes:
    """A detached CMS signature (DER) over `content` with the officer's credential key."""
    info = resolve_key_ref(ctx.db, ctx.env, identity.key_id)
    spki = identity.certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if key_id_for_spki(spki) != info.key_id:
        raise Refusal(f"The credential certificate does not hold key {info.short_id}.")
    with signer_for(ctx, info) as signer:
        return sign_detached(content, signer, identity.certificate, at or ctx.clock.now())


def signer_entry(ctx: AppContext, cert: x509.Certificate, name: str,
                 role: str) -> tuple[str, str]:
    """Why the credential `cert` that signed a ceremony transcript does not stand for the
    person the plan names as `role` (the same rules as when the transcript was signed: a
    file-signing credential of this environment, held by the register entry bearing that
    name, not flagged, not revoked, the entry active): (that entry's register id, '') when it
    does, else ('' or the entry, the problem in plain words)."""
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    kid = key_id_for_spki(spki)
    who = f"the {role} {name} signed with credential {kid[:16]} ({cert.subject.rfc4514_string()})"
    recorded = next((c for c in list_credentials(ctx, "file-signing")
                     if c.key_id == kid and c.certificate == cert and c.environment is ctx.env),
                    None)
    if recorded is None:
        return "", (f"{who}, which is not a file-signing credential recorded in the "
                    f"{ctx.env.label} environment here")
    problem = credential_problem(ctx, recorded)  # its row: the certificate its import recorded
    if problem is not None:
        return "", f"{who}: {problem}"
    holder = key_holder(ctx, kid)
    if holder is None:
        return "", f"{who}, which no entry of the {ctx.env.label} officer register holds"
    if not _same_name(holder.name, name):
        return holder.officer_id, (f"{who}, which belongs to register entry "
                                   f"{holder.officer_id} ({holder.name}), not to {name}")
    flagged = [c.flagged for c in holder.credentials if c.key_id == kid and c.flagged]
    if flagged:
        return holder.officer_id, f"{who}, which is flagged in the register ({flagged[0]})"
    try:
        rid = register_id_of(cert)
        if rid:
            check_credential_names(holder.officer_id, rid)
        check_not_revoked(ctx, cert)
        check_may_act(Signatory.of(holder), ctx.env, tuple(OfficerRole),
                      "signing a ceremony transcript")
    except SmkiError as exc:
        return holder.officer_id, f"{who}: {exc.message}"
    return holder.officer_id, ""
