"""A CSR as a QR code (segno), for moving it where no removable media may be used."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import segno

from smki_desktop.core.errors import InputError
from smki_desktop.crypto.der import encode, to_der
from smki_desktop.crypto.fields import extract_fields
from smki_desktop.store.atomic import write_atomic


def csr_qr(path: Path) -> Any:
    """A QR code (segno) of one CSR file's PEM text, for moving it where no media may be
    used; the file is linted first (a QR code of a bad CSR helps no one)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(2001)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    if len(data) > 2000:
        raise InputError(f"{path}: more than 2000 bytes is too long for one QR code.")
    fields = extract_fields(data, str(path))
    if fields.family != "organisation" or fields.kind != "csr":
        raise InputError(f"{path}: not an Organisation CSR.")
    text = encode(to_der(data, str(path)), "pem").decode("ascii")  # any form, as PEM
    return segno.make(text, error="l", micro=False)


def csr_qr_png(path: Path, scale: int = 4) -> bytes:
    buf = io.BytesIO()
    csr_qr(path).save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()


def write_csr_qr_png(path: Path, out: Path) -> Path:
    """The QR code PNG of a CSR, written atomically (never over an existing file)."""
    return write_atomic(out, csr_qr_png(path))
