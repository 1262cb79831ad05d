"""Device CSR batch workflows: validate, package for the portal, submit through the web service
(via the outbox), import results, track pick-up, and generate test devices.

Sources are a folder of `*.csr`, a zip of `*.csr` or a `device_eui,usage,csr` CSV (layouts in
`core/device_batch.py`). CSR checks run in worker processes (`crypto/device_csr.py`); the batch
rules (duplicates, allowed device range, 100 per device) in `core/device_batch.py`; the portal
files in `portal/upload.py`. Every action that changes something writes an audit record.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
import tempfile
import time
import uuid
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from smki_desktop.core import batch_formats as bf
from smki_desktop.core import device_batch as db
from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import EnvironmentMismatch, InputError, NotFound, Refusal
from smki_desktop.core.eui import Eui64, EuiRange
from smki_desktop.core.ports import NullProgress, ProgressSink
from smki_desktop.crypto import device_csr as dc
from smki_desktop.crypto.device_cert import (
    WARNING_CODES,
    DeviceCertFacts,
    Finding,
    check_cert_chunk,
    csr_findings,
)
from smki_desktop.portal import upload
from smki_desktop.services import crossing
from smki_desktop.services.context import AppContext

PICKUP_DAYS = 30
PICKUP_WARN_DAYS = 7
TEST_DEVICE_BASE = 0x00DB123456000000
"""Test device EUIs: 00-DB-12-34-56-xx-xx-xx (the DCC test devices' 00-DB-12-34-56-78-90-xx,
widened to six free hex digits so that 50,000 and more fit)."""
TEST_DEVICE_LAST = 0x00DB123456FFFFFF
KEYS_FILE = "TEST-ONLY-device-keys.csv"
PENDING_STATES = ("packaged", "pending")
COUNTED_STATES = ("packaged", "pending", "issued", "anomaly")
STATUS_WORDS = {
    "packaged": "packaged, not yet submitted",
    "pending": "submitted, waiting for the DCC",
    "issued": "certificate issued, matched and checked",
    "error": "refused by the DCC",
    "anomaly": "held by the DCC as an issuance anomaly",
    "ineligible": "ineligible",
    "mismatch": "certificate does not match its CSR: reject it",
}


# --- settings and profile --------------------------------------------------------------------


def hw_types(ctx: AppContext) -> list[str]:
    """The hwType OIDs accepted in this environment (profile data, possibly overridden)."""
    from smki_desktop.profile_data import load_profile, override_path

    prof = load_profile(ctx.env, override_path(ctx.paths.env_dir, ctx.env))
    return sorted(prof.hw_type_oids)


def device_profile(ctx: AppContext) -> tuple[list[str], list[str], list[str]]:
    """(hwType OIDs, device policy OIDs, Device CA names) of this environment."""
    from smki_desktop.profile_data import load_profile, override_path

    prof = load_profile(ctx.env, override_path(ctx.paths.env_dir, ctx.env))
    return sorted(prof.hw_type_oids), sorted(prof.device_policy_oids), list(prof.device_ca_names)


def device_ranges(ctx: AppContext) -> list[EuiRange]:
    """The optional allowed device ranges: the party profile's `device_ranges`, else the
    `devices.allowed_ranges` setting (comma-separated FIRST..LAST)."""
    party = ctx.party()
    if party is not None and party.device_ranges:
        return list(party.device_ranges)
    text = ctx.setting("devices.allowed_ranges") or ""
    return [EuiRange.parse(t, "allowed device range") for t in text.split(",") if t.strip()]


def set_device_ranges(ctx: AppContext, ranges: Sequence[str]) -> AuditEntry:
    parsed = [EuiRange.parse(r, "allowed device range") for r in ranges]
    ctx.set_setting("devices.allowed_ranges", ",".join(str(r) for r in parsed))
    return ctx.audit.record("devices.settings", {"allowed_ranges": [str(r) for r in parsed]})


# --- reading sources -------------------------------------------------------------------------


@dataclass
class SourceRead:
    entries: list[db.SourceEntry]
    rejections: list[db.Rejection]
    kind: str


def read_source(path: Path) -> SourceRead:
    """Entries of a folder, zip or CSV; unusable members/lines become rejections."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder.")
    if path.is_dir():
        return _read_folder(path)
    name = path.name
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith(b"PK"):
        with open(path, "rb") as fh:
            got = bf.read_zip_members(fh, suffix=".csr", what="CSR")
        entries = [db.SourceEntry(name, m.name, m.der) for m in got.members]
        rejects = [db.Rejection(name, p.name, "member", p.reason) for p in got.problems]
        return SourceRead(entries, rejects, "zip")
    if path.suffix.lower() == ".csv":
        entries, rejects = db.parse_csv(path.read_bytes(), name)
        return SourceRead(entries, rejects, "csv")
    if path.suffix.lower() in (".csr", ".pem", ".der", ".req"):
        return _read_files([path], path.parent)
    raise InputError(f"{path}: not a folder, a .zip or a .csv of device CSRs.")


def _read_folder(folder: Path) -> SourceRead:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".csr")
    if not files:
        raise InputError(_empty_folder_message(folder))
    return _read_files(files, folder)


