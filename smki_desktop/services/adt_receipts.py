"""Validated-digest receipts for ADT (and Action) files: sign bytes validated before.

When a file is found valid (`smki adt validate`, the GUI's validation, signing itself), a
receipt records its SHA-256 and size with everything the verdict depends on: the environment,
the profile's kind, id and version and the digest of its rules (a profile corrected under the
same version number is not the one validated against), the Party's EUI-64 ranges (the User ID
column is checked against them) and the validator's release. Signing hashes the file in one
streamed pass (CMS needs the digest anyway) and, when a receipt for exactly that key exists,
does not validate the rows again; otherwise it validates as before, which records a receipt.
A changed byte is a different digest: the file is validated afresh and refused if it is
invalid.

The receipt table is only an index: whoever can write the store but not use this workstation's
OS keyring (the threat of services/audit.py) could insert a row for any bytes. Each receipt is
written with an `adt.validate` audit record naming its key's digest, the file's SHA-256 and the
counts, in one transaction, and is used only while that one record (its seq is in the row) is
proven by the log (`AuditLog.vouched_at`: its hash and writer signature, no cut after it) and
names exactly this key; otherwise the file is validated again. That is one row read and one
signature checked, not the log replayed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from smki_desktop import __version__
from smki_desktop.core.adt.profile import Profile
from smki_desktop.core.adt.validate import ValidationReport
from smki_desktop.core.eui import EuiRange
from smki_desktop.services.context import AppContext
from smki_desktop.services.digest_prefetch import file_digest
from smki_desktop.store.repos.adt_receipts import AdtReceipt, AdtReceiptsRepo, ReceiptKey

VALIDATOR = f"smki-desktop {__version__}"
# the audit record that vouches for a receipt (see the module's text)
VALIDATE_ACTION = "adt.validate"
# the kinds that are signed, the only ones whose receipts are looked for
SIGNED_KINDS = ("adt-file", "quarantine-action")


def ranges_fingerprint(ranges: Sequence[EuiRange] | None) -> str:
    """SHA-256 over the Party's EUI-64 ranges as validated against ('none' without a Party)."""
    if ranges is None:
        return "none"
    text = "\n".join(sorted(str(r) for r in ranges))
    return hashlib.sha256(text.encode()).hexdigest()


def receipt_key(sha256: str, size: int, profile: Profile,
                ranges: Sequence[EuiRange] | None) -> ReceiptKey:
    return ReceiptKey(sha256=sha256, size=size, kind=profile.kind,
                      profile_id=profile.profile_id, profile_version=profile.version,
                      ranges_sha256=ranges_fingerprint(ranges),
                      # the validator's release and the exact rules it applied: a profile
                      # corrected under the same version number is not the one validated
                      software=f"{VALIDATOR}; rules sha256:{profile.rules_sha256[:32]}")


def key_digest(key: ReceiptKey) -> str:
    """SHA-256 over everything the receipt's verdict depends on (its audit record names it)."""
    text = json.dumps([key.sha256, key.size, key.kind, key.profile_id, key.profile_version,
                       key.ranges_sha256, key.software], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _repo(ctx: AppContext) -> AdtReceiptsRepo:
    return AdtReceiptsRepo(ctx.db, ctx.env.value)


def record(ctx: AppContext, report: ValidationReport, sha256: str, size: int,
           ranges: Sequence[EuiRange] | None) -> AdtReceipt | None:
    """Record that the bytes with `sha256` and `size` passed `report`'s profile (nothing is
    recorded for a file with errors)."""
    if not report.ok or report.profile.kind not in SIGNED_KINDS:
        return None
    key = receipt_key(sha256, size, report.profile, ranges)
    with ctx.audit.change():  # the receipt and the record that vouches for it: one transaction
        entry = ctx.audit.record(VALIDATE_ACTION, {
            "kind": key.kind, "profile": report.profile.ref, "receipt": key_digest(key),
            "size": size, "rows": report.row_count, "warnings": report.warning_count},
            {"file": sha256})
        return _repo(ctx).record(key, report.row_count, report.warning_count,
                                 ctx.clock.now().isoformat(), entry.seq)


def find(ctx: AppContext, sha256: str, size: int, profile: Profile,
         ranges: Sequence[EuiRange] | None) -> AdtReceipt | None:
    """The receipt for exactly these bytes and rules when a record the audit log proves vouches
    for it (its counts taken from that record), else None (validate again)."""
    key = receipt_key(sha256, size, profile, ranges)
    receipt = _repo(ctx).find(key)
    if receipt is None or receipt.audit_seq <= 0:
        return None
    entry = ctx.audit.vouched_at(receipt.audit_seq, VALIDATE_ACTION)
    if entry is None or entry.environment != ctx.env.value:
        return None
    d = entry.details
    if (d.get("receipt") != key_digest(key) or entry.artifacts.get("file") != sha256
            or not isinstance(d.get("rows"), int) or not isinstance(d.get("warnings"), int)):
        return None
    return replace(receipt, row_count=d["rows"], warning_count=d["warnings"],
                   validated_at=entry.ts)


@dataclass(frozen=True)
class Checked:
    """A file's validation for signing: the report (rebuilt from the receipt when one was
    used), the SHA-256 of the bytes it covers and the receipt used (None: validated now)."""

    report: ValidationReport
    sha256: str
    receipt: AdtReceipt | None

    @property
    def how(self) -> str:
        """For the audit record: which way the rows were found valid."""
        if self.receipt is None:
            return "validated now"
        return (f"validated before at {self.receipt.validated_at}, receipt "
                f"{self.receipt.id}")


def checked_file(ctx: AppContext, path: Path, profile: Profile,
                 ranges: Sequence[EuiRange] | None,
                 validate: Callable[[], tuple[ValidationReport, str]]) -> Checked:
    """Hash `path` in one pass; use the receipt for exactly those bytes, these rules and this
    environment when there is one, else call `validate` (which validates, hashes and records
    a receipt in the same pass)."""
    sha, size = file_digest(path)
    receipt = find(ctx, sha, size, profile, ranges)
    if receipt is not None:
        report = ValidationReport(profile=profile, row_count=receipt.row_count,
                                  warning_count=receipt.warning_count)
        return Checked(report, sha, receipt)
    report, validated_sha = validate()
    return Checked(report, validated_sha, None)
