"""The delivery package: the file, its signature, manifest and manifest signature verified
again and written as one zip for the DCC's secure upload (audited), then sent where an
endpoint takes it (the simulator in Test)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.errors import SmkiError
from smki_desktop.crypto.cms import hash_file
from smki_desktop.services.adt.common import default_paths
from smki_desktop.services.adt.verify import verify_file
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


def _package_bytes(members: list[tuple[str, Path]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, p in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(p, "rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
    return buf.getvalue()


def default_package(path: Path) -> Path:
    """Where the delivery package of `path` is written unless named."""
    return Path(path).with_name(Path(path).name + ".delivery.zip")


def deliver(ctx: AppContext, path: Path, *, out: Path | None = None, send: bool = False,
            overwrite: bool = False, signature: Path | None = None) -> DeliveryResult:
    """Verify the file, its signature and manifest again, then write one zip package (file,
    signature, manifest, manifest signature) for the DCC's secure upload and audit it."""
    path = Path(path)
    result = verify_file(ctx, path, signature, require_manifest=True)
    sig_path, manifest_path, manifest_sig_path = default_paths(path, signature)
    members = [(path.name, path), (sig_path.name, sig_path), (manifest_path.name, manifest_path),
               (manifest_sig_path.name, manifest_sig_path)]
    digests = {name: hash_file(str(p)).hex() for name, p in members}
    package = check_output(Path(out) if out else default_package(path), overwrite=overwrite)
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
