"""The delivery package: the file, its signature, manifest and manifest signature verified
again and written as one zip for the DCC's secure upload (audited), then sent where an
endpoint takes it (the simulator in Test).

Each member is read once, into memory (bounded: `MAX_PACKAGE_FILE` for the file, `MAX_MEMBER`
for the others), and those bytes are what is verified, hashed for the audit record and zipped:
a file swapped on disk after verification cannot get into the package or the record. They are
verified through a private copy (a folder only this user can open, removed after), and the
verified file digest and the manifest's binding are checked against the bytes in memory."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smki_desktop.core.adt.manifest import Manifest
from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.errors import InputError, SmkiError
from smki_desktop.crypto.cms import SignatureInvalid
from smki_desktop.services.adt.common import MAX_VALIDATE_BYTES, default_paths
from smki_desktop.services.adt.verify import VerifyResult, verify_file
from smki_desktop.services.adt_upload import upload_adt_package
from smki_desktop.services.context import AppContext
from smki_desktop.store.atomic import check_output, publish, stage
from smki_desktop.store.repos import adt as adt_repo


@dataclass(frozen=True)
class DeliveryResult:
    package: Path
    sha256: str
    members: dict[str, str]  # name -> sha256
    sent_to: str
    remote_ref: str
    audit: AuditEntry

    def as_dict(self) -> dict[str, Any]:
        return {"package": str(self.package), "sha256": self.sha256, "members": self.members,
                "sent_to": self.sent_to, "remote_ref": self.remote_ref,
                "audit_seq": self.audit.seq}


# the file is at most what can be validated and signed; the signature, manifest and manifest
# signature are a few KiB (a signature with its chain: far below this)
MAX_PACKAGE_FILE = MAX_VALIDATE_BYTES
MAX_MEMBER = 16 << 20


def _read_member(p: Path, limit: int) -> bytes:
    """`p`'s bytes, read once from one open file, refused above `limit`."""
    try:
        with open(p, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(f"{p}: cannot be read ({exc.strerror or exc}).") from None
    if len(data) > limit:
        raise InputError(f"{p}: larger than {limit:,} bytes; a delivery package holds files "
                         "up to that size only. Nothing was written.")
    return data


def _verify_bytes(ctx: AppContext, members: list[tuple[str, bytes]]) -> VerifyResult:
    """Verify the members' bytes in memory (file, signature, manifest, manifest signature)
    through a private copy, and check the result covers exactly those bytes."""
    (name, data), (sig_name, sig), (m_name, manifest), _ = members
    if len({n for n, _d in members}) != len(members):
        raise InputError(f"{name}: the signature is named like another member of the package "
                         f"({sig_name}); rename it.")
    folder = Path(tempfile.mkdtemp(prefix=".smki-deliver-"))  # mode 0700: this user's only
    try:
        for n, d in members:
            fd = os.open(folder / n, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(d)
        result = verify_file(ctx, folder / name, folder / sig_name, require_manifest=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    # what was verified is what is in memory (the copy cannot have changed under it)
    if (result.sha256 != hashlib.sha256(data).hexdigest() or result.manifest is None
            or result.manifest != Manifest.from_bytes(manifest, m_name)
            or result.manifest.signature_sha256 != hashlib.sha256(sig).hexdigest()):
        raise SignatureInvalid(f"{name}: the files changed while they were verified; deliver "
                               "again. Nothing was written.")
    return result


def _package_bytes(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as dst:
                dst.write(data)
    return buf.getvalue()


def default_package(path: Path) -> Path:
    """Where the delivery package of `path` is written unless named."""
    return Path(path).with_name(Path(path).name + ".delivery.zip")


def deliver(ctx: AppContext, path: Path, *, out: Path | None = None, send: bool = False,
            overwrite: bool = False, signature: Path | None = None) -> DeliveryResult:
    """Verify the file, its signature and manifest again, then write one zip package (file,
    signature, manifest, manifest signature) for the DCC's secure upload and audit it."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file.")
    sig_path, manifest_path, manifest_sig_path = default_paths(path, signature)
    if not all(p.is_file() for p in (sig_path, manifest_path, manifest_sig_path)):
        verify_file(ctx, path, signature, require_manifest=True)  # says what is missing
    # each member read once: these bytes are verified, hashed for the record and zipped
    members = [(p.name, _read_member(p, limit)) for p, limit in (
        (path, MAX_PACKAGE_FILE), (sig_path, MAX_MEMBER), (manifest_path, MAX_MEMBER),
        (manifest_sig_path, MAX_MEMBER))]
    result = _verify_bytes(ctx, members)
    package = check_output(Path(out) if out else default_package(path), overwrite=overwrite)
    digests = {name: hashlib.sha256(d).hexdigest() for name, d in members}
    data = _package_bytes(members)
    pkg_sha = hashlib.sha256(data).hexdigest()
    assert result.manifest is not None
    # As team export does: the package is staged, its record and row commit, and only then is
    # it put in place. A kill before the commit leaves neither (only a hidden .part file); a
    # kill after it, a record of a package whose file is missing, never a package unrecorded.
    staged = stage(package, data)
    try:
        with ctx.audit.change():
            entry = ctx.audit.record(
                "adt.deliver",
                {"file": path.name, "package": str(package), "kind": result.manifest.kind,
                 "smsr_reference": result.manifest.smsr_reference},
                {"package": pkg_sha, **{f"member:{n}": d for n, d in digests.items()}})
            delivery_id = adt_repo.add_delivery(ctx.db, adt_repo.DeliveryRow(
                environment=ctx.env.value, file_sha256=result.sha256,
                package_path=str(package.resolve()), package_sha256=pkg_sha,
                created=ctx.clock.now().isoformat(), audit_seq=entry.seq))
        publish(staged, package, overwrite=overwrite)
    finally:
        with contextlib.suppress(OSError):
            staged.unlink()
    sent_to, remote_ref = "", ""
    if send:
        # the package is written and recorded first: a failed send leaves it for the upload;
        # the send (a network call) is outside any transaction, its record and row in one
        sent_to, remote_ref = _send(ctx, package, data)
        with ctx.audit.change():
            entry = ctx.audit.record("adt.send", {"file": path.name, "package": str(package),
                                                  "sent_to": sent_to, "remote_ref": remote_ref},
                                     {"package": pkg_sha})
            adt_repo.set_delivery_sent(ctx.db, delivery_id, sent_to, remote_ref)
    return DeliveryResult(package, pkg_sha, digests, sent_to, remote_ref, entry)


def _send(ctx: AppContext, package: Path, data: bytes) -> tuple[str, str]:
    """Hand the package to the portal layer's ADT upload; a refusal says where it was left."""
    try:
        sent = upload_adt_package(ctx, package.name, data)
    except SmkiError as exc:
        exc.message = f"{exc.message} The package was written to {package}."
        exc.args = (exc.message,)
        raise
    return str(sent[0]), str(sent[1])
