"""Reading a key backup file or a share file for a restore (services/key_backup.py): each read
once, bounded and checked to be a regular file on the opened descriptor, and every field in
clear checked before it is used (the file may come from anyone)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from smki_desktop.core.errors import InputError
from smki_desktop.core.keys import KeyUsage
from smki_desktop.core.plain_text import bad_char_words
from smki_desktop.store.bounded_read import read_regular

KEY_FORMAT = "smki-key-backup/1"
SHARE_FORMAT = "smki-key-share/1"
MAX_FILE = 1024 * 1024  # a key backup or share file is a few KiB
# scrypt costs a restore accepts: the file's own parameters run BEFORE its authenticity can be
# checked, so a hostile file could otherwise ask for gigabytes of memory
SCRYPT_LIMITS = {"n": (2 ** 14, 2 ** 20), "r": (1, 16), "p": (1, 4)}


def _unb64(s: Any, what: str) -> bytes:
    try:
        return base64.b64decode(str(s), validate=True)
    except ValueError:
        raise InputError(f"{what}: not base64.") from None


def _read_small(path: Path, what: str) -> bytes:
    # opened without blocking and checked to be a regular file before any read: a FIFO (a
    # named pipe) given as a backup would block the restore forever, a device never end
    return read_regular(path, MAX_FILE, what)


def read_key_file(path: Path) -> dict[str, Any]:
    return read_key_bytes(path)[0]


def read_key_bytes(path: Path) -> tuple[dict[str, Any], bytes]:
    """A key backup file read ONCE (bounded, a regular file checked on the opened descriptor):
    its checked fields and the very bytes they came from. A restore hashes these bytes for its
    record: read again after the passphrase was asked, the path could name another file by
    then (swapped, or a FIFO that blocks for ever)."""
    data = _read_small(path, "a key backup file")
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{path}: not a key backup file ({exc}).") from None
    if not isinstance(doc, dict) or doc.get("format") != KEY_FORMAT:
        raise InputError(f"{path}: not a key backup file (format {KEY_FORMAT} expected).")
    for k in ("environment", "key_id", "label", "usage", "public_key_pem", "certificates",
              "protection", "nonce", "ciphertext"):
        if k not in doc:
            raise InputError(f"{path}: field {k} is missing.")
    prot = doc["protection"]
    if not isinstance(prot, dict) or prot.get("kind") not in ("passphrase", "shares"):
        raise InputError(f"{path}: field protection is not a passphrase or shares protection.")
    ints = ("n", "r", "p") if prot["kind"] == "passphrase" else ("threshold", "shares",
                                                                 "share_set")
    for k in ints:
        v = prot.get(k)
        if not isinstance(v, int) or isinstance(v, bool):
            raise InputError(f"{path}: field protection.{k} is missing or not a whole number.")
    if prot["kind"] == "passphrase":
        for k, (lo, hi) in SCRYPT_LIMITS.items():
            if not lo <= prot[k] <= hi or (k == "n" and prot[k] & (prot[k] - 1)):
                raise InputError(f"{path}: field protection.{k} = {prot[k]} is outside "
                                 f"{lo}..{hi}; this application never writes such a backup.")
        if not isinstance(prot.get("salt"), str):
            raise InputError(f"{path}: field protection.salt is missing.")
    elif not 1 <= prot["threshold"] <= prot["shares"] <= 16:
        raise InputError(f"{path}: field protection.threshold/shares is not M-of-N.")
    _check_clear_fields(doc, path)
    # the label becomes the restored key's, shown in tables, terminals and audit records: held
    # to the rule a label typed here meets (the file may come from someone else)
    if not isinstance(doc["label"], str):
        raise InputError(f"{path}: field label is not a text.")
    bad = bad_char_words(doc["label"])
    if bad:
        raise InputError(f"{path}: the key's label {doc['label'][:40]!r} holds {bad}; a "
                         "label is one line of plain text only, and this application never "
                         "writes such a backup. Nothing was restored.")
    return doc, data


_KEY_ID = re.compile(r"^[0-9a-f]{64}$")


def _field_b64(value: Any, name: str, path: Path, size: tuple[int, int]) -> bytes:
    raw = _unb64(value, f"{path}: field {name}") if isinstance(value, str) else None
    if raw is None or not size[0] <= len(raw) <= size[1]:
        raise InputError(f"{path}: field {name} is not base64 of {size[0]}"
                         + (f"..{size[1]}" if size[1] != size[0] else "")
                         + " bytes; this application never writes such a backup.")
    return raw


def _is_pem_certificate(value: Any) -> bool:
    try:
        return isinstance(value, str) and \
            x509.load_pem_x509_certificate(value.encode()) is not None
    except ValueError:
        return False


def _check_clear_fields(doc: dict[str, Any], path: Path) -> None:
    """Every field in clear, checked before it is used (read before the file can be
    authenticated, or sealed by whoever made it): an InputError naming the field."""
    for name in ("environment", "key_id", "usage", "public_key_pem"):
        if not isinstance(doc[name], str):
            raise InputError(f"{path}: field {name} is not a text.")
    if not _KEY_ID.match(doc["key_id"]):
        raise InputError(f"{path}: field key_id is not a key id (64 hexadecimal digits).")
    if doc["usage"] not in {u.value for u in KeyUsage}:
        raise InputError(f"{path}: field usage {doc['usage'][:40]!r} is not a key usage.")
    try:
        serialization.load_pem_public_key(doc["public_key_pem"].encode())
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InputError(f"{path}: field public_key_pem is not a PEM public key.") from None
    if not isinstance(doc["certificates"], list):
        raise InputError(f"{path}: field certificates is not a list.")
    for i, c in enumerate(doc["certificates"]):
        if not _is_pem_certificate(c):
            raise InputError(f"{path}: field certificates[{i}] is not a PEM certificate.")
    prot = doc["protection"]
    if prot["kind"] == "passphrase":
        _field_b64(prot.get("salt"), "protection.salt", path, (16, 64))
    _field_b64(doc["nonce"], "nonce", path, (12, 12))  # AES-GCM's 96-bit nonce, as written
    _field_b64(doc["ciphertext"], "ciphertext", path, (17, MAX_FILE))  # GCM tag (16) + key


def read_share_file(path: Path) -> dict[str, str]:
    try:
        text = _read_small(path, "a share file").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: cannot be read as a share file ({exc}).") from None
    fields: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise InputError(f"{path}, line {n}: expected 'name: value'.")
        if key.strip() in fields:
            raise InputError(f"{path}, line {n}: {key.strip()} is given twice.")
        fields[key.strip()] = value.strip()
    if fields.get("format") != SHARE_FORMAT:
        raise InputError(f"{path}: not a key share file (format {SHARE_FORMAT} expected).")
    for k in ("environment", "key_id", "mnemonic"):
        if not fields.get(k):
            raise InputError(f"{path}: field {k} is missing.")
    return fields
