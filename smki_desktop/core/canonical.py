"""The one canonical serialisation of every signed object (register changes, revocation
requests, approvals, rejections, incident records): JSON, keys sorted, no insignificant
whitespace, UTF-8, no floats. Documented in docs/identity.md; the app and the simulator both
sign and verify these exact bytes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from smki_desktop.core.errors import InputError

MAX_INT = 2**53
"""Integers beyond this are read differently by other JSON readers (as doubles): refused."""


def _check(value: Any, where: str) -> None:
    if isinstance(value, float):
        raise InputError(f"{where}: a signed object holds no floating-point numbers.")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        raise InputError(f"{where}: a signed object's integers are at most 2^53 in size.")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(f"{where}: a signed object's text is valid Unicode (no lone "
                             "surrogates).") from None
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                raise InputError(f"{where}: object keys are strings.")
            _check(k, f"{where} (a key)")
            _check(v, f"{where}.{k}")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _check(v, f"{where}[{i}]")
    elif not (value is None or isinstance(value, str | int | bool)):
        raise InputError(f"{where}: {type(value).__name__} is not a JSON value.")


def canonical_bytes(obj: Mapping[str, Any]) -> bytes:
    """`obj` as canonical JSON bytes (sorted keys, separators ',' ':', UTF-8)."""
    _check(obj, "object")
    return json.dumps(obj, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def parse_canonical(data: bytes, what: str) -> dict[str, Any]:
    """Parse bytes that must already be canonical: anything else is refused, so that a
    re-serialised (and so differently signed) copy is never taken for the signed one."""
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{what}: not canonical JSON ({exc}).") from None
    if not isinstance(obj, dict):
        raise InputError(f"{what}: a signed object is a JSON object.")
    if canonical_bytes(obj) != data:
        raise InputError(f"{what}: the bytes are not in canonical form (see docs/identity.md).")
    return obj


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
