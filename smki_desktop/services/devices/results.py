"""Filing the DCC's answer: the portal's report and response zip (`import_response`), or a
web-service batch's per-CSR results (`apply_batch_state`). Each certificate is parsed and
profile-checked in worker processes, matched to its CSR by public key (`device_matching`),
and every CSR's outcome filed in one transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smki_desktop.core import batch_formats as bf
from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.errors import Refusal
from smki_desktop.core.ports import NullProgress, ProgressSink
from smki_desktop.crypto import device_csr as dc
from smki_desktop.crypto.device_cert import WARNING_CODES, DeviceCertFacts, check_cert_chunk
from smki_desktop.portal import upload
from smki_desktop.services.context import AppContext
from smki_desktop.services.device_matching import (
    detail,
    device_profile,
    result_update,
    trusted_device_cas,
    verdict,
)
from smki_desktop.store.repos import devices as repo


@dataclass
class ImportResult:
    batch_ids: list[str]
    counts: dict[str, int]
    unmatched: list[str]
    problems: list[str]
    audit: AuditEntry | None
    not_in_report: int = 0
    findings: dict[str, list[str]] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
    unchanged: int = 0
    """Outcomes already filed exactly so (the same answer imported again): left untouched."""

    def as_dict(self) -> dict[str, Any]:
        return {"batch_ids": self.batch_ids, "counts": self.counts,
                "unmatched_certificates": self.unmatched, "problems": self.problems,
                "still_pending": self.not_in_report,
                "findings": self.findings, "warnings": self.warnings,
                "unchanged": self.unchanged}

    def unchanged_text(self) -> str:
        """What an answer filed before means for the user, or "" when all of it was new."""
        total = sum(self.counts.values())
        if not self.unchanged:
            return ""
        if self.unchanged >= total:
            return (f"Already imported: all {total:,} outcomes of this answer were filed "
                    "before, as they are now; nothing changed.")
        return (f"{self.unchanged:,} of the {total:,} outcomes were already filed as they are "
                "now (imported before): left as they were.")


DCC_STATUS = {
    bf.ReportStatus.SUCCESS: "issued", bf.ReportStatus.ERROR: "error",
    bf.ReportStatus.ANOMALY: "anomaly", bf.ReportStatus.INELIGIBLE: "ineligible",
    # web-service per-CSR statuses
    "SUCCESS": "issued", "ISSUANCE_ANOMALY": "anomaly", "INELIGIBLE": "ineligible",
    "CSR_ERROR": "error", "CA_ERROR": "error", "WORKFLOW_ERROR": "error",
    "UNKNOWN_DEVICE": "ineligible",
}
"""The DCC's per-CSR status (report or web service) -> the row status."""


@dataclass(slots=True)
class _Outcome:
    status: str
    code: str | None
    cert_der: bytes | None


def import_response(ctx: AppContext, report_path: Path, zip_path: Path | None, *,
                    progress: ProgressSink | None = None) -> ImportResult:
    """Import the portal's report and response zip: match each certificate to its CSR by public
    key, check it, and file each CSR's outcome. An answer of which nothing is for a Device
    CSR of this environment (another batch's, another Party's, the other environment's) is
    refused, naming the report: nothing is filed or audited."""
    bundle = upload.read_response(Path(report_path), Path(zip_path) if zip_path else None)
    certs = {m.stem: m.der for m in bundle.certificates.members}
    problems = [f"{p.name}: {p.reason}" for p in bundle.certificates.problems]
    outcomes: dict[str, _Outcome] = {}  # by file stem
    for line in bundle.report.lines:
        status = DCC_STATUS[line.status]
        der = certs.pop(line.stem, None) if status in ("issued", "anomaly") else None
        if status == "issued" and der is None:
            problems.append(f"report line {line.line_no}: {line.file_name} is reported issued "
                            "but its certificate is not in the response zip")
        outcomes[line.stem] = _Outcome(status, line.error_code or None, der)
    # certificates not named by the report still match by key
    extra = list(certs.items())
    arts = _artifacts(report_path, zip_path)

    def record(result: ImportResult) -> AuditEntry:
        result.problems[:0] = problems
        return ctx.audit.record(
            "devices.import-response",
            {"request_id": bundle.request_id, "batches": result.batch_ids,
             "counts": result.counts, "unchanged": result.unchanged,
             "unmatched": len(result.unmatched), "problems": len(result.problems)}, arts)

    what = f"{len(bundle.report.lines):,} report lines"
    if zip_path:
        what += f" and {len(bundle.certificates.members):,} certificates"
    nothing = (f"{Path(report_path).name}: none of its {what} answers a Device CSR of the "
               f"{ctx.env.label} environment: it is the answer to another batch, another "
               "Party's or the other environment's. Nothing was filed.")
    return _file_outcomes(ctx, outcomes, extra, progress=progress, record=record,
                          nothing=nothing)


def _artifacts(report_path: Path, zip_path: Path | None) -> dict[str, bytes | str]:
    arts: dict[str, bytes | str] = {"report": Path(report_path).read_bytes()}
    if zip_path:
        arts["response_zip"] = Path(zip_path).read_bytes()
    return arts


