"""Identity from credentials: resolve `--as OFFICER --key KEY` to an acting officer (the key is
linked to that register entry, its IKI file-signing credential chains to this environment's
trust anchors added through SMKI Desktop - never one only put in the database - and names the
register id), sign canonical bytes as that officer, and verify a
signature back to a register entry. Role and standing come from the register, never from the
local profile."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop.core.errors import InputError, NotFound, Refusal
from smki_desktop.core.identity import Signatory, check_credential_names, check_may_act
from smki_desktop.core.keys import KeyInfo, KeyUsage, key_id_for_spki
from smki_desktop.core.officers import Officer, OfficerRole
from smki_desktop.crypto.cms import SignerUntrusted, build_chain, sign_detached
from smki_desktop.services import officers as officer_service
from smki_desktop.services.context import AppContext
from smki_desktop.services.credential_store import (
    Credential,
    ca_pool,
    check_not_revoked,
    find_credential,
    register_id_of,
    verify_officer_signature,
)
from smki_desktop.services.keys import get_key
from smki_desktop.services.token import signer_for
from smki_desktop.services.trust import officer_anchors, unvouched_anchors, unvouched_note


@dataclass(frozen=True)
class Actor:
    """An officer acting through one linked key with a valid file-signing credential."""

    officer: Officer
    key: KeyInfo
    credential: Credential
    chain: tuple[x509.Certificate, ...]

    @property
    def signatory(self) -> Signatory:
        return Signatory.of(self.officer)


def chain_of(ctx: AppContext, cert: x509.Certificate, at: datetime
             ) -> tuple[x509.Certificate, ...]:
    anchors = officer_anchors(ctx)
    if not anchors:
        raise Refusal(f"Rule: an officer's credential chains to the {ctx.env.label} IKI trust "
                      "anchor; this environment has no trust anchor added through SMKI Desktop "
                      "yet.")
    pool = ca_pool(ctx)
    try:
        return build_chain(cert, pool, anchors, at)
    except SignerUntrusted as exc:
        for foreign in unvouched_anchors(ctx):
            with contextlib.suppress(SignerUntrusted):
                build_chain(cert, [*pool, foreign], [foreign], at)
                raise Refusal(f"Rule: an officer's credential chains to the {ctx.env.label} IKI "
                              f"trust anchor; this credential {unvouched_note(foreign)}"
                              ) from None
        raise Refusal(f"Rule: an officer's credential chains to the {ctx.env.label} IKI trust "
                      f"anchor; {exc.message}") from None


def credential_for_key(ctx: AppContext, key: KeyInfo) -> Credential:
    if key.usage is not KeyUsage.FILE_SIGNING:
        raise Refusal(f"Rule: an officer acts through a file-signing key; key {key.short_id} "
                      f"is a {key.usage.value} key.")
    cred = find_credential(ctx, "file-signing", key.key_id)
    if cred is None:
        raise Refusal(f"Rule: an officer acts through a valid IKI file-signing credential; key "
                      f"{key.short_id} has none valid now in the {ctx.env.label} environment.")
    return cred


def usable_keys(ctx: AppContext, officer: Officer) -> list[str]:
    """The key ids linked to `officer`, not flagged, with a valid file-signing credential."""
    usable = []
    for c in officer.credentials:
        if c.flagged:
            continue
        with contextlib.suppress(NotFound):
            if find_credential(ctx, "file-signing", c.key_id) is not None:
                usable.append(c.key_id)
    return usable


def default_actor_refs(ctx: AppContext) -> tuple[str, str]:
    """(officer, key) when this workstation's user is linked to one register entry with one
    usable key; InputError naming --as/--key otherwise."""
    linked = officer_service.profile_officer(ctx)
    if linked is None:
        raise InputError("Signer: name the officer (register id) and the key; the local "
                         "profile is linked to no register entry.", hint="field.signer")
    usable = usable_keys(ctx, linked)
    if len(usable) != 1:
        raise InputError(f"Key: {linked.officer_id} has {len(usable)} usable keys; name the "
                         "one to sign with.", hint="field.key")
    return linked.officer_id, usable[0]


def resolve_actor(ctx: AppContext, as_ref: str | None, key_ref: str | None, *,
                  roles: Iterable[OfficerRole], what: str) -> Actor:
    """The officer `as_ref` acting through `key_ref`, with every identity rule checked."""
    if not as_ref or not key_ref:
        d_officer, d_key = default_actor_refs(ctx)
        as_ref = as_ref or d_officer
        key_ref = key_ref or d_key
    officer = officer_service.get_officer(ctx, as_ref)  # the one replay of the register log
    key = get_key(ctx, key_ref)
    # the entry's own links (read with it) say whether it holds the key; who else holds it is
    # looked up (a second replay) only to say so in the refusal
    if not any(c.key_id == key.key_id for c in officer.credentials):
        holder = officer_service.key_holder(ctx, key.key_id)
        held = f"linked to {holder.officer_id}" if holder else "linked to no register entry"
        raise Refusal(f"Rule: an officer acts only through a key linked to their own register "
                      f"entry; key {key.short_id} is {held}, not to {officer.officer_id}.")
    # a key flagged when its officer was suspended or revoked signs nothing (defence in depth:
    # the standing itself comes from the signed register log, checked below)
    blocked = officer_service.signing_block(ctx, key)
    if blocked:
        raise Refusal(blocked)
    cred = credential_for_key(ctx, key)
    chain = chain_of(ctx, cred.certificate, ctx.clock.now())
    check_not_revoked(ctx, cred.certificate)
    check_credential_names(officer.officer_id, register_id_of(cred.certificate))
    check_may_act(Signatory.of(officer), ctx.env, roles, what)
    return Actor(officer, key, cred, chain)


def sign(ctx: AppContext, actor: Actor, data: bytes, at: datetime) -> bytes:
    """A detached CMS signature over `data` by the actor's key, credential and chain included."""
    with signer_for(ctx, actor.key) as s:
        return sign_detached(data, s, actor.credential.certificate, at.replace(microsecond=0),
                             extra_certs=actor.chain[1:])