def _empty_folder_message(folder: Path) -> str:
    """What a folder with no `*.csr` holds, and which of it to pass instead."""
    found = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    if not found:
        return f"no .csr files in {folder}: the folder is empty."
    sources = [p for p in found if p.is_file() and (
        p.suffix.lower() == ".zip" or (p.suffix.lower() == ".csv" and _is_csr_csv(p)))]
    subdirs = [p for p in found if p.is_dir() and any(
        c.suffix.lower() == ".csr" for c in p.iterdir() if c.is_file())]
    names = ", ".join(p.name + ("/" if p.is_dir() else "") for p in found[:6])
    more = f" and {len(found) - 6} more" if len(found) > 6 else ""
    hint = ""
    if sources:
        hint = f" — pass that file: {sources[0]}" if len(sources) == 1 else \
            " — pass one of the .zip/.csv files"
    elif subdirs:
        hint = f" — pass that folder: {subdirs[0]}" if len(subdirs) == 1 else \
            " — pass one of the folders of .csr files"
    return f"no .csr files in {folder}; found {names}{more}{hint}."


def _is_csr_csv(path: Path) -> bool:
    """A CSV of device CSRs starts with the `device_eui,usage,csr` header (not a key file or a
    reject report)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64).lstrip(b"\xef\xbb\xbf").replace(b" ", b"").lower()
    except OSError:
        return False
    return head.startswith(b"device_eui,usage,csr")


def _read_files(files: Iterable[Path], base: Path) -> SourceRead:
    entries: list[db.SourceEntry] = []
    rejects: list[db.Rejection] = []
    src = base.name or str(base)
    for f in files:
        try:
            size = f.stat().st_size
            if size > bf.MAX_MEMBER_BYTES:
                rejects.append(db.Rejection(src, f.name, "member",
                                            f"oversized file: {size:,} bytes, the limit is "
                                            f"{bf.MAX_MEMBER_BYTES:,}"))
                continue
            raw = f.read_bytes()
        except OSError as exc:
            rejects.append(db.Rejection(src, f.name, "member", f"unreadable: {exc.strerror}"))
            continue
        try:
            der = bf.decode_base64_text(raw, "CSR")
        except InputError as exc:
            rejects.append(db.Rejection(src, f.name, "parse", exc.message))
            continue
        entries.append(db.SourceEntry(src, f.name, der))
    return SourceRead(entries, rejects, "folder")


# --- validation ------------------------------------------------------------------------------


@dataclass
class ValidationResult:
    source: str
    kind: str
    assessment: db.Assessment
    seconds: float

    @property
    def accepted(self) -> list[db.AcceptedCsr]:
        return self.assessment.accepted

    @property
    def rejected(self) -> list[db.Rejection]:
        return self.assessment.rejected

    def as_dict(self, limit: int | None = None) -> dict[str, Any]:
        rej = self.rejected if limit is None else self.rejected[:limit]
        return {
            "source": self.source, "kind": self.kind, "total": self.assessment.total,
            "valid": len(self.accepted), "rejected": len(self.rejected),
            "seconds": round(self.seconds, 3),
            "rejections": [{"source": r.source, "locator": r.locator, "device_eui": r.eui,
                            "usage": r.usage, "code": r.code, "reason": r.reason} for r in rej],
        }


def _known(ctx: AppContext) -> tuple[dict[str, str], dict[bytes, int],
                                     dict[tuple[bytes, str], str]]:
    keys: dict[str, str] = {}
    counts: Counter[bytes] = Counter()
    pairs: dict[tuple[bytes, str], str] = {}
    rows = ctx.db.conn().execute(
        "SELECT key_id, device_eui, usage, status, batch_id, file_name FROM device_csrs "
        "WHERE environment=?", (ctx.env.value,))
    for r in rows:
        where = f"batch {r['batch_id']} ({r['file_name']})"
        keys[r["key_id"]] = where
        eui = bytes.fromhex(r["device_eui"])
        if r["status"] in COUNTED_STATES:
            counts[eui] += 1
        if r["status"] in PENDING_STATES:
            pairs[(eui, r["usage"])] = where
    # device certificates imported by other routes (`smki cert import`) count as well
    try:
        others = ctx.db.conn().execute(
            "SELECT device_eui, key_id FROM certificates WHERE environment=? AND family='device' "
            "AND device_eui IS NOT NULL", (ctx.env.value,)).fetchall()
    except sqlite3.Error:
        others = []
    for r in others:
        if r["key_id"] in keys:
            continue
        try:
            eui = Eui64.parse(r["device_eui"]).octets
        except InputError:
            continue
        counts[eui] += 1
        keys[r["key_id"]] = "an imported device certificate"
    return keys, dict(counts), pairs


def validate(ctx: AppContext, path: Path, *, progress: ProgressSink | None = None,
             processes: int | None = None) -> ValidationResult:
    """Check every CSR of a source against the profile, signatures and the batch rules."""
    start = time.perf_counter()
    sink = progress or NullProgress()
    path = Path(path)
    hw = hw_types(ctx)
    if processes is None or processes > 1:
        dc.prewarm(processes)  # workers start while the source is read
    if path.is_file() and _is_zip(path):
        _refuse_other_environment_zip(ctx, path)
        # streamed: members are read and decoded while the workers check earlier ones
        entries: list[db.SourceEntry] = []
        rejections: list[db.Rejection] = []
        with open(path, "rb") as fh:
            total, members = bf.open_zip_raw(fh, suffix=".csr")

            def ders() -> Iterator[bytes]:
                for name, raw, why in members:
                    if raw is None:
                        rejections.append(db.Rejection(path.name, name, "member",
                                                       why or "unusable"))
                        continue
                    try:
                        der = bf.decode_base64_text(raw, "CSR")
                    except InputError as exc:
                        rejections.append(db.Rejection(path.name, name, "member", exc.message))
                        continue
                    entries.append(db.SourceEntry(path.name, name, der))
                    yield der

            checks = dc.check_many(ders(), hw, processes=processes, progress=sink, total=total)
        read = SourceRead(entries, rejections, "zip")
    else:
        read = read_source(path)
        checks = dc.check_many([e.der for e in read.entries], hw, processes=processes,
                               progress=sink)
    if not read.entries and not read.rejections:
        what = {"zip": "no .csr members in the zip", "csv": "no CSR lines in the CSV"}.get(
            read.kind, "no CSRs")
        raise InputError(f"{path}: {what}; nothing to check.")
    keys, counts, pairs = _known(ctx)
    assessment = db.assess(read.entries, checks, device_ranges=device_ranges(ctx),
                           known_keys=keys, known_counts=counts, known_pairs=pairs)
    assessment.rejected[:0] = read.rejections
    _reject_other_environment_csrs(ctx, assessment)
    return ValidationResult(str(path), read.kind, assessment, time.perf_counter() - start)


def _reject_other_environment_csrs(ctx: AppContext, assessment: db.Assessment) -> None:
    """Device CSRs the other environment packaged or submitted (its database holds their
    keys, this one's does not) are rejected here, naming both environments."""
    foreign = crossing.foreign_device_keys(ctx, {a.key_id for a in assessment.accepted})
    if not foreign:
        return
    them = crossing.other(ctx.env)
    keep = []
    for a in assessment.accepted:
        if a.key_id not in foreign:
            keep.append(a)
            continue
        assessment.rejected.append(db.Rejection(
            a.source, a.locator, "environment",
            f"this CSR's key was packaged or submitted in the {them.label} environment: it "
            f"belongs to the {them.label} environment; this is the {ctx.env.label} "
            f"environment. {them.label} device CSRs are never used in {ctx.env.label}.",
            a.eui_text, a.usage))
    assessment.accepted[:] = keep


def _refuse_other_environment_zip(ctx: AppContext, path: Path) -> None:
    """A batch zip packaged by this application carries its environment in the zip comment:
    one of the other environment is refused, naming both (an unreadable zip is reported by
    the reader)."""
    try:
        with zipfile.ZipFile(path) as zf:
            comment = zf.comment
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return
    if not comment.startswith(bf.BATCH_ZIP_COMMENT_PREFIX):
        return
    found = comment[len(bf.BATCH_ZIP_COMMENT_PREFIX):].decode("ascii", "replace").strip()
    if found and found != ctx.env.value:
        try:
            label = Environment(found).label
        except ValueError:
            label = repr(found)
        raise EnvironmentMismatch(
            f"{path.name} was packaged in the {label} environment (its zip comment says so); "
            f"this is the {ctx.env.label} environment. {label} batches are never used in "
            f"{ctx.env.label}.")


def _is_zip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"PK"


# --- packaging -------------------------------------------------------------------------------


@dataclass
class PackageResult:
    batch_id: str
    validation: ValidationResult
    files: upload.PackagedBatch
    audit: AuditEntry

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "zips": [str(p) for p in self.files.zips],
            "counts": self.files.counts,
            "manifest": str(self.files.manifest) if self.files.manifest else None,
            "reject_report": str(self.files.reject_report) if self.files.reject_report else None,
            "validation": self.validation.as_dict(limit=1000),
        }


