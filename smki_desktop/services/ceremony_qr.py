"""A CSR as a QR code (segno), for moving it where no removable media may be used."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import segno

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError
from smki_desktop.crypto.der import encode, to_der
from smki_desktop.crypto.fields import extract_fields
from smki_desktop.crypto.lint import lint_bytes
from smki_desktop.services.file_lint import lint_profile
from smki_desktop.store.atomic import write_atomic
from smki_desktop.store.bounded_read import read_regular

MAX_QR_CSR = 2000  # bytes of a CSR file one QR code carries
_MAX_READ = 64 * 1024  # a CSR file is a few KiB at most: anything larger is not read whole


def csr_qr(path: Path, env: Environment, root: Path) -> Any:
    """A QR code (segno) of one CSR file's PEM text, for moving it where no media may be
    used; the file is read only if it is a regular file (a FIFO would block, a device never
    end) and is linted with `env`'s profile (under data folder `root`) first: a QR code of a
    bad CSR helps no one."""
    data = read_regular(path, _MAX_READ, "a CSR file")
    if len(data) > MAX_QR_CSR:
        raise InputError(f"{path}: more than {MAX_QR_CSR} bytes is too long for one QR code.")
    fields = extract_fields(data, str(path))
    if fields.family != "organisation" or fields.kind != "csr":
        raise InputError(f"{path}: not an Organisation CSR.")
    report = lint_bytes(data, lint_profile(env, root), str(path))
    if not report.ok:
        raise InputError(f"{path}: the CSR fails lint against the {env.label} profile, so it is "
                         "not shown as a QR code: "
                         + "; ".join(str(f) for f in report.findings) + ".")
    text = encode(to_der(data, str(path)), "pem").decode("ascii")  # any form, as PEM
    return segno.make(text, error="l", micro=False)


def csr_qr_png(path: Path, env: Environment, root: Path, scale: int = 4) -> bytes:
    buf = io.BytesIO()
    csr_qr(path, env, root).save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()


def write_csr_qr_png(path: Path, env: Environment, root: Path, out: Path) -> Path:
    """The QR code PNG of a CSR, written atomically (never over an existing file)."""
    return write_atomic(out, csr_qr_png(path, env, root))
