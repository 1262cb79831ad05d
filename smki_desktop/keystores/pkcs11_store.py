"""A `KeyStore` on a PKCS#11 token or HSM (python-pkcs11): non-exportable EC P-256 keys.

- The module path and token label come from settings; the PIN is asked through the
  `PassphraseProvider` port for each operation (never taken from the command line).
- Keys are generated on the token with CKA_SENSITIVE true and CKA_EXTRACTABLE false; a
  key-agreement key also gets CKA_SIGN, because it must sign its own CSR (the only proof of
  possession the DCC accepts).
- Keys are identified by CKA_ID (random, 16 octets) and checked against their public key on
  every use; labels are for people only.
- Signing: SHA-256 in software, then CKM_ECDSA over the digest on the token (SoftHSM 2.6 has no
  CKM_ECDSA_SHA256); the raw r||s is re-encoded as a DER ECDSA-Sig-Value.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from asn1crypto import core
from asn1crypto import keys as akeys
from cryptography.hazmat.primitives.asymmetric import utils

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError, NotFound, Refusal, SmkiError
from smki_desktop.core.keys import KeyInfo, KeyLocation, KeyType, KeyUsage, key_id_for_spki
from smki_desktop.core.plain_text import bad_char_words, visible
from smki_desktop.core.ports import Clock, PassphraseProvider, RowHook
from smki_desktop.keystores.os_keyring import refuse_archived_key, resolve_key_ref
from smki_desktop.store.db import Database
from smki_desktop.store.repos import keys as keys_repo

P256_OID = "1.2.840.10045.3.1.7"


class TokenError(SmkiError):
    """The token or its module failed (not present, wrong PIN, locked, mechanism missing)."""


def spki_from_ec_point(ec_point: bytes) -> bytes:
    """SubjectPublicKeyInfo DER for a P-256 CKA_EC_POINT (DER OCTET STRING or raw point)."""
    point = ec_point
    if ec_point[:1] == b"\x04" and len(ec_point) == 67 and ec_point[1] == 65:
        point = bytes(core.OctetString.load(ec_point).native)
    return bytes(akeys.PublicKeyInfo({
        "algorithm": {"algorithm": "ec",
                      "parameters": akeys.ECDomainParameters(name="named", value=P256_OID)},
        "public_key": point,
    }).dump())


def _pkcs11() -> Any:
    import pkcs11  # imported late: the app runs without tokens

    return pkcs11


def _load_failure(module: str, exc: BaseException) -> str:
    """Why a module could not be loaded, never empty: python-pkcs11 raises an exception with
    no text when C_Initialize fails (e.g. SoftHSM without its configuration file)."""
    text = str(exc).strip()
    if "C_GetFunctionList" in text or "OS exception while loading" in text:
        return f"{module} is not a PKCS#11 module ({text})"
    if text:
        return text
    reason = f"its initialisation failed ({type(exc).__name__})"
    if "softhsm" in Path(module).name.lower():
        conf = os.environ.get("SOFTHSM2_CONF")
        where = conf or "/etc/softhsm/softhsm2.conf"
        if not Path(where).is_file():
            how = "SOFTHSM2_CONF names" if conf else "the default configuration is"
            reason += (f": SoftHSM's configuration is missing ({how} {where}, which does not "
                       "exist)")
        else:
            reason += f": check SoftHSM's configuration {where} and its token folder"
    return reason


def token_text(value: Any) -> str:
    """A token's own field (label, manufacturer, model, serial) as text to show: python-pkcs11
    gives some (the serial) as bytes, whose str() would be a Python repr; and whoever
    initialised the token chose the label, so control or format characters in it are named
    ("[U+001B]"), never printed raw to a terminal, a table or a transcript."""
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)
    return visible(text.strip())


def check_token_label(label: str) -> str:
    """A token label an officer gave (to choose a token, to test its PIN), or an InputError
    when it holds a control or format character: it is saved, audited and shown in prompts,
    so it is given as the token list shows it (`token_text`), which finds the same token."""
    bad = bad_char_words(label)
    if bad:
        raise InputError(f"Token label: holds {bad}; give it as the token list shows it, "
                         f"{visible(label)!r}.")
    return label


def _find_token(module: str, label: str) -> Any:
    """The token labelled `label`, or the one whose label is shown so (`token_text`): a label
    holding control characters is given as the token list shows it."""
    pk = _pkcs11()
    try:
        lib = pk.lib(module)
    except (RuntimeError, OSError, pk.exceptions.PKCS11Error) as exc:
        raise TokenError(f"PKCS#11 module {module} cannot be loaded: "
                         f"{_load_failure(module, exc)}.") from exc
    try:
        try:
            return lib.get_token(token_label=label)
        except pk.exceptions.NoSuchToken:
            shown = [t for t in (s.get_token() for s in lib.get_slots(token_present=True))
                     if token_text(t.label) == label and token_text(t.label) != t.label]
            if len(shown) == 1:
                return shown[0]
            if len(shown) > 1:
                raise pk.exceptions.MultipleTokensReturned() from None
            raise
    except pk.exceptions.NoSuchToken:
        raise NotFound(f"No token labelled {label!r} behind {module}.") from None
    except pk.exceptions.MultipleTokensReturned:
        raise InputError(f"Several tokens are labelled {label!r}.") from None
    except pk.exceptions.PKCS11Error as exc:
        raise TokenError(f"PKCS#11 module {module}: the token list cannot be read: "
                         f"{_load_failure(module, exc)}.") from exc


def probe_token(module: str, label: str) -> str:
    """Load the module and find the token (no login): its manufacturer and model, or the
    errors of `_find_token`."""
    tok = _find_token(module, label)
    return " ".join(x for x in (token_text(getattr(tok, "manufacturer_id", "")),
                                token_text(getattr(tok, "model", ""))) if x)


class Pkcs11Signer:
    """A token private key, logged in for one operation."""

    def __init__(self, key: KeyInfo, private: Any) -> None:
        self.key = key
        self._private = private

    def sign_digest(self, digest: bytes) -> bytes:
        pk = _pkcs11()
        try:
            raw = self._private.sign(digest, mechanism=pk.Mechanism.ECDSA)
        except pk.exceptions.PKCS11Error as exc:
            raise TokenError(f"The token refused to sign with key {self.key.short_id}: "
                             f"{type(exc).__name__}.") from exc
        half = len(raw) // 2
        return bytes(utils.encode_dss_signature(int.from_bytes(raw[:half], "big"),
                                                int.from_bytes(raw[half:], "big")))

    def sign(self, data: bytes) -> bytes:
        return self.sign_digest(hashlib.sha256(data).digest())


class Pkcs11KeyStore:
    location = KeyLocation.PKCS11

    def __init__(self, environment: Environment, module_path: str, token_label: str,
                 db: Database, clock: Clock, passphrases: PassphraseProvider) -> None:
        self.environment = environment
        self.module_path = module_path
        self.token_label = token_label
        self.db = db
        self.clock = clock
        self.passphrases = passphrases
        self._open: Any = None

    # -- sessions --------------------------------------------------------------------------
    def _token(self) -> Any:
        return _find_token(self.module_path, self.token_label)

    @contextmanager
    def logged_in(self) -> Iterator[None]:
        """Keep one logged-in session for the block, so that an action that both makes a key
        and signs with it (key + CSR) asks for the PIN once; the PIN itself is not kept."""
        if self._open is not None:
            yield
            return
        with self._login() as sess:
            self._open = sess
            try:
                yield
            finally:
                self._open = None

    @contextmanager
    def session(self) -> Iterator[Any]:
        if self._open is not None:
            yield self._open
            return
        with self._login() as sess:
            yield sess

    @contextmanager
    def _login(self) -> Iterator[Any]:
        pk = _pkcs11()
        token = self._token()
        pin = self.passphrases.ask(f"PIN for token {self.token_label!r}")
        try:
            sess = token.open(rw=True, user_pin=pin)
        except pk.exceptions.PinIncorrect:
            raise Refusal(f"Wrong PIN for token {self.token_label!r}.") from None
        except pk.exceptions.PinLocked:
            raise Refusal(f"Token {self.token_label!r} is locked (too many wrong PINs).") \
                from None
        except pk.exceptions.PKCS11Error as exc:
            raise TokenError(f"Cannot log in to token {self.token_label!r}: "
                             f"{type(exc).__name__}.") from exc
        try:
            yield sess
        finally:
            sess.close()

    def token_identity(self) -> dict[str, str]:
        """The token's label, serial, manufacturer and model (no PIN needed), for records."""
        tok = self._token()
        return {"label": token_text(tok.label), "serial": token_text(tok.serial),
                "manufacturer": token_text(getattr(tok, "manufacturer_id", "")),
                "model": token_text(getattr(tok, "model", "")), "module": self.module_path}

    # -- creation --------------------------------------------------------------------------
    def generate(self, key_type: KeyType, usage: KeyUsage, label: str, *,
                 recorded: RowHook | None = None) -> KeyInfo:
        pk = _pkcs11()
        from pkcs11.util.ec import encode_named_curve_parameters

        if key_type is not KeyType.EC_P256:
            raise InputError("Tokens hold EC P-256 keys here; RSA keys stay in the OS keyring.")
        if usage not in (KeyUsage.SIGNING, KeyUsage.KEY_AGREEMENT, KeyUsage.FILE_SIGNING):
            raise InputError(f"Usage {usage.value} is not for a P-256 token key.")
        label = label.strip()
        if not label:
            raise InputError("Label: give the key a label.")
        A = pk.Attribute
        cka_id = secrets.token_bytes(16)
        with self.session() as sess:
            params = sess.create_domain_parameters(
                pk.KeyType.EC, {A.EC_PARAMS: encode_named_curve_parameters(P256_OID)},
                local=True)
            private_template = {
                A.TOKEN: True, A.PRIVATE: True, A.SENSITIVE: True, A.EXTRACTABLE: False,
                A.SIGN: True, A.DERIVE: usage is KeyUsage.KEY_AGREEMENT,
                A.DECRYPT: False, A.UNWRAP: False,
            }
            public_template = {A.TOKEN: True, A.VERIFY: True, A.PRIVATE: False}
            try:
                pub, _priv = params.generate_keypair(
                    id=cka_id, label=label, store=True,
                    public_template=public_template, private_template=private_template)
            except pk.exceptions.PKCS11Error as exc:
                raise TokenError(f"The token could not generate a P-256 key: "
                                 f"{type(exc).__name__}.") from exc
            spki = spki_from_ec_point(pub[A.EC_POINT])
            serial = sess.token.serial
        return self._record(spki, serial, cka_id, key_type, usage, label, recorded)

    def adopt_labelled(self, label: str, usage: KeyUsage, recorded: RowHook | None = None,
                       check: Callable[[str], None] | None = None) -> KeyInfo | None:
        """Record a key pair the token holds under `label` but the database does not (a crash
        between the token making it and the record being written), or None if there is none.
        Used by a ceremony resuming a step, so that such a key is used, not made again.
        `recorded`: the caller's record, committed with the key's row (as `generate`'s);
        `check`: called with the key's id before anything is recorded (raises to refuse it,
        e.g. a key the other environment made on a token both use)."""
        pk = _pkcs11()
        A = pk.Attribute
        with self.session() as sess:
            privs = list(sess.get_objects({A.CLASS: pk.ObjectClass.PRIVATE_KEY,
                                           A.LABEL: label}))
            if not privs:
                return None
            if len(privs) > 1:
                raise Refusal(f"Token {self.token_label!r} holds {len(privs)} private keys "
                              f"labelled {label!r}; expected at most one.")
            if not privs[0][A.SENSITIVE] or privs[0][A.EXTRACTABLE]:
                raise Refusal(f"Token {self.token_label!r}: the key labelled {label!r} is "
                              "exportable; it was not made by this application. Not used.")
            cka_id = bytes(privs[0][A.ID])
            pubs = list(sess.get_objects({A.CLASS: pk.ObjectClass.PUBLIC_KEY, A.ID: cka_id}))
            if len(pubs) != 1:
                raise NotFound(f"Token {self.token_label!r}: the key labelled {label!r} has "
                               f"{len(pubs)} public keys with its CKA_ID.")
            spki = spki_from_ec_point(pubs[0][A.EC_POINT])
            serial = sess.token.serial
        key_id = key_id_for_spki(spki)
        if check is not None:
            check(key_id)
        if keys_repo.exists(self.db, key_id):
            return resolve_key_ref(self.db, self.environment, key_id, self.location)
        return self._record(spki, serial, cka_id, KeyType.EC_P256, usage, label, recorded)

    def _record(self, spki: bytes, serial: Any, cka_id: bytes, key_type: KeyType,
                usage: KeyUsage, label: str, recorded: RowHook | None = None) -> KeyInfo:
        serial_text = token_text(serial)  # (shown on the Keys page: never raw)
        key_id = key_id_for_spki(spki)
        info = KeyInfo(
            key_id=key_id, label=label, key_type=key_type, usage=usage,
            environment=self.environment, created=self.clock.now(), location=self.location,
            public_key_der=spki, location_ref=f"{self.token_label}|{serial_text}|{cka_id.hex()}",
            flags=("non-exportable",) + (("ka-signs-own-csr",)
                                          if usage is KeyUsage.KEY_AGREEMENT else ()),
        )
        # the row and the caller's record commit together (a kill before the commit leaves a
        # token key without a row, which `adopt_labelled` or the token list shows)
        with recorded(info) if recorded is not None else nullcontext():
            keys_repo.add(self.db, info)
        return info

    # -- lookup ----------------------------------------------------------------------------
    def list_keys(self) -> list[KeyInfo]:
        return keys_repo.for_environment(self.db, self.environment.value, self.location)

    def get(self, key_ref: str) -> KeyInfo:
        return resolve_key_ref(self.db, self.environment, key_ref, self.location)

    @staticmethod
    def cka_id(info: KeyInfo) -> bytes:
        return bytes.fromhex(info.location_ref.rsplit("|", 1)[-1])

    def _find_private(self, sess: Any, info: KeyInfo) -> Any:
        pk = _pkcs11()
        A = pk.Attribute
        cka_id = self.cka_id(info)
        pubs = list(sess.get_objects({A.CLASS: pk.ObjectClass.PUBLIC_KEY, A.ID: cka_id}))
        if not any(key_id_for_spki(spki_from_ec_point(p[A.EC_POINT])) == info.key_id
                   for p in pubs):
            raise NotFound(f"Key {info.short_id} ({info.label}) is not on token "
                           f"{self.token_label!r} (CKA_ID {cka_id.hex()} with its public key).")
        privs = list(sess.get_objects({A.CLASS: pk.ObjectClass.PRIVATE_KEY, A.ID: cka_id}))
        if len(privs) != 1:
            raise NotFound(f"Token {self.token_label!r} holds {len(privs)} private keys with "
                           f"CKA_ID {cka_id.hex()}; expected one.")
        return privs[0]

    @contextmanager
    def signer(self, key_id: str) -> Iterator[Pkcs11Signer]:
        info = self.get(key_id)
        refuse_archived_key(info)
        with self.session() as sess:
            yield Pkcs11Signer(info, self._find_private(sess, info))
        keys_repo.touch(self.db, info.key_id, self.clock.now().isoformat())

    def delete(self, key_id: str) -> None:
        pk = _pkcs11()
        info = self.get(key_id)
        with self.session() as sess:
            for obj in sess.get_objects({pk.Attribute.ID: self.cka_id(info)}):
                obj.destroy()
        keys_repo.delete(self.db, info.key_id)