def _new_batch_id(ctx: AppContext) -> str:
    return f"DB{ctx.clock.now():%Y%m%d%H%M%S}{uuid.uuid4().hex[:6].upper()}"


def package(ctx: AppContext, path: Path, out_dir: Path, *, batch_name: str | None = None,
            max_per_zip: int = bf.MAX_CSRS_PER_ZIP, progress: ProgressSink | None = None,
            processes: int | None = None) -> PackageResult:
    """Validate, then write portal zips (split with a manifest when needed) and the reject
    report, and record every packaged CSR. All files or none; the database rows only after
    the files are complete."""
    sink = progress or NullProgress()
    crossing.require_party(ctx, "Device batch")  # Live packages nothing without a Party
    result = validate(ctx, path, progress=sink, processes=processes)
    if not result.accepted:
        raise Refusal(f"{path}: no valid CSR to package ({len(result.rejected)} rejected).")
    batch_id = _new_batch_id(ctx)
    name = batch_name or batch_id
    reject_csv = db.reject_report_csv(result.rejected) if result.rejected else None
    files = upload.write_batch(Path(out_dir), name,
                               [(a.file_name, a.der) for a in result.accepted],
                               environment=ctx.env.value, max_per_zip=max_per_zip,
                               reject_csv=reject_csv, progress=sink)
    try:
        _record_batch(ctx, batch_id, name, "portal-zip", "packaged", result.accepted,
                      out_dir=Path(out_dir), files=[str(p) for p in files.files])
    except BaseException:
        for p in files.files:
            p.unlink(missing_ok=True)
        raise
    entry = ctx.audit.record(
        "devices.package",
        {"batch_id": batch_id, "name": name, "source": str(path), "valid": len(result.accepted),
         "rejected": len(result.rejected), "zips": [p.name for p in files.zips],
         "counts": files.counts},
        {part.zip_name: part.sha256 for part in files.parts},
    )
    return PackageResult(batch_id, result, files, entry)


def _record_batch(ctx: AppContext, batch_id: str, name: str, channel: str, status: str,
                  accepted: Sequence[db.AcceptedCsr], *, out_dir: Path | None = None,
                  files: Sequence[str] = (), outbox_ref: str | None = None) -> None:
    now = ctx.clock.now()
    iso = now.isoformat()
    deadline = (now + timedelta(days=PICKUP_DAYS)).isoformat()
    env = ctx.env.value
    with ctx.db.transaction() as c:
        c.execute(
            "INSERT INTO device_batches(id, environment, name, channel, state, total, created, "
            "submitted, pickup_deadline, outbox_ref, out_dir, files, updated) "
            "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (batch_id, env, name, channel, status, len(accepted), iso,
             iso if status == "pending" else None, deadline, outbox_ref,
             str(out_dir) if out_dir else None, json.dumps(list(files)), iso))
        c.executemany(
            "INSERT INTO device_csrs(environment, key_id, batch_id, file_name, device_eui, usage,"
            " csr, source, locator, status, created, updated) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
            ((env, a.key_id, batch_id, a.file_name, a.eui.hex().upper(), a.usage, a.der,
              a.source, a.locator, status, iso, iso) for a in accepted))


