"""Signing an ADT or quarantine Action file: validate it, sign its exact bytes and its manifest
with the ARO's file-signing credential, verify both at once by the independent code path of
`crypto.cms.verify_detached`, then stage, audit and publish the three outputs (the manifest
signature, which completes the set, last). Rows validated by the signing itself are recorded
(receipt and `adt.validate`) with its `adt.sign` record, so a refused signing records nothing.
Existing outputs are replaced only with `overwrite` (the rule both faces follow: the CLI's
`--overwrite`, the GUI's question).

A caller that wrote or reviewed the file's bytes itself (the quarantine Action file built in
memory, the ADT editor's table, `smki adt sign --expect-sha256`) names their SHA-256: the digest
of the bytes this signing read (and validated) must be that one, else nothing is signed and the
refusal is recorded (`adt.sign-refused`). The file's path is opened again here, so whoever can
write its folder could otherwise swap it between the caller's writing and this reading."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

from smki_desktop import __version__
from smki_desktop.core.adt.manifest import Manifest, check_smsr
from smki_desktop.core.adt.validate import ValidationReport
from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.errors import InputError, Refusal, SmkiError
from smki_desktop.core.eui import EuiRange
from smki_desktop.core.party import OfficerProfile, OfficerRole
from smki_desktop.core.ports import Signer
from smki_desktop.crypto.cms import (
    Digest,
    VerifiedSignature,
    hash_file,
    sign_detached,
    verify_detached,
)
from smki_desktop.services import adt_receipts
from smki_desktop.services.adt.anchors import trust_anchors
from smki_desktop.services.adt.common import cert_sha, default_paths, one_reading, signing_now
from smki_desktop.services.adt.edit import validate_file_hashed
from smki_desktop.services.adt.identity import (
    SigningIdentity,
    open_signer,
    signer_matches,
    signing_identity,
)
from smki_desktop.services.adt.outputs import (
    check_outputs,
    clear_parts,
    interrupted_leftovers,
    publish_set,
    refuse_clashing_outputs,
)
from smki_desktop.services.adt.profiles import active_profile, party_ranges
from smki_desktop.services.context import AppContext
from smki_desktop.store.atomic import stage
from smki_desktop.store.repos import adt as adt_repo


@dataclass(frozen=True)
class SignResult:
    file: Path
    signature: Path
    manifest: Path
    manifest_signature: Path
    sha256: str
    size: int
    verified: VerifiedSignature
    manifest_data: Manifest
    audit: AuditEntry
    validation: ValidationReport | None
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.file), "sha256": self.sha256, "size": self.size,
            "signature": str(self.signature), "manifest": str(self.manifest),
            "manifest_signature": str(self.manifest_signature),
            "environment": self.manifest_data.environment.value,
            "signed_at": self.manifest_data.to_dict()["signed_at"],
            "signer": self.manifest_data.to_dict()["signer"],
            "smsr_reference": self.manifest_data.smsr_reference,
            "verified": True, "chain_checked": self.verified.trusted,
            "audit_seq": self.audit.seq, "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class _Signed:
    """What the key produced, before anything is written."""

    sig: bytes
    verified: VerifiedSignature
    manifest: Manifest
    manifest_bytes: bytes
    manifest_sig: bytes


def _aro(ctx: AppContext) -> OfficerProfile:
    """The local profile's claim to be an ARO: it can refuse, never grant (the register
    decides: `signing_identity` resolves the signer to an active ARO's entry)."""
    officer = ctx.officer()
    if officer is None or officer.role is not OfficerRole.ARO:
        who = officer.actor if officer else "No officer profile is set, and the user"
        raise Refusal(f"{who} is not an ARO: only an Authorised Responsible Officer signs ADT "
                      "and Action files. Set the officer profile (role aro) first.")
    return officer


def _identity(ctx: AppContext, key_ref: str, as_ref: str | None
              ) -> tuple[SigningIdentity | None, SmkiError | None]:
    """`signing_identity`, or why it is refused (raised by the caller once the file is found
    valid: the file's findings come first)."""
    try:
        return signing_identity(ctx, key_ref, as_ref=as_ref), None
    except SmkiError as exc:
        return None, exc


def _manifest(ctx: AppContext, path: Path, kind: str, ident: SigningIdentity, sig: bytes,
              sig_name: str, sha: str, now: datetime, smsr_ref: str, officer: str,
              validation: ValidationReport | None) -> Manifest:
    party = ctx.party()
    cert = ident.certificate
    return Manifest(
        kind=kind, environment=ctx.env, file_name=path.name, file_size=path.stat().st_size,
        file_sha256=sha, signature_name=sig_name,
        signature_sha256=hashlib.sha256(sig).hexdigest(), signed_at=now,
        signer_key_id=ident.key.key_id, signer_certificate_sha256=cert_sha(cert),
        signer_subject=cert.subject.rfc4514_string(), signer_issuer=cert.issuer.rfc4514_string(),
        signer_serial=f"{cert.serial_number:X}",
        profile=validation.profile.ref if validation else "",
        smsr_reference=smsr_ref, party_id=party.party_id if party else "",
        officer=officer, software=f"SMKI Desktop {__version__}", subject_file_sha256="",
    )


