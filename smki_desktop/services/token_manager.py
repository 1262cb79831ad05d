"""Token manager: the PKCS#11 tokens behind the configured module, their state in words
(PIN count low, final try, locked: what tokens report instead of a number of retries), the
keys this environment holds on each, a test login, and changing the user PIN. PINs come
through the PassphraseProvider (a dialog or the terminal), are never recorded, and never
appear in a message. Both faces call these functions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.core.keys import KeyInfo, KeyLocation
from smki_desktop.keystores.pkcs11_store import (
    TokenError,
    _find_token,
    _pkcs11,
    check_token_label,
    token_text,
)
from smki_desktop.services import keys as key_service
from smki_desktop.services.context import AppContext
from smki_desktop.services.csr import SETTING_PKCS11_MODULE, SETTING_PKCS11_TOKEN

PIN_WORDS = (("USER_PIN_LOCKED", "PIN locked: no tries left"),
             ("USER_PIN_FINAL_TRY", "one try left before the PIN locks"),
             ("USER_PIN_COUNT_LOW", "a wrong PIN was entered: few tries left"),
             ("USER_PIN_TO_BE_CHANGED", "the PIN must be changed"))


@dataclass(frozen=True)
class TokenInfo:
    label: str
    manufacturer: str
    model: str
    serial: str
    pin_state: str  # in words; "PIN fine" when the token reports nothing
    in_use: bool  # the token this environment's keys are made on
    keys: tuple[KeyInfo, ...]

    def as_dict(self) -> dict[str, object]:
        return {"label": self.label, "manufacturer": self.manufacturer, "model": self.model,
                "serial": self.serial, "pin_state": self.pin_state, "in_use": self.in_use,
                "keys": [k.key_id for k in self.keys]}


def _lib(module: str) -> Any:
    pkcs11 = _pkcs11()  # the native library loads only when tokens are asked for
    try:
        return pkcs11, pkcs11.lib(module)
    except (RuntimeError, OSError, pkcs11.exceptions.PKCS11Error) as exc:
        raise TokenError(f"PKCS#11 module {module} cannot be loaded: {exc}") from exc


def module_of(ctx: AppContext, module: str | None = None) -> str:
    m = (module or ctx.setting(SETTING_PKCS11_MODULE) or "").strip()
    if not m:
        raise InputError("PKCS#11 module: give the module's path (e.g. "
                         "/usr/lib/softhsm/libsofthsm2.so).", hint="field.pkcs11-module")
    return m


def pin_state(flags: Any, pk: Any) -> str:
    words = [text for name, text in PIN_WORDS if flags & getattr(pk.TokenFlag, name)]
    return "; ".join(words) or "PIN fine (no wrong tries reported)"


def list_tokens(ctx: AppContext, module: str | None = None) -> list[TokenInfo]:
    """The tokens present, each field as text to show (`token_text`: a label chosen by
    whoever initialised the token has its control characters named); such a shown label
    addresses its token in `test_login` and `change_pin` as it does in `token use`."""
    pk, lib = _lib(module_of(ctx, module))
    in_use = ctx.setting(SETTING_PKCS11_TOKEN) or ""
    token_keys = [k for k in key_service.list_keys(ctx) if k.location is KeyLocation.PKCS11]
    out = []
    for slot in lib.get_slots(token_present=True):
        t = slot.get_token()
        label = token_text(t.label)
        used = in_use in (label, t.label)
        out.append(TokenInfo(label, token_text(t.manufacturer_id), token_text(t.model),
                             token_text(t.serial), pin_state(t.flags, pk), used,
                             tuple(token_keys) if used else ()))
    return out


def _token(ctx: AppContext, module: str | None, label: str) -> tuple[Any, Any]:
    return _pkcs11(), _find_token(module_of(ctx, module), check_token_label(label))


def test_login(ctx: AppContext, label: str, module: str | None = None) -> AuditEntry:
    """Log in with the PIN asked now, and out again: does the PIN work?"""
    pk, token = _token(ctx, module, label)
    pin = ctx.passphrases.ask(f"PIN for token {label!r} (test login)")
    try:
        token.open(user_pin=pin).close()
    except pk.exceptions.PinIncorrect:
        ctx.audit.record("token.login-test", {"token": label, "ok": False})
        raise Refusal(f"Wrong PIN for token {label!r}: "
                      f"{pin_state(token.flags, pk)}.") from None
    except pk.exceptions.PinLocked:
        raise Refusal(f"Token {label!r} is locked (too many wrong PINs).") from None
    return ctx.audit.record("token.login-test", {"token": label, "ok": True})


def change_pin(ctx: AppContext, label: str, module: str | None = None) -> AuditEntry:
    """The current PIN, then the new one twice (asked through the PassphraseProvider)."""
    pk, token = _token(ctx, module, label)
    old = ctx.passphrases.ask(f"Current PIN for token {label!r}")
    new = ctx.passphrases.ask(f"New PIN for token {label!r}", confirm=True)
    if len(new) < 4:
        raise InputError("New PIN: at least 4 characters.", hint="field.pin")
    try:
        with token.open(rw=True, user_pin=old) as sess:
            sess.set_pin(old, new)
    except pk.exceptions.PinIncorrect:
        raise Refusal(f"Wrong current PIN for token {label!r}: the PIN was not changed.") \
            from None
    except pk.exceptions.PinLocked:
        raise Refusal(f"Token {label!r} is locked (too many wrong PINs).") from None
    except pk.exceptions.PKCS11Error as exc:
        raise TokenError(f"Token {label!r} refused the new PIN ({type(exc).__name__}).") \
            from exc
    return ctx.audit.record("token.change-pin", {"token": label})