# --- web-service submission (through the outbox of the portal layer) ---------------------------


@dataclass
class SubmitResult:
    batch_id: str
    outbox_ref: str
    validation: ValidationResult
    audit: AuditEntry
    send_error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"batch_id": self.batch_id, "outbox_ref": self.outbox_ref,
                "send_error": self.send_error or None,
                "validation": self.validation.as_dict(limit=1000)}


def submit(ctx: AppContext, path: Path, *, progress: ProgressSink | None = None,
           processes: int | None = None, send_now: bool = True) -> SubmitResult:
    """Validate, then queue one batched web-service submission (<= 50,000 CSRs) in the portal
    layer's outbox and try to send it. Results: `smki portal poll` fetches them, then
    `collect` (also run by `status`) files them against the CSRs."""
    crossing.require_party(ctx, "Device batch")  # Live submits nothing without a Party
    result = validate(ctx, path, progress=progress, processes=processes)
    if not result.accepted:
        raise Refusal(f"{path}: no valid CSR to submit ({len(result.rejected)} rejected).")
    if len(result.accepted) > bf.MAX_CSRS_PER_ZIP:
        raise Refusal(f"A web-service batch holds at most {bf.MAX_CSRS_PER_ZIP:,} CSRs; "
                      f"this source has {len(result.accepted):,} valid ones: split it.")
    from smki_desktop.services import portal

    batch_id = _new_batch_id(ctx)
    items = [(_ws_item_id(a), a.der) for a in result.accepted]
    # our rows first (so a result can never arrive for an unknown batch), then the outbox;
    # if queueing fails, our rows go again: nothing half-recorded
    _record_batch(ctx, batch_id, batch_id, "web-service", "pending", result.accepted)
    try:
        item = portal.enqueue_device_batch(ctx, items, {"device_batch_id": batch_id})
    except BaseException:
        with ctx.db.transaction() as c:
            c.execute("DELETE FROM device_csrs WHERE batch_id=?", (batch_id,))
            c.execute("DELETE FROM device_batches WHERE id=?", (batch_id,))
        raise
    with ctx.db.transaction() as c:
        c.execute("UPDATE device_batches SET outbox_ref=?, updated=? WHERE id=?",
                  (item.ref, ctx.clock.now().isoformat(), batch_id))
    entry = ctx.audit.record(
        "devices.submit",
        {"batch_id": batch_id, "outbox_ref": item.ref, "source": str(path),
         "valid": len(result.accepted), "rejected": len(result.rejected)},
    )
    send_error = ""
    if send_now:
        from smki_desktop.core.portal_ports import PortalError

        try:
            portal.send_pending(ctx, refs=[item.ref])
        except PortalError as exc:  # stays queued in the outbox; `smki portal poll` resends
            send_error = exc.message
    return SubmitResult(batch_id, item.ref, result, entry, send_error)


def _ws_item_id(a: db.AcceptedCsr) -> str:
    """The web-service DeviceCSR ID (an xs:ID, <= 100 chars): `D` + the CSR file stem."""
    return "D" + a.file_name[: -len(".csr")]


def collect(ctx: AppContext) -> list[ImportResult]:
    """File the results of every web-service batch whose outbox request is finished."""
    from smki_desktop.services import portal

    out: list[ImportResult] = []
    rows = ctx.db.conn().execute(
        "SELECT id, outbox_ref FROM device_batches WHERE environment=? AND channel="
        "'web-service' AND state!='completed' AND outbox_ref IS NOT NULL",
        (ctx.env.value,)).fetchall()
    ob = portal.outbox(ctx)
    for r in rows:
        try:
            item = ob.get(r["outbox_ref"])
        except NotFound:
            continue
        if item.state == "done":
            out.append(apply_batch_state(ctx, r["id"], portal.batch_results(ctx, item.ref)))
        elif item.state == "failed":
            now = ctx.clock.now().isoformat()
            why = f"the batch failed at the DCC: {item.last_error or item.server_status}"
            with ctx.db.transaction() as c:
                n = c.execute("UPDATE device_csrs SET status='error', detail=?, updated=? "
                              "WHERE batch_id=? AND status IN ('packaged','pending')",
                              (why, now, r["id"])).rowcount
                c.execute("UPDATE device_batches SET state='completed', updated=? WHERE id=?",
                          (now, r["id"]))
            entry = ctx.audit.record("devices.results", {"batch_id": r["id"], "failed": why,
                                                         "csrs": n})
            out.append(ImportResult([r["id"]], {"error": n}, [], [why], entry))
    return out


# --- results ---------------------------------------------------------------------------------


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

    def as_dict(self) -> dict[str, Any]:
        return {"batch_ids": self.batch_ids, "counts": self.counts,
                "unmatched_certificates": self.unmatched, "problems": self.problems,
                "still_pending": self.not_in_report,
                "findings": self.findings, "warnings": self.warnings}


_DCC_STATUS = {
    bf.ReportStatus.SUCCESS: "issued", bf.ReportStatus.ERROR: "error",
    bf.ReportStatus.ANOMALY: "anomaly", bf.ReportStatus.INELIGIBLE: "ineligible",
    # web-service per-CSR statuses
    "SUCCESS": "issued", "ISSUANCE_ANOMALY": "anomaly", "INELIGIBLE": "ineligible",
    "CSR_ERROR": "error", "CA_ERROR": "error", "WORKFLOW_ERROR": "error",
    "UNKNOWN_DEVICE": "ineligible",
}