def _sign_set(ctx: AppContext, path: Path, kind: str, ident: SigningIdentity,
              cm: AbstractContextManager[Signer], sig_name: str, now: datetime, smsr_ref: str,
              officer: str, validation: ValidationReport | None,
              digest: Digest) -> _Signed:
    """Sign the file and its manifest with the key unlocked once; verify both at once."""
    anchors = trust_anchors(ctx)
    extra = list(ident.chain[1:])
    with cm as s:
        signer_matches(s, ident)
        # the exact bytes validated (or covered by the receipt) are the ones signed: their
        # digest from that single pass is signed and verified at once, the file not re-read
        sig = sign_detached(digest, s, ident.certificate, now, extra)
        verified = verify_detached(digest, sig, trust_anchors=anchors, at=now)
        sha = verified.digest.hex()
        manifest = _manifest(ctx, path, kind, ident, sig, sig_name, sha, now, smsr_ref,
                             officer, validation)
        manifest_bytes = manifest.to_bytes()
        manifest_sig = sign_detached(manifest_bytes, s, ident.certificate, now, extra)
    verify_detached(manifest_bytes, manifest_sig, trust_anchors=anchors, at=now)
    return _Signed(sig, verified, manifest, manifest_bytes, manifest_sig)


class NotTheExpectedBytes(Refusal):
    """The file to be signed is not the bytes the caller wrote or reviewed (their SHA-256
    differs from the one expected): nothing is signed."""


def expected_sha256(value: str | None) -> str | None:
    """An expected SHA-256 as 64 lower-case hex digits (None stays None); else InputError."""
    if value is None:
        return None
    v = value.strip().lower()
    if len(v) != 64 or any(ch not in "0123456789abcdef" for ch in v):
        raise InputError(f"The expected SHA-256 {value!r} is not a SHA-256: it must be 64 "
                         "hexadecimal digits. Nothing was signed.")
    return v


def _refuse_unexpected(ctx: AppContext, path: Path, kind: str, expected: str, found: str
                       ) -> NoReturn:
    """Record and raise the refusal of bytes that are not the expected ones."""
    entry = ctx.audit.record("adt.sign-refused", {
        "path": str(path), "kind": kind, "reason": "not the expected bytes",
        "expected_sha256": expected, "found_sha256": found}, {"file": found})
    raise NotTheExpectedBytes(
        f"{path}: not signed: the file now holds other bytes than the ones written or reviewed "
        f"for signing (expected SHA-256 {expected}, found SHA-256 {found}). It was changed or "
        f"replaced on disk in between; nothing was signed and nothing written (refusal in "
        f"audit record {entry.seq}). Check who can write to its folder, then sign again.")


