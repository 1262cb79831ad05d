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
    """The DER of a PEM, DER or bare-Base64 object. A file holding several objects (PEM blocks
    or DER objects one after another) is refused, naming how many: reading only the first would
    silently ignore the rest (a certificate chain, say). `to_ders` reads them all."""
    found = to_ders(data, what)
    if len(found) > 1:
        raise InputError(f"{what}: holds {_several(data, len(found))}, where one object is "
                         "expected; give one per file.")
    return found[0]


def to_ders(data: bytes, what: str = "file") -> list[bytes]:
    """The DER of every object in a PEM, DER or bare-Base64 file, in the file's order: each PEM
    block, or each of several DER objects written one after another (one object gives a list
    of one)."""
    if len(data) > MAX_INPUT:
        raise InputError(f"{what}: {len(data)} bytes is too large for a CSR or certificate.")
    if data[:1] == b"\x30":
        # DER is binary: never strip (its last bytes may look like whitespace)
        return _der_objects(data)
    stripped = data.lstrip(b"\xef\xbb\xbf").strip()
    if not stripped:
        raise InputError(f"{what}: empty.")
    blocks = list(_ARMOUR.finditer(stripped))
    if blocks:
        # drop RFC 1421 headers if any (lines with ':')
        return [_b64(b"".join(ln for ln in m.group(2).splitlines() if b":" not in ln), what)
                for m in blocks]
    if stripped.startswith(b"-----BEGIN"):
        raise InputError(f"{what}: PEM armour is not closed by a matching END line.")
    if _B64_CHARS.match(stripped):
        try:
            return [_b64(stripped, what)]
        except InputError as exc:
            raise InputError(
                f"{what}: not PEM, DER or Base64 ({exc.message.split(': ', 1)[-1]})"
            ) from None
    raise InputError(f"{what}: not PEM, DER or Base64.")


def _der_objects(data: bytes) -> list[bytes]:
    """Binary DER: several complete SEQUENCEs one after another are split; anything else (one
    object, or one with trailing bytes that are not another whole SEQUENCE) is returned as it
    is, for the reader's own strict parse to judge."""
    out = []
    pos = 0
    while pos < len(data):
        if data[pos:pos + 1] != b"\x30":
            return [data]
        try:
            _cls, _method, _tag, header, body, _trailer = parser.parse(data[pos:])
        except (ValueError, TypeError):
            return [data]
        out.append(data[pos:pos + len(header) + len(body)])
        pos += len(header) + len(body)
    return out if len(out) > 1 else [data]


def _several(data: bytes, n: int) -> str:
    return f"{n} DER objects one after another" if data[:1] == b"\x30" else f"{n} PEM blocks"


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
