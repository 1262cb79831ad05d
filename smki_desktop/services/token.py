"""Choosing the PKCS#11 token for keys (`smki token use`, Settings > Profiles): the module is
checked before it is saved — the file exists, it is a PKCS#11 module, it initialises, and the
token with that label is present — so a wrong choice is refused now, not at the first key."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.errors import InputError, NotFound, Refusal
from smki_desktop.core.keys import KeyInfo, KeyLocation, KeyType, KeyUsage
from smki_desktop.core.ports import Signer
from smki_desktop.keystores.pkcs11_store import (
    Pkcs11KeyStore,
    TokenError,
    check_token_label,
    probe_token,
)
from smki_desktop.services import crossing
from smki_desktop.services.context import AppContext
from smki_desktop.services.keys import KeyRecord, check_new_label, list_keys

SETTING_PKCS11_MODULE = "pkcs11.module"
SETTING_PKCS11_TOKEN = "pkcs11.token"


@dataclass(frozen=True)
class TokenChoice:
    module: str
    token: str
    description: str  # what the token says of itself (manufacturer, model)
    audit: AuditEntry


def check_token(module: str, token: str) -> str:
    """Refuse a module that is missing, not PKCS#11, does not initialise, or has no token of
    that label; return the token's own description."""
    path = Path(module)
    if not path.is_file():
        raise InputError(f"PKCS#11 module: there is no file {module}.")
    try:
        return probe_token(module, token)
    except NotFound as exc:
        raise Refusal(f"{exc.message} Insert the token or check its label.") from None
    except TokenError as exc:
        raise InputError(exc.message) from None


def use_token(ctx: AppContext, module: str, token: str) -> TokenChoice:
    """Save the module and token label (both empty: stop using a token), audited."""
    module, token = module.strip(), check_token_label(token.strip())
    if bool(module) != bool(token):
        raise InputError("PKCS#11 module and token label: give both, or neither to stop using "
                         "a token.")
    description = check_token(module, token) if module else ""
    with ctx.audit.change():  # both settings and their record: one transaction
        ctx.set_setting(SETTING_PKCS11_MODULE, module)
        ctx.set_setting(SETTING_PKCS11_TOKEN, token)
        entry = ctx.audit.record("settings.pkcs11", {"module": module, "token": token,
                                                     "token_description": description})
    return TokenChoice(module, token, description, entry)


def token_store(ctx: AppContext) -> Pkcs11KeyStore:
    """The PKCS#11 key store configured in settings (module path + token label)."""
    module = ctx.setting(SETTING_PKCS11_MODULE)
    token = ctx.setting(SETTING_PKCS11_TOKEN)
    if not module or not token:
        raise InputError("Token: no PKCS#11 module and token configured; set them first.",
                         hint="token.use")
    return Pkcs11KeyStore(ctx.env, module, token, ctx.db, ctx.clock, ctx.passphrases)


def generate_token_key(ctx: AppContext, usage: KeyUsage, label: str
                       ) -> tuple[KeyInfo, AuditEntry, str]:
    """A non-exportable P-256 key on the configured token, audited (Live: only with a Party
    profile). Returns the key, its audit record and the token label."""
    crossing.require_party(ctx, "New token key")
    check_new_label(label)  # as a keyring key's (the token keeps it as CKA_LABEL too)
    store = token_store(ctx)
    rec = KeyRecord(ctx)
    info = store.generate(KeyType.EC_P256, usage, label, recorded=rec)
    return info, rec.written(), store.token_label


def token_keys(ctx: AppContext) -> list[KeyInfo]:
    """This environment's keys held on a PKCS#11 token (whichever token), oldest first: what
    `smki token list` shows."""
    return [k for k in list_keys(ctx) if k.location is KeyLocation.PKCS11]


def signer_for(ctx: AppContext, info: KeyInfo,
               token_store: Any = None) -> AbstractContextManager[Signer]:
    """A signer for the key, wherever it is kept: the PKCS#11 token configured in settings (or
    `token_store`, one already logged in) or the OS keyring key store. Here rather than with
    the CSRs: signing an ADT file or an officer register entry needs this, not the CSR code.
    An archived key is refused (it is used for no new work)."""
    from smki_desktop.services.keys import refuse_archived

    refuse_archived(ctx, info, "signing")
    if info.location is KeyLocation.PKCS11:
        store = token_store if token_store is not None else _configured_store(ctx)
        return store.signer(info.key_id)
    return ctx.keystore.signer(info.key_id)


_configured_store = token_store  # signer_for's parameter of that name hides the function
