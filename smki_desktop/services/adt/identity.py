"""Who may sign files: a `file-signing` key of this environment with a valid file-signing
credential (chained to a trust anchor where there are anchors; Live always needs them), never a
key that holds or asked for an Organisation Certificate, and linked to an officer's register
entry (required in Live). Also the one way to unlock that key for an operation."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from smki_desktop.core.environment import Environment, require_same
from smki_desktop.core.errors import EnvironmentMismatch, InputError, Refusal
from smki_desktop.core.keys import KeyInfo, KeyUsage
from smki_desktop.core.ports import Signer
from smki_desktop.crypto.cms import SignerUntrusted, build_chain
from smki_desktop.services.adt.anchors import ca_pool, trust_anchors
from smki_desktop.services.adt.common import other_env
from smki_desktop.services.context import AppContext
from smki_desktop.services.credential_store import find_credential
from smki_desktop.services.keys import get_key
from smki_desktop.services.officers import get_officer, key_holder, signing_block
from smki_desktop.services.token import signer_for
from smki_desktop.store.repos import adt as adt_repo


@dataclass(frozen=True)
class SigningIdentity:
    key: KeyInfo
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]  # signer .. anchor (empty when no anchors: Test only)
    warnings: tuple[str, ...] = ()


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


def _check_register(ctx: AppContext, info: KeyInfo, as_ref: str | None,
                    warnings: list[str]) -> None:
    """Identity from the register: the credential's key is linked to an officer's entry (to
    the named one with `as_ref`)."""
    holder = key_holder(ctx, info.key_id)
    if as_ref:
        named = get_officer(ctx, as_ref)
        if holder is None or holder.officer_id != named.officer_id:
            held = f"linked to {holder.officer_id}" if holder else "linked to no register entry"
            raise Refusal(f"Rule: an officer signs only through a key linked to their own "
                          f"register entry; key {info.short_id} is {held}, not to "
                          f"{named.officer_id}.")
    if holder is None:
        if ctx.env is Environment.LIVE:
            raise Refusal(
                f"Rule: in Live a file is signed only with a file-signing credential linked to "
                f"an officer register entry; key {info.short_id} is linked to none.",
                hint="officer.link-key")
        warnings.append(f"Training (Test): key {info.short_id} is linked to no officer register "
                        "entry; in Live this signature would be refused.")


def signing_identity(ctx: AppContext, key_ref: str, *, at: datetime | None = None,
                     as_ref: str | None = None) -> SigningIdentity:
    """Check that `key_ref` may sign files here and return it with its credential (with
    `as_ref`, that the key is linked to that officer's register entry: `--as`)."""
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
    _check_register(ctx, info, as_ref, warnings)
    return SigningIdentity(info, cred.certificate, chain, tuple(warnings))


def open_signer(ctx: AppContext, info: KeyInfo) -> AbstractContextManager[Signer]:
    """Unlock the key once for an operation, from whichever store holds it (the OS keyring or
    a PKCS#11 token)."""
    return signer_for(ctx, info)


def signer_matches(signer: Signer, ident: SigningIdentity) -> None:
    if signer.key.key_id != ident.key.key_id:
        raise InputError(f"The signer holds key {signer.key.key_id[:16]}, not "
                         f"{ident.key.short_id}.")