def explain_error(code: str | None) -> str:
    """The DCC error code in words (codes listed in resources/devices/error_codes.json)."""
    if not code:
        return ""
    table = _error_table()
    if code in table:
        return f"{code}: {table[code]}"
    prefix = code.split(":", 1)[0]
    if prefix + ":*" in table:
        return f"{code}: {table[prefix + ':*']}"
    return f"{code}: an error code this version does not know; ask the DCC Service Desk"


_ERROR_TABLE: dict[str, str] | None = None


def _error_table() -> dict[str, str]:
    global _ERROR_TABLE
    if _ERROR_TABLE is None:
        from smki_desktop.resources_path import resource

        try:
            doc = json.loads(resource("devices", "error_codes.json").read_text("utf-8"))
            _ERROR_TABLE = {str(k): str(v) for k, v in doc.get("codes", {}).items()}
        except (OSError, ValueError):
            _ERROR_TABLE = {}
    return _ERROR_TABLE


@dataclass(slots=True)
class _Outcome:
    status: str
    code: str | None
    cert_der: bytes | None


def import_response(ctx: AppContext, report_path: Path, zip_path: Path | None, *,
                    progress: ProgressSink | None = None) -> ImportResult:
    """Import the portal's report and response zip: match each certificate to its CSR by public
    key, check it, and file each CSR's outcome."""
    bundle = upload.read_response(Path(report_path), Path(zip_path) if zip_path else None)
    certs = {m.stem: m.der for m in bundle.certificates.members}
    problems = [f"{p.name}: {p.reason}" for p in bundle.certificates.problems]
    outcomes: dict[str, _Outcome] = {}  # by file stem
    for line in bundle.report.lines:
        status = _DCC_STATUS[line.status]
        der = certs.pop(line.stem, None) if status in ("issued", "anomaly") else None
        if status == "issued" and der is None:
            problems.append(f"report line {line.line_no}: {line.file_name} is reported issued "
                            "but its certificate is not in the response zip")
        outcomes[line.stem] = _Outcome(status, line.error_code or None, der)
    # certificates not named by the report still match by key
    extra = list(certs.items())
    result = _file_outcomes(ctx, outcomes, extra, by="file", progress=progress)
    result.problems[:0] = problems
    result.audit = ctx.audit.record(
        "devices.import-response",
        {"request_id": bundle.request_id, "batches": result.batch_ids, "counts": result.counts,
         "unmatched": len(result.unmatched), "problems": len(result.problems)},
        _artifacts(report_path, zip_path),
    )
    return result


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
        outcomes[stem] = _Outcome(_DCC_STATUS.get(str(it.status), "error"), it.error_code,
                                  it.certificate_der)
    result = _file_outcomes(ctx, outcomes, [], by="file", batch_id=batch_id)
    with ctx.db.transaction() as c:
        c.execute("UPDATE device_batches SET state='completed', updated=? WHERE id=?",
                  (ctx.clock.now().isoformat(), batch_id))
    result.audit = ctx.audit.record(
        "devices.results", {"batch_id": batch_id, "counts": result.counts,
                            "unmatched": len(result.unmatched)})
    return result


def _file_outcomes(ctx: AppContext, outcomes: dict[str, _Outcome],
                   extra_certs: list[tuple[str, bytes]], *, by: str,
                   batch_id: str | None = None,
                   progress: ProgressSink | None = None) -> ImportResult:
    sink = progress or NullProgress()
    env = ctx.env.value
    c = ctx.db.conn()
    sql = ("SELECT key_id, batch_id, file_name, device_eui, usage, status FROM device_csrs "
           "WHERE environment=?")
    params: list[Any] = [env]
    if batch_id:
        sql += " AND batch_id=?"
        params.append(batch_id)
    rows = {r["file_name"][: -len(".csr")]: r for r in c.execute(sql, params)}
    by_key = {r["key_id"]: r for r in rows.values()}
    hw, policies, ca_names = device_profile(ctx)
    now = ctx.clock.now().isoformat()
    updates: list[tuple[Any, ...]] = []
    counts: Counter[str] = Counter()
    unmatched: list[str] = []
    problems: list[str] = []
    findings_out: dict[str, list[str]] = {}
    warnings: Counter[str] = Counter()
    batches: set[str] = set()
    total = len(outcomes) + len(extra_certs)

    # certificates: parsed and profile-checked in worker processes, matched here by key
    with_cert = [(stem, out) for stem, out in outcomes.items() if out.cert_der is not None]
    with_cert += [(stem, _Outcome("issued", None, der)) for stem, der in extra_certs]
    checks = dc.run_chunked(check_cert_chunk, [o.cert_der for _, o in with_cert],
                            (tuple(policies), tuple(ca_names), tuple(hw)), progress=sink,
                            text="Checking certificates")
    for (stem, out), (error, facts, profile_found) in zip(with_cert, checks, strict=True):
        if facts is None:
            problems.append(f"{stem}.crt: {error}")
            continue
        key_id, _eui, _usage, _hw, serial_hex, issuer = facts
        row = by_key.get(key_id)
        if row is None:
            unmatched.append(f"{stem}.crt")
            continue
        status, found = _verdict(DeviceCertFacts(*facts), profile_found, row, out.status)
        errors = [t for code, t in found if code not in WARNING_CODES]
        if errors:
            findings_out[row["file_name"]] = errors
        for code, t in found:
            if code in WARNING_CODES:
                warnings[t] += 1
        batches.add(row["batch_id"])
        counts[status] += 1
        updates.append(_row_update(status, out.code, found, out.cert_der, serial_hex, issuer,
                                   now, env, row["key_id"]))
    for stem, out in outcomes.items():
        if out.cert_der is not None:
            continue
        row = rows.get(stem)
        if row is None:
            problems.append(f"{stem}.csr: named by the DCC but not a CSR of this environment")
            continue
        batches.add(row["batch_id"])
        counts[out.status] += 1
        updates.append((out.status, out.code, _detail(out.status, out.code, []), None, None, None,
                        None, now, env, row["key_id"]))
    with ctx.db.transaction() as tx:
        tx.executemany(_UPDATE_ROW, updates)
        _settle_batches(tx, batches, now)
    pending = 0
    for b in batches:
        pending += c.execute("SELECT COUNT(*) FROM device_csrs WHERE batch_id=? AND status IN "
                             "('packaged','pending')", (b,)).fetchone()[0]
    sink.progress(total, total, "Matching certificates")
    return ImportResult(sorted(batches), dict(counts), unmatched, problems, None, pending,
                        findings_out, dict(warnings))


