"""The delivery manifest: a small JSON document beside a signed file that binds it to its
environment, profile, Service Management Service Request reference and signer. The manifest is
itself signed (detached CMS) so none of these bindings can be edited afterwards.

Format `smki-desktop/file-manifest`, version 1 (documented in docs/adt-formats.md). Serialised
as canonical JSON (sorted keys, UTF-8, two-space indent, one trailing LF) so the same content
always gives the same bytes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError

FORMAT = "smki-desktop/file-manifest"
FORMAT_VERSION = 1
FILE_KINDS = ("adt-file", "quarantine-action", "sro-confirmation")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_SMSR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _./:-]{0,63}$")


def check_smsr(ref: str | None) -> str:
    """A Service Management Service Request reference as quoted from the Self Service
    Interface: 1-64 letters, digits, space and . _ / : - ."""
    if ref is None or ref == "":
        return ""
    if not _SMSR.match(ref):
        raise InputError(f"Service Request reference: {ref!r} is not one (1-64 letters, "
                         "digits, spaces and . _ / : -).", hint="field.smsr")
    return ref


@dataclass(frozen=True)
class Manifest:
    kind: str
    environment: Environment
    file_name: str
    file_size: int
    file_sha256: str
    signature_name: str
    signature_sha256: str
    signed_at: datetime
    signer_key_id: str
    signer_certificate_sha256: str
    signer_subject: str
    signer_issuer: str
    signer_serial: str
    profile: str = ""  # profile id/version the file was validated against
    smsr_reference: str = ""
    party_id: str = ""
    officer: str = ""
    software: str = ""
    subject_file_sha256: str = ""  # sro-confirmation: the ADT file it confirms

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "kind": self.kind,
            "environment": self.environment.value,
            "file": {"name": self.file_name, "size": self.file_size, "sha256": self.file_sha256},
            "signature": {"name": self.signature_name, "sha256": self.signature_sha256,
                          "format": "cms-detached-der"},
            "signed_at": self.signed_at.isoformat().replace("+00:00", "Z"),
            "signer": {"key_id": self.signer_key_id,
                       "certificate_sha256": self.signer_certificate_sha256,
                       "subject": self.signer_subject, "issuer": self.signer_issuer,
                       "serial": self.signer_serial},
            "profile": self.profile,
            "smsr_reference": self.smsr_reference,
            "party_id": self.party_id,
            "officer": self.officer,
            "software": self.software,
            "subject_file_sha256": self.subject_file_sha256,
        }

    def to_bytes(self) -> bytes:
        return (json.dumps(self.to_dict(), sort_keys=True, indent=2, ensure_ascii=False)
                + "\n").encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "manifest") -> Manifest:
        try:
            d = json.loads(data.decode("utf-8"))
        except RecursionError:
            raise InputError(f"{source}: nested too deeply to be a manifest.") from None
        except (UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"{source}: not a JSON manifest ({exc}).") from None
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise InputError(f"{source}: not an SMKI Desktop file manifest (format {FORMAT}).")
        if d.get("format_version") != FORMAT_VERSION:
            raise InputError(f"{source}: manifest version {d.get('format_version')!r} is not "
                             f"supported (this version reads {FORMAT_VERSION}).")
        try:
            f, s, sg = d["file"], d["signature"], d["signer"]
            size = f["size"]
            if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                raise InputError(f"{source}: field file.size is {str(size)[:40]!r}, not a "
                                 "whole number of bytes.")
            m = cls(
                kind=str(d["kind"]), environment=Environment.parse(str(d["environment"])),
                file_name=str(f["name"]), file_size=size, file_sha256=str(f["sha256"]),
                signature_name=str(s["name"]), signature_sha256=str(s["sha256"]),
                signed_at=datetime.fromisoformat(str(d["signed_at"])),
                signer_key_id=str(sg["key_id"]),
                signer_certificate_sha256=str(sg["certificate_sha256"]),
                signer_subject=str(sg["subject"]), signer_issuer=str(sg["issuer"]),
                signer_serial=str(sg["serial"]), profile=str(d.get("profile", "")),
                smsr_reference=str(d.get("smsr_reference", "")),
                party_id=str(d.get("party_id", "")), officer=str(d.get("officer", "")),
                software=str(d.get("software", "")),
                subject_file_sha256=str(d.get("subject_file_sha256", "")),
            )
        except RecursionError:
            raise InputError(f"{source}: a field is nested too deeply.") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{source}: field {str(exc)[:80]} is missing or malformed.") \
                from None
        if m.kind not in FILE_KINDS:
            raise InputError(f"{source}: kind {m.kind!r} is not one of {', '.join(FILE_KINDS)}.")
        for name, value in (("file.sha256", m.file_sha256),
                            ("signature.sha256", m.signature_sha256)):
            if not _HEX64.match(value):
                raise InputError(f"{source}: {name} is not a SHA-256 hex digest.")
        return m