def apply_batch_state(ctx: AppContext, batch_id: str, items: Iterable[Any]) -> ImportResult:
    """File the per-CSR results of a web-service batch (`IssuedItem`s with item_id, status,
    error_code, certificate_der) against the batch's CSRs."""
    outcomes: dict[str, _Outcome] = {}
    for it in items:
        stem = str(it.item_id)[1:] if str(it.item_id).startswith("D") else str(it.item_id)
        outcomes[stem] = _Outcome(DCC_STATUS.get(str(it.status), "error"), it.error_code,
                                  it.certificate_der)

    def record(result: ImportResult) -> AuditEntry:
        with ctx.db.transaction() as c:
            repo.set_batch_completed(c, batch_id, ctx.clock.now().isoformat())
        return ctx.audit.record(
            "devices.results", {"batch_id": batch_id, "counts": result.counts,
                                "unchanged": result.unchanged,
                                "unmatched": len(result.unmatched)})

    return _file_outcomes(ctx, outcomes, [], batch_id=batch_id, record=record)


@dataclass
class _Filing:
    """What filing one answer collects: the row updates and what to tell the user."""

    env: str
    now: str
    updates: list[repo.ResultUpdate] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    unmatched: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    findings: dict[str, list[str]] = field(default_factory=dict)
    warnings: Counter[str] = field(default_factory=Counter)
    batches: set[str] = field(default_factory=set)
    unchanged: int = 0
    matched: int = 0

    def certificate(self, stem: str, out: _Outcome, check: Any,
                    by_key: dict[str, repo.FilingRow]) -> None:
        """A certificate: matched to its CSR by key, then checked against it."""
        error, facts, profile_found = check
        if facts is None:
            self.problems.append(f"{stem}.crt: {error}")
            return
        key_id, _eui, _usage, _hw, serial_hex, issuer = facts
        row = by_key.get(key_id)
        if row is None:
            self.unmatched.append(f"{stem}.crt")
            return
        status, found = verdict(DeviceCertFacts(*facts), profile_found, csr_key_id=row.key_id,
                                csr_eui_hex=row.device_eui, csr_usage=row.usage,
                                status=out.status)
        errors = [t for code, t in found if code not in WARNING_CODES]
        if errors:
            self.findings[row.file_name] = errors
        for code, t in found:
            if code in WARNING_CODES:
                self.warnings[t] += 1
        self._count(row, status)
        self._file(row, result_update(status, out.code, found, out.cert_der, serial_hex,
                                      issuer, self.now, self.env, row.key_id))

    def no_certificate(self, stem: str, out: _Outcome, row: repo.FilingRow | None) -> None:
        """An outcome without a certificate (refused, ineligible...): filed by file name."""
        if row is None:
            self.problems.append(f"{stem}.csr: named by the DCC but not a CSR of this "
                                 "environment")
            return
        self._count(row, out.status)
        self._file(row, repo.ResultUpdate(out.status, out.code,
                                          detail(out.status, out.code, []), None, None,
                                          None, None, self.now, self.env, row.key_id))

    def _file(self, row: repo.FilingRow, update: repo.ResultUpdate) -> None:
        """File `update` unless the row holds it already: the same answer imported twice
        leaves the rows (and their dates) as the first import filed them."""
        self.matched += 1
        if (row.status, row.error_code, row.cert_serial, row.detail) == (
                update.status, update.error_code, update.cert_serial, update.detail):
            self.unchanged += 1
            return
        self.updates.append(update)

    def _count(self, row: repo.FilingRow, status: str) -> None:
        if row.batch_id:
            self.batches.add(row.batch_id)
        self.counts[status] += 1


def _file_outcomes(ctx: AppContext, outcomes: dict[str, _Outcome],
                   extra_certs: list[tuple[str, bytes]], *, batch_id: str | None = None,
                   progress: ProgressSink | None = None,
                   record: Callable[[ImportResult], AuditEntry],
                   nothing: str | None = None) -> ImportResult:
    """Check the answers (in worker processes, no transaction open), then file them and
    write `record`'s audit record in one transaction (issue 16). With `nothing`, an answer
    that files nothing is refused with that message."""
    sink = progress or NullProgress()
    rows = {r.file_name[: -len(".csr")]: r
            for r in repo.rows_for_filing(ctx.db, ctx.env.value, batch_id)}
    by_key = {r.key_id: r for r in rows.values()}
    hw, policies, ca_names = device_profile(ctx)
    filing = _Filing(ctx.env.value, ctx.clock.now().isoformat())
    total = len(outcomes) + len(extra_certs)

    # certificates: parsed and profile-checked in worker processes, matched here by key
    with_cert = [(stem, out) for stem, out in outcomes.items() if out.cert_der is not None]
    with_cert += [(stem, _Outcome("issued", None, der)) for stem, der in extra_certs]
    # each signature verified against the Device CAs this environment trusts: a look-alike
    # CA of the same name is not the DCC
    checks = dc.run_chunked(check_cert_chunk, [o.cert_der for _, o in with_cert],
                            (tuple(policies), tuple(ca_names), tuple(hw),
                             trusted_device_cas(ctx)), progress=sink,
                            text="Checking certificates")
    for (stem, out), check in zip(with_cert, checks, strict=True):
        filing.certificate(stem, out, check, by_key)
    for stem, out in outcomes.items():
        if out.cert_der is None:
            filing.no_certificate(stem, out, rows.get(stem))
    if nothing is not None and not filing.matched:
        raise Refusal(nothing)
    with ctx.audit.change():
        with ctx.db.transaction() as tx:
            repo.file_results(tx, filing.updates)
            repo.settle_batches(tx, filing.batches, filing.now)
        pending = repo.waiting_count(ctx.db, filing.batches)
        result = ImportResult(sorted(filing.batches), dict(filing.counts), filing.unmatched,
                              filing.problems, None, pending, filing.findings,
                              dict(filing.warnings), filing.unchanged)
        result.audit = record(result)
    sink.progress(total, total, "Matching certificates")
    return result