SEVERE_CODES = frozenset({"key-mismatch", "san", "key-usage", "key"})
"""Findings that make a certificate a `mismatch` of its CSR (reject it at once)."""

_UPDATE_ROW = ("UPDATE device_csrs SET status=?, error_code=?, detail=?, certificate=?, "
               "cert_serial=?, cert_issuer=?, lint=?, updated=? WHERE environment=? AND key_id=?")


def _verdict(facts: DeviceCertFacts, profile_found: list[Finding], row: Any,
             status: str) -> tuple[str, list[Finding]]:
    """The certificate against its CSR row (key, EUI, usage) plus the profile findings:
    `mismatch` when any is severe, else `status` (what the DCC said)."""
    found = [*csr_findings(facts, csr_key_id=row["key_id"],
                           csr_eui=bytes.fromhex(row["device_eui"]), csr_usage=row["usage"]),
             *profile_found]
    return ("mismatch" if any(code in SEVERE_CODES for code, _ in found) else status), found


def _row_update(status: str, code: str | None, found: list[Finding], cert_der: bytes | None,
                serial_hex: str | None, issuer: str | None, now: str, env: str,
                key_id: str) -> tuple[Any, ...]:
    """Parameters of `_UPDATE_ROW`: how one CSR's outcome is filed."""
    return (status, code, _detail(status, code, found), cert_der, serial_hex, issuer,
            json.dumps(found) if cert_der is not None else None, now, env, key_id)


def _settle_batches(tx: sqlite3.Connection, batches: Iterable[str], now: str) -> None:
    for b in batches:
        # the DCC answered for this batch, so it was uploaded: the rest are awaited
        tx.execute("UPDATE device_csrs SET status='pending', updated=? WHERE batch_id=? "
                   "AND status='packaged'", (now, b))
        tx.execute("UPDATE device_batches SET submitted=COALESCE(submitted, ?) WHERE id=?",
                   (now, b))
        left = tx.execute("SELECT COUNT(*) FROM device_csrs WHERE batch_id=? AND status IN "
                          "('packaged','pending')", (b,)).fetchone()[0]
        tx.execute("UPDATE device_batches SET state=?, updated=? WHERE id=?",
                   ("completed" if left == 0 else "submitted", now, b))


# --- one certificate from elsewhere (`smki cert import`, the Certificates page) -------------


@dataclass(frozen=True)
class DeviceCsrMatch:
    """The Device CSR row whose key a certificate has, and the Devices flow's verdict on it."""

    environment: str
    key_id: str
    batch_id: str | None
    file_name: str
    device_eui: str
    usage: str
    status: str
    csr: bytes
    certificate: bytes | None
    cert_serial: str | None
    verdict: str  # issued | mismatch
    findings: list[Finding]
    serial_hex: str
    issuer: str

    @property
    def severe(self) -> list[str]:
        return [t for code, t in self.findings if code in SEVERE_CODES]


def match_device_csr(ctx: AppContext, cert_der: bytes) -> DeviceCsrMatch | None:
    """The Device CSR with this certificate's key (the key id of the devices flow: SHA-256 of
    the named-curve, uncompressed-point SPKI), checked as `collect`/`import-response` check it.
    None when no Device CSR here has the key. The row may be of another environment: the
    caller refuses it."""
    hw, policies, ca_names = device_profile(ctx)
    ((_error, facts, profile_found),) = check_cert_chunk(
        [cert_der], tuple(policies), tuple(ca_names), tuple(hw))
    if facts is None or not facts[0]:
        return None
    row = ctx.db.conn().execute(
        "SELECT * FROM device_csrs WHERE key_id=? ORDER BY environment=? DESC LIMIT 1",
        (facts[0], ctx.env.value)).fetchone()
    if row is None:
        return None
    dfacts = DeviceCertFacts(*facts)
    verdict, found = _verdict(dfacts, profile_found, row, "issued")
    return DeviceCsrMatch(
        row["environment"], row["key_id"], row["batch_id"], row["file_name"],
        row["device_eui"], row["usage"], row["status"], bytes(row["csr"]),
        bytes(row["certificate"]) if row["certificate"] is not None else None,
        row["cert_serial"], verdict, found, dfacts.serial_hex, dfacts.issuer)