@one_reading
def sign_file(ctx: AppContext, path: Path, key_ref: str, *, smsr: str | None = None,
              out: Path | None = None, kind: str = "adt-file", overwrite: bool = False,
              signer: AbstractContextManager[Signer] | None = None,
              user_ids: Sequence[str] = (), as_ref: str | None = None,
              expect_sha256: str | None = None) -> SignResult:
    """Validate `path` (ADT or Action file), sign its exact bytes and its manifest, verify both
    at once, write `<file>.p7s`, `<file>.manifest.json` and `<file>.manifest.json.p7s`.
    Outputs that exist are refused before the key is used unless `overwrite`. With
    `expect_sha256`, the bytes read for signing must have that digest, else `NotTheExpectedBytes`
    (recorded, nothing signed or written)."""
    path = Path(path)
    expected = expected_sha256(expect_sha256)
    smsr_ref = check_smsr(smsr)
    officer = _aro(ctx)
    if not path.is_file():
        raise InputError(f"{path}: no such file.")
    # the register decides (Live; Test with a register): an active ARO's entry, linked to the
    # key, named by its credential, not revoked. Resolved first, as it needs not the file's
    # digest that `smki` is still hashing on its helper thread meanwhile; a refusal is told
    # after the file's own findings, as before (an invalid file is named first)
    ident, refused = _identity(ctx, key_ref, as_ref)
    validation: ValidationReport | None = None
    checked: adt_receipts.Checked | None = None
    ranges = party_ranges(ctx)
    if kind in ("adt-file", "quarantine-action"):  # rows validated now, or a receipt used
        # rows validated now are recorded (receipt and `adt.validate`) with the signature, in
        # its transaction: a signing refused or failed after them leaves no record behind
        checked = adt_receipts.checked_file(
            ctx, path, active_profile(ctx, kind), ranges,
            lambda: validate_file_hashed(ctx, path, kind, record=False))
        validation = checked.report
    # the digest signed: of the bytes just read (and validated) in one pass, never read again
    digest = Digest(bytes.fromhex(checked.sha256) if checked else hash_file(str(path)))
    if expected is not None and digest.value.hex() != expected:
        _refuse_unexpected(ctx, path, kind, expected, digest.value.hex())
    if validation is not None:
        validation.raise_if_invalid(str(path))
    if refused is not None:
        raise refused
    assert ident is not None
    who = (f"{ident.officer.name} ({ident.officer.role.label})" if ident.officer is not None
           else officer.actor)
    sig_path, manifest_path, manifest_sig_path = outputs = default_paths(path, out)
    refuse_clashing_outputs(path, outputs)
    # what a killed signing of this target left: its temporary files, and published outputs of
    # a set it did not complete (they are replaced without overwrite)
    clear_parts(outputs)
    leftovers = interrupted_leftovers(ctx, outputs)
    check_outputs(outputs, overwrite=overwrite, leftovers=leftovers)  # before the key is used
    now = signing_now(ctx)  # the manifest's signed_at is the CMS signingTime
    cm = signer if signer is not None else open_signer(ctx, ident.key)
    done = _sign_set(ctx, path, kind, ident, cm, sig_path.name, now, smsr_ref, who,
                     validation, digest)
    # All-or-nothing as the user sees it: every output is staged in a hidden temporary file,
    # the audit record (with every hash) and the database row are written, and only then are
    # the outputs published, the manifest signature (the one completing the set, which
    # `verify_file` requires) last. A kill before that leaves no set; between the renames, a
    # set without its manifest signature, which verify refuses and the next signing replaces.
    staged: list[tuple[Path, Path]] = []
    try:
        for p, data in ((sig_path, done.sig), (manifest_path, done.manifest_bytes),
                        (manifest_sig_path, done.manifest_sig)):
            staged.append((p, stage(p, data)))
        entry = _record_signing(ctx, path, kind, ident, done, user_ids, sig_path,
                                manifest_path, checked, ranges)
        publish_set(staged, overwrite, leftovers)
    finally:
        for _p, tmp in staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
    m = done.manifest
    return SignResult(path, sig_path, manifest_path, manifest_sig_path, m.file_sha256,
                      m.file_size, done.verified, m, entry, validation, ident.warnings)


def _record_signing(ctx: AppContext, path: Path, kind: str, ident: SigningIdentity,
                    done: _Signed, user_ids: Sequence[str], sig_path: Path,
                    manifest_path: Path, checked: adt_receipts.Checked | None = None,
                    ranges: Sequence[EuiRange] | None = None) -> AuditEntry:
    """The `adt.sign` (or `quarantine.sign`) audit record, with every output's hash, and the
    signed-files row; written before the outputs are published. Rows validated by this
    signing are recorded first, in the same transaction (receipt and `adt.validate`)."""
    m = done.manifest
    with ctx.audit.change():  # the records and the rows: one transaction
        if checked is not None and checked.receipt is None:
            adt_receipts.record(ctx, checked.report, checked.sha256, m.file_size, ranges)
        entry = ctx.audit.record(
            "adt.sign" if kind == "adt-file" else "quarantine.sign",
            {"path": str(path), "kind": kind, "key_id": ident.key.key_id, "size": m.file_size,
             "officer": ident.officer.officer_id if ident.officer is not None else "",
             "smsr_reference": m.smsr_reference, "profile": m.profile,
             "signer_serial": m.signer_serial, "signer_issuer": m.signer_issuer,
             "chain_checked": done.verified.trusted, "user_ids": list(user_ids),
             **({"validation": checked.how,
                 "validation_receipt": checked.receipt.id if checked.receipt else None}
                if checked else {})},
            {"file": m.file_sha256, "signature": done.sig, "manifest": done.manifest_bytes,
             "manifest_signature": done.manifest_sig},
        )
        adt_repo.add_signed_file(ctx.db, adt_repo.SignedFileRow(
            environment=ctx.env.value, kind=kind, name=path.name, path=str(path.resolve()),
            sha256=m.file_sha256, size=m.file_size, profile=m.profile,
            smsr_reference=m.smsr_reference, key_id=ident.key.key_id,
            signer_subject=m.signer_subject, signer_issuer=m.signer_issuer,
            signer_serial=m.signer_serial, signed_at=m.signed_at.isoformat(),
            signature_path=str(sig_path.resolve()), signature_sha256=m.signature_sha256,
            manifest_path=str(manifest_path.resolve()),
            manifest_sha256=hashlib.sha256(done.manifest_bytes).hexdigest(), audit_seq=entry.seq))
    return entry
