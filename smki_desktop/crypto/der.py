"""Reading and writing the encodings SMKI files come in: PEM (any armour), DER, bare Base64
(one line or wrapped, LF or CRLF); and telling a PKCS#10 CSR from an X.509 certificate."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Literal

from asn1crypto import parser

from smki_desktop.core.errors import InputError

Kind = Literal["csr", "certificate"]
OUTPUT_FORMATS = ("pem", "base64", "base64-64", "base64-76", "der")

_ARMOUR = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL
)
_B64_CHARS = re.compile(rb"^[A-Za-z0-9+/=\s]+$")
MAX_INPUT = 1 << 20  # 1 MiB: a CSR or certificate is a few hundred bytes


def to_der(data: bytes, what: str = "file") -> bytes:
    """The DER of a PEM, DER or bare-Base64 object (the first PEM block if several)."""
    if len(data) > MAX_INPUT:
        raise InputError(f"{what}: {len(data)} bytes is too large for a CSR or certificate.")
    if data[:1] == b"\x30":
        return data  # DER is binary: never strip (its last bytes may look like whitespace)
    stripped = data.lstrip(b"\xef\xbb\xbf").strip()
    if not stripped:
        raise InputError(f"{what}: empty.")
    m = _ARMOUR.search(stripped)
    if m:
        body = m.group(2)
        # drop RFC 1421 headers if any (lines with ':')
        lines = [ln for ln in body.splitlines() if b":" not in ln]
        return _b64(b"".join(lines), what)
    if stripped.startswith(b"-----BEGIN"):
        raise InputError(f"{what}: PEM armour is not closed by a matching END line.")
    if _B64_CHARS.match(stripped):
        try:
            return _b64(stripped, what)
        except InputError as exc:
            raise InputError(
                f"{what}: not PEM, DER or Base64 ({exc.message.split(': ', 1)[-1]})"
            ) from None
    raise InputError(f"{what}: not PEM, DER or Base64.")


def _b64(text: bytes, what: str) -> bytes:
    compact = re.sub(rb"\s+", b"", text)
    try:
        der = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"{what}: Base64 is damaged ({exc}).") from None
    if not der.startswith(b"\x30"):
        raise InputError(f"{what}: the Base64 does not hold a DER SEQUENCE.")
    return der


def detect_kind(der: bytes) -> Kind | None:
    """'csr', 'certificate', or None when the DER is neither (structure only, no checks)."""
    try:
        cls, method, tag, _h, contents, _trailer = parser.parse(der, strict=True)
        if (cls, method, tag) != (0, 1, 16):
            return None
        children = _children(contents)
        if len(children) != 3:
            return None
        c0 = children[0]
        if c0[:3] != (0, 1, 16):
            return None
        inner = _children(c0[4])
        if len(inner) == 4 and inner[0][:3] == (0, 0, 2) and inner[1][:3] == (0, 1, 16) \
                and inner[3][:3] == (2, 1, 0):
            return "csr"
        if len(inner) >= 6:
            return "certificate"
    except (ValueError, TypeError):
        return None
    return None


Tlv = tuple[int, int, int, bytes, bytes]  # class, constructed, tag, header, contents


def tlv(data: bytes) -> Tlv:
    """One DER element (strict: no trailing bytes)."""
    cls, method, tag, header, contents, _trailer = parser.parse(data, strict=True)
    return (cls, method, tag, header, contents)


def children(contents: bytes) -> list[Tlv]:
    """The elements inside a constructed element's contents."""
    return _children(contents)


def _children(contents: bytes) -> list[Tlv]:
    out = []
    pos = 0
    while pos < len(contents):
        cls, method, tag, header, body, _trailer = parser.parse(contents[pos:])
        out.append((cls, method, tag, header, body))
        pos += len(header) + len(body)
    return out


def encode(
    der: bytes, fmt: str, *, label: str = "CERTIFICATE REQUEST", crlf: bool = False
) -> bytes:
    """Write DER in one of OUTPUT_FORMATS. Text forms end with a newline."""
    if fmt == "der":
        return der
    b64 = base64.b64encode(der).decode("ascii")
    nl = "\r\n" if crlf else "\n"
    if fmt == "base64":
        lines = [b64]
    elif fmt in ("base64-64", "pem"):
        lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    elif fmt == "base64-76":
        lines = [b64[i:i + 76] for i in range(0, len(b64), 76)]
    else:
        raise InputError(f"Format {fmt!r} is not one of: {', '.join(OUTPUT_FORMATS)}.")
    if fmt == "pem":
        lines = [f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"]
    return (nl.join(lines) + nl).encode("ascii")