def file_device_certificate(tx: sqlite3.Connection, m: DeviceCsrMatch, cert_der: bytes,
                            status: str, reasons: Sequence[str], now: str) -> bool:
    """File a certificate imported on its own against its Device CSR row, in the caller's
    transaction, as `collect` files a DCC result: `issued` or `mismatch` with the same columns
    and batch bookkeeping. `status` is `issued` or `mismatch`; `reasons` are the importer's
    own findings (added to the row's detail on a mismatch). A row that already holds this
    certificate with this status is left as it is; one that holds another certificate is never
    overwritten. Returns whether the row changed."""
    if m.certificate is not None and (m.certificate != cert_der or m.status == status):
        return False
    found = list(m.findings)
    if status == "mismatch":
        found += [("cert-import", r) for r in reasons if ("cert-import", r) not in found]
    tx.execute(_UPDATE_ROW, _row_update(status, None, found, cert_der, m.serial_hex, m.issuer,
                                        now, m.environment, m.key_id))
    if m.batch_id:
        _settle_batches(tx, [m.batch_id], now)
    return True


def _detail(status: str, code: str | None, found: list[tuple[str, str]]) -> str:
    if status == "mismatch":
        return "; ".join(t for _, t in found)
    if code:
        return explain_error(code)
    errors = [t for c, t in found if c not in WARNING_CODES]
    warns = [t for c, t in found if c in WARNING_CODES]
    if errors:
        return "issued with findings: " + "; ".join(errors + warns)
    if warns:
        return STATUS_WORDS[status] + " (warning: " + "; ".join(warns) + ")"
    return STATUS_WORDS.get(status, status)


# --- status ----------------------------------------------------------------------------------


@dataclass
class BatchStatus:
    batch_id: str
    name: str
    channel: str
    state: str
    total: int
    created: str
    pickup_deadline: str | None
    counts: dict[str, int]
    warning: str = ""


def status(ctx: AppContext, *, at: datetime | None = None) -> list[BatchStatus]:
    """Every batch with its per-status counts and a warning when pick-up is near its end."""
    now = at or ctx.clock.now()
    c = ctx.db.conn()
    per: dict[str, dict[str, int]] = {}
    for r in c.execute("SELECT batch_id, status, COUNT(*) AS n FROM device_csrs WHERE "
                       "environment=? GROUP BY batch_id, status", (ctx.env.value,)):
        per.setdefault(r["batch_id"], {})[r["status"]] = r["n"]
    out = []
    for r in c.execute("SELECT * FROM device_batches WHERE environment=? ORDER BY created",
                       (ctx.env.value,)):
        counts = per.get(r["id"], {})
        warning = ""
        waiting = sum(n for s, n in counts.items() if s in PENDING_STATES)
        if waiting and r["pickup_deadline"]:
            deadline = datetime.fromisoformat(r["pickup_deadline"])
            left = deadline - now
            if left <= timedelta(0):
                warning = (f"pick-up window ended {deadline:%Y-%m-%d}: {waiting} CSRs never "
                           "collected; resubmit them")
            elif left <= timedelta(days=PICKUP_WARN_DAYS):
                warning = (f"collect the results before {deadline:%Y-%m-%d %H:%M} UTC "
                           f"({left.days} days left, {waiting} CSRs waiting)")
        out.append(BatchStatus(r["id"], r["name"], r["channel"], r["state"], r["total"],
                               r["created"], r["pickup_deadline"], counts, warning))
    return out


@dataclass(frozen=True, slots=True)
class CsrRow:
    """One row of the results table."""

    file_name: str
    device_eui: str
    usage: str
    status: str
    error_code: str
    detail: str
    batch_id: str
    cert_serial: str
    key_id: str


def csr_rows(ctx: AppContext, batch_id: str | None = None) -> list[CsrRow]:
    sql = ("SELECT file_name, device_eui, usage, status, error_code, detail, batch_id, "
           "cert_serial, key_id FROM device_csrs WHERE environment=?")
    params: list[Any] = [ctx.env.value]
    if batch_id:
        sql += " AND batch_id=?"
        params.append(batch_id)
    out = []
    for r in ctx.db.conn().execute(sql + " ORDER BY batch_id, file_name", params):
        out.append(CsrRow(r[0], str(Eui64(bytes.fromhex(r[1]))), r[2], r[3], r[4] or "",
                          r[5] or STATUS_WORDS.get(r[3], ""), r[6] or "", r[7] or "", r[8]))
    return out


def batch_csrs(ctx: AppContext, batch_id: str) -> list[tuple[str, bytes]]:
    """(file name, CSR DER) of a batch, for resubmission or the simulator."""
    rows = ctx.db.conn().execute(
        "SELECT file_name, csr FROM device_csrs WHERE environment=? AND batch_id=? "
        "ORDER BY file_name", (ctx.env.value, batch_id)).fetchall()
    if not rows:
        raise NotFound(f"No device batch {batch_id!r} in the {ctx.env.label} environment.")
    return [(r[0], bytes(r[1])) for r in rows]


# --- test devices ----------------------------------------------------------------------------


@dataclass
class GenerateResult:
    count: int
    devices: int
    out: Path
    keys_file: Path | None
    first_eui: str
    last_eui: str
    seconds: float
    audit: AuditEntry

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "devices": self.devices, "out": str(self.out),
                "keys_file": str(self.keys_file) if self.keys_file else None,
                "first_eui": self.first_eui, "last_eui": self.last_eui,
                "seconds": round(self.seconds, 3)}


def next_test_eui(ctx: AppContext) -> int:
    row = ctx.db.conn().execute(
        "SELECT MAX(device_eui) FROM device_csrs WHERE environment=? AND device_eui BETWEEN ? "
        "AND ?", (ctx.env.value, f"{TEST_DEVICE_BASE:016X}", f"{TEST_DEVICE_LAST:016X}")
    ).fetchone()
    return int(row[0], 16) + 1 if row and row[0] else TEST_DEVICE_BASE


