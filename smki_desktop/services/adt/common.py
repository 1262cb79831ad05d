"""What the ADT actions share: output names beside a file, size-capped reading, the signing
time, certificate helpers, the `Written` result and `one_reading`."""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Concatenate, ParamSpec, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError
from smki_desktop.services.context import AppContext

SIG_SUFFIX = ".p7s"
MANIFEST_SUFFIX = ".manifest.json"
MAX_VALIDATE_BYTES = 512 * 1024 * 1024

P = ParamSpec("P")
R = TypeVar("R")


def one_reading(fn: Callable[Concatenate[AppContext, P], R]
                ) -> Callable[Concatenate[AppContext, P], R]:
    """Run the action with its audit proofs checked against one reading of the keyring's
    anchor (`AuditLog.one_reading`): every check it makes stays, each against the keyring."""
    @functools.wraps(fn)
    def action(ctx: AppContext, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with ctx.audit.one_reading():
            return fn(ctx, *args, **kwargs)
    return action


@dataclass(frozen=True)
class Written:
    path: Path
    sha256: str
    audit: AuditEntry


def read_limited(path: Path, limit: int = MAX_VALIDATE_BYTES) -> bytes:
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > limit:
            raise InputError(f"{path}: {size} bytes; files above {limit} bytes are not read.")
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc}).") from None


def open_limited(path: Path, limit: int = MAX_VALIDATE_BYTES) -> BinaryIO:
    """The file opened for reading, after the same size check as `read_limited`."""
    path = Path(path)
    try:
        fh = open(path, "rb")  # noqa: SIM115 - handed to the caller
        size = os.fstat(fh.fileno()).st_size
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    if size > limit:
        fh.close()
        raise InputError(f"{path}: {size} bytes; files above {limit} bytes are not read.")
    return fh


def default_paths(path: Path, sig: Path | None = None) -> tuple[Path, Path, Path]:
    """The signature, the manifest and the manifest's signature of `path`."""
    path = Path(path)
    sig = Path(sig) if sig else path.with_name(path.name + SIG_SUFFIX)
    manifest = path.with_name(path.name + MANIFEST_SUFFIX)
    return sig, manifest, manifest.with_name(manifest.name + SIG_SUFFIX)


def signing_now(ctx: AppContext) -> datetime:
    """The signing time, in whole seconds: the CMS signingTime (UTCTime) has no fraction, and
    the manifest's `signed_at` and a confirmation's `confirmed_at` equal it exactly."""
    return ctx.clock.now().replace(microsecond=0)


def other_env(env: Environment) -> Environment:
    return Environment.LIVE if env is Environment.TEST else Environment.TEST


def load_certs(blob: bytes) -> list[x509.Certificate]:
    blob = bytes(blob)
    if b"-----BEGIN" in blob:
        return list(x509.load_pem_x509_certificates(blob))
    return [x509.load_der_x509_certificate(blob)]


def cert_der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def cert_sha(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert_der(cert)).hexdigest()


def is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return cert.subject == cert.issuer


def sha_of(p: Path) -> str:
    """The SHA-256 (hex) of a file, read in chunks."""
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
