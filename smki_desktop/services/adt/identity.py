"""Who may sign files: a `file-signing` key of this environment with a valid file-signing
credential, never a key that holds or asked for an Organisation Certificate. In Live, and in Test
once the officer register has entries, the signer is resolved through the register exactly as
every other officer action is (`services.identity.resolve_actor`): the key is linked to the
entry its credential names, the credential chains to a trust anchor added through SMKI Desktop
and is not revoked, and the entry is active in the role the file needs (an ARO signs ADT and
Action files, an SRO confirms). A Test without a register signs as training, with a warning.
Also the one way to unlock that key for an operation."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from smki_desktop.core.environment import Environment, require_same
from smki_desktop.core.errors import EnvironmentMismatch, InputError, NotFound, Refusal
from smki_desktop.core.keys import KeyInfo, KeyUsage
from smki_desktop.core.officers import Officer, OfficerRole, OfficerStatus
from smki_desktop.core.ports import Signer
from smki_desktop.crypto.cms import SignerUntrusted, build_chain
from smki_desktop.services.adt.anchors import ca_pool, trust_anchors
from smki_desktop.services.adt.common import other_env
from smki_desktop.services.adt.signer_check import ARO_SIGNS, register_decides
from smki_desktop.services.context import AppContext
from smki_desktop.services.credential_store import find_credential
from smki_desktop.services.identity import resolve_actor
from smki_desktop.services.keys import get_key
from smki_desktop.services.officers import profile_officer, signing_block
from smki_desktop.services.token import signer_for
from smki_desktop.store.repos import adt as adt_repo
from smki_desktop.store.repos import officers as officers_repo


@dataclass(frozen=True)
class SigningIdentity:
    key: KeyInfo
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]  # signer .. anchor (empty when no anchors: Test only)
    warnings: tuple[str, ...] = ()
    officer: Officer | None = None  # the register entry acting (None: Test training only)


def _check_key(ctx: AppContext, key_ref: str) -> KeyInfo:
    """The key, refused when it is another environment's, its officer is blocked, it is not a
    file-signing key, or it belongs to an Organisation CSR or certificate."""
    info = get_key(ctx, key_ref)  # refuses a key of the other environment, naming both
    require_same(ctx.env, info.environment, f"Key {info.short_id}")
    blocked = signing_block(ctx, info)  # its officer was suspended or revoked
    if blocked:
        raise Refusal(blocked)
    if info.usage is not KeyUsage.FILE_SIGNING:
        raise Refusal(
            f"Key {info.short_id} ({info.label}) is a {info.usage.value} key: files are signed "
            "only with the ARO's file-signing credential, never with an Organisation "
            "Certificate's key (those are for GBCS messages to devices)."
        )
    used_by = adt_repo.organisation_use(ctx.db, info.key_id)
    if used_by:
        raise Refusal(f"Key {info.short_id} cannot sign files: it has {used_by}. Use the ARO's "
                      "file-signing credential.")
    return info


def _chain(ctx: AppContext, info: KeyInfo, cert: x509.Certificate, now: datetime,
           warnings: list[str]) -> tuple[x509.Certificate, ...]:
    """The credential's chain to this environment's anchors (none in a Test without any)."""
    anchors = trust_anchors(ctx)
    if anchors:
        try:
            return tuple(build_chain(cert, ca_pool(ctx), anchors, now))
        except SignerUntrusted as exc:
            raise EnvironmentMismatch(
                f"The file-signing certificate of key {info.short_id} was not issued under a "
                f"{ctx.env.label} trust anchor: {exc.message} A {other_env(ctx.env).label} "
                f"credential never signs {ctx.env.label} files."
            ) from None
    if ctx.env is Environment.LIVE:
        raise Refusal("The Live environment has no file-signing trust anchor, so the "
                      "credential cannot be shown to be a Live one. Add the DCC's anchor "
                      "first.", hint="trust-anchor.add")
    warnings.append("No Test trust anchor is set up: the certificate chain was not checked.")
    return ()


def _profile_standing(ctx: AppContext, roles: tuple[OfficerRole, ...], what: str) -> str:
    """When the local profile links to an entry that may not do `what` (another role, or not
    active), a sentence saying so: linking the key to it would not help either."""
    linked = profile_officer(ctx)
    if linked is None or (linked.role in roles and linked.status is OfficerStatus.ACTIVE):
        return ""
    needed = " or ".join(r.label for r in roles)
    return (f" The local officer profile links to {linked.officer_id} ({linked.name}): "
            f"{linked.role.label}, {linked.status.value}, and {what} is done by an active "
            f"{needed}.")


def _acting_officer(ctx: AppContext, info: KeyInfo, as_ref: str | None,
                    roles: tuple[OfficerRole, ...], what: str) -> Officer:
    """The register entry signing through `info`, every identity rule checked (the entry named
    by `as_ref`, else the one the key is linked to): the credential names it, chains to an
    anchor added through SMKI Desktop, is not revoked; the entry is active in one of `roles`.
    The key's `officer-suspended` flag is a second check only: the standing is the one the
    signed register log replays."""
    if not as_ref:
        row = officers_repo.key_holder(ctx.db, info.key_id, ctx.env.value)
        if row is None:
            where = ("in Live" if ctx.env is Environment.LIVE
                     else "once the officer register has entries")
            raise Refusal(
                f"Rule: {where} a file is signed only with a file-signing credential linked to "
                f"an officer register entry; key {info.short_id} is linked to none."
                + _profile_standing(ctx, roles, what), hint="officer.link-key")
        as_ref = row.officer_id
    return resolve_actor(ctx, as_ref, info.key_id, roles=roles, what=what).officer


def signing_identity(ctx: AppContext, key_ref: str, *, at: datetime | None = None,
                     as_ref: str | None = None,
                     roles: tuple[OfficerRole, ...] = (OfficerRole.ARO,),
                     what: str = ARO_SIGNS) -> SigningIdentity:
    """Check that `key_ref` may sign files here and return it with its credential and the
    register entry acting (`as_ref`: that the key is linked to that entry, `--as`), the entry
    active in one of `roles` (`register_decides`); a Test without a register signs as
    training, with a warning."""
    info = _check_key(ctx, key_ref)
    cred = find_credential(ctx, "file-signing", info.key_id)
    if cred is None:
        raise Refusal(
            f"Key {info.short_id} has no valid file-signing credential in the {ctx.env.label} "
            "environment. Request a file-signing credential first.",
            hint="credential.request.file-signing")
    require_same(ctx.env, cred.environment, "The file-signing credential")
    warnings: list[str] = []
    chain = _chain(ctx, info, cred.certificate, at or ctx.clock.now(), warnings)
    if register_decides(ctx):
        officer = _acting_officer(ctx, info, as_ref, roles, what)
        return SigningIdentity(info, cred.certificate, chain, tuple(warnings), officer)
    if as_ref:
        raise NotFound(f"No officer {as_ref.strip()!r} in the {ctx.env.label} officer "
                       "register.")
    warnings.append(f"Training (Test): key {info.short_id} is linked to no officer register "
                    "entry (the register has none); in Live this signature would be refused.")
    return SigningIdentity(info, cred.certificate, chain, tuple(warnings))


def open_signer(ctx: AppContext, info: KeyInfo) -> AbstractContextManager[Signer]:
    """Unlock the key once for an operation, from whichever store holds it (the OS keyring or
    a PKCS#11 token)."""
    return signer_for(ctx, info)


def signer_matches(signer: Signer, ident: SigningIdentity) -> None:
    if signer.key.key_id != ident.key.key_id:
        raise InputError(f"The signer holds key {signer.key.key_id[:16]}, not "
                         f"{ident.key.short_id}.")