def test_device_plan(count: int, first: int, usage: str) -> list[tuple[bytes, str]]:
    """(eui, usage) for `count` CSRs; with usage "both" each device gets a signing and a
    key-agreement CSR."""
    usages = list(dc.USAGES) if usage == "both" else [usage]
    out = []
    for i in range(count):
        eui = first + i // len(usages)
        out.append((eui.to_bytes(8, "big"), usages[i % len(usages)]))
    return out


def generate_test(ctx: AppContext, count: int, out_dir: Path, *, discard_keys: bool = False,
                  first_eui: str | None = None, usage: str = "both", fmt: str = "zip",
                  progress: ProgressSink | None = None,
                  processes: int | None = None) -> GenerateResult:
    """Make `count` test device key pairs and Device CSRs (Test only). Output in `out_dir`:
    `test-devices.zip` (or `.csv`, or a `test-devices/` folder of `.csr`) and, unless
    `discard_keys`, `TEST-ONLY-device-keys.csv` with the PKCS#8 private keys (mode 0600).
    The keys never go to the OS keyring. Everything is written, or nothing."""
    if ctx.env is not Environment.TEST:
        raise Refusal("Test devices can only be generated in the Test environment; this is "
                      f"the {ctx.env.label} environment.")
    if count < 1:
        raise InputError("Number of CSRs: at least 1.", hint="field.count")
    if usage not in ("both", *dc.USAGES):
        raise InputError(f"Usage {usage!r}: use signing, key-agreement or both.",
                         hint="field.usage")
    if fmt not in ("zip", "csv", "folder"):
        raise InputError(f"Output form {fmt!r}: use zip, csv or folder.", hint="field.format")
    if fmt == "zip" and count > bf.MAX_CSRS_PER_ZIP:
        raise InputError(f"Number of CSRs {count:,}: a zip holds at most "
                         f"{bf.MAX_CSRS_PER_ZIP:,} CSRs; write a CSV file or a folder instead.",
                         hint="field.format")
    first = (int(Eui64.parse(first_eui, "First device EUI")) if first_eui
             else next_test_eui(ctx))
    plan = test_device_plan(count, first, usage)
    last = int.from_bytes(plan[-1][0], "big")
    if last >= 1 << 64:
        raise InputError("First device EUI: the range runs past FF-FF-FF-FF-FF-FF-FF-FF.",
                         hint="field.first-eui")
    out_dir = Path(out_dir)
    target = out_dir / {"zip": "test-devices.zip", "csv": "test-devices.csv",
                        "folder": "test-devices"}[fmt]
    keys_path = None if discard_keys else out_dir / KEYS_FILE
    for t in (target, keys_path):
        if t is not None and t.exists():
            raise Refusal(f"{t} already exists; choose another output folder.")
    hw = hw_types(ctx)
    if not hw:
        raise Refusal("No hwType OID is configured for this environment's device profile.")
    start = time.perf_counter()
    gen = dc.generate_many(plan, hw[0], keep_keys=not discard_keys, processes=processes,
                           progress=progress)
    seconds = time.perf_counter() - start
    names = [db.packaged_name(e, u, dc.key_id_for_point(_point_of(d))) for e, u, d, _ in gen]
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".generate.", suffix=".staging", dir=out_dir))
    placed: list[Path] = []
    try:
        staged = staging / target.name
        if fmt == "zip":
            with open(staged, "wb") as fh:
                bf.build_batch_zip([(n, g[2]) for n, g in zip(names, gen, strict=True)], fh)
                _sync(fh)
        elif fmt == "csv":
            with open(staged, "wb") as fh:
                fh.write(db.build_csv((e, u, d) for e, u, d, _ in gen))
                _sync(fh)
        else:
            staged.mkdir()
            for n, g in zip(names, gen, strict=True):
                (staged / n).write_bytes(bf.encode_csr_text(g[2]))
        if keys_path is not None:
            with open(staging / KEYS_FILE, "wb") as fh:
                os.fchmod(fh.fileno(), 0o600)
                fh.write(b"# TEST ONLY: device private keys made by SMKI Desktop "
                         b"`devices generate-test` (Test environment). Never use in Live.\n")
                fh.write(b"device_eui,usage,csr_file,private_key_pkcs8\n")
                for n, (e, u, _, k) in zip(names, gen, strict=True):
                    fh.write(f"{Eui64(e)},{u},{n},".encode() + base64.b64encode(k) + b"\n")
                _sync(fh)
        for item in sorted(staging.iterdir()):
            final = out_dir / item.name
            if final.exists():
                raise Refusal(f"{final} appeared meanwhile; nothing was written.")
            os.rename(item, final)
            placed.append(final)
    except BaseException:
        for p in placed:
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    devices = len({e for e, _ in plan})
    entry = ctx.audit.record(
        "devices.generate-test",
        {"count": count, "devices": devices, "out": str(target), "usage": usage,
         "first_eui": str(Eui64(plan[0][0])), "last_eui": str(Eui64(plan[-1][0])),
         "keys": str(keys_path) if keys_path else "discarded"},
    )
    return GenerateResult(count, devices, target, keys_path, str(Eui64(plan[0][0])),
                          str(Eui64(plan[-1][0])), seconds, entry)


def _point_of(csr_der: bytes) -> bytes:
    """The public point of a CSR built by `crypto.device_csr` (SPKI at a known place)."""
    i = csr_der.index(dc._P256_SPKI_PREFIX) + len(dc._P256_SPKI_PREFIX)
    return csr_der[i : i + 65]


def _sync(fh: Any) -> None:
    fh.flush()
    os.fsync(fh.fileno())