@dataclass(frozen=True)
class VerifiedBy:
    officer: Officer
    certificate: x509.Certificate
    signed_at: datetime | None


def verify(ctx: AppContext, data: bytes, signature: bytes, *, what: str,
           at: datetime | None = None) -> VerifiedBy:
    """Verify `signature` over `data`; the signer's credential must chain to this environment's
    anchors and name a register entry that holds the credential's key."""
    v = verify_officer_signature(ctx, data, signature, at or ctx.clock.now())
    cert = v.signer_certificate
    if cert is None:
        raise Refusal(f"Rule: {what} carries its signer's credential; this signature has none.")
    check_not_revoked(ctx, cert)
    rid = register_id_of(cert)
    if not rid:
        raise Refusal(f"Rule: {what} is signed with a credential that names its officer; this "
                      f"one ({cert.subject.rfc4514_string()}) names none.")
    officer = officer_service.find_officer(ctx, rid)
    if officer is None:
        raise Refusal(f"Rule: {what} is signed by an officer of the {ctx.env.label} register; "
                      f"{rid} is not in it.")
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    kid = key_id_for_spki(spki)
    if not any(c.key_id == kid for c in officer.credentials):
        raise Refusal(f"Rule: {what} is signed through a key linked to the signer's register "
                      f"entry; key {kid[:16]} is not linked to {officer.officer_id}.")
    return VerifiedBy(officer, cert, v.signing_time)


def chain_der(actor: Actor) -> Sequence[bytes]:
    return [c.public_bytes(serialization.Encoding.DER) for c in actor.chain]


@dataclass(frozen=True)
class SigningChoice:
    """An officer of this register and one linked key with a valid file-signing credential
    naming them: what the GUI offers under "Sign as"."""

    officer_id: str
    name: str
    role: str
    status: str
    key_id: str
    key_label: str

    @property
    def label(self) -> str:
        return (f"{self.officer_id} {self.name} ({self.role.upper()}, {self.status}) — key "
                f"{self.key_id[:12]} {self.key_label}")


def signing_choices(ctx: AppContext) -> list[SigningChoice]:
    """Every (officer, key) pair that could sign here, the linked profile's first."""
    linked = officer_service.profile_officer(ctx)
    out: list[SigningChoice] = []
    for o in officer_service.list_officers(ctx):
        for c in o.credentials:
            if c.flagged:
                continue
            cred = find_credential(ctx, "file-signing", c.key_id)
            if cred is None or register_id_of(cred.certificate) != o.officer_id:
                continue
            out.append(SigningChoice(o.officer_id, o.name, o.role.value, o.status.value,
                                     c.key_id, c.label))
    if linked is not None:
        out.sort(key=lambda s: s.officer_id != linked.officer_id)
    return out
