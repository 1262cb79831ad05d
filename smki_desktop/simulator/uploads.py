"""The simulated DCC's browser-portal uploads: a batch of Device CSRs packaged by `smki devices
package` (checked as the portal would, issued, answered with a response zip and a report) and a
signed ADT package; both idempotent per (client identity, client reference) like every other
submitting operation of `simulator/dcc.py`.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime

from smki_desktop.core import batch_formats as bf
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError
from smki_desktop.crypto import device_csr as dc
from smki_desktop.crypto.cms import SignatureInvalid, verify_detached
from smki_desktop.profile_data import load_profile
from smki_desktop.simulator.dcc import (
    Tx,
    _issue_device,
    _now,
    _replay,
    _save_reply,
    log_submission,
)
from smki_desktop.simulator.state import SimState

SIM_ENVIRONMENT = "test"
"""The simulator is a Test DCC: its portal takes batches packaged in the Test environment."""
MAX_UPLOAD_BYTES = 48 * 1024 * 1024
"""The portal's upload limit (the DCC's own is not published [U]; a 50,000-CSR zip from
`smki devices package` is about 30 MB). `/_control/config` `upload_max_bytes` changes it."""
PROFILE_CODES = {
    "parse": "CS:Format", "version": "CS:Profile", "subject": "CS:Subject",
    "key": "CS:KeyType", "sig-alg": "CS:Profile", "attributes": "CS:Profile",
    "extensions": "CS:Profile", "key-usage": "CS:KUBits", "san": "CS:SAN",
    "hw-type": "CS:HwType", "eui": "CS:DevID", "signature": "CS:BadSig",
}
"""The app's Device CSR profile rules (crypto.device_csr) as the DCC's report codes."""


class UploadRefused(Exception):
    """The portal refuses a batch upload as a whole (nothing is issued)."""

    def __init__(self, code: str, message: str, http: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http = http


@dataclass(frozen=True)
class UploadOutcome:
    request_id: str
    new: bool
    answer: dict[str, object]


def _test_hw_types() -> tuple[str, ...]:

    return tuple(sorted(load_profile(Environment.TEST).hw_type_oids))


def _check_manifest(data: bytes, zip_name: str | None, zip_bytes: bytes,
                    members: list[str]) -> None:

    try:
        man = bf.parse_manifest(data, "The manifest")
    except InputError as exc:
        raise UploadRefused("MF:Format", exc.message) from None
    if man.environment != SIM_ENVIRONMENT:
        raise UploadRefused("BU:Env", f"The manifest is for the {man.environment!r} "
                            f"environment; this is the {SIM_ENVIRONMENT!r} portal.")
    part = next((p for p in man.parts if p.zip_name == zip_name), None)
    if part is None:
        raise UploadRefused("MF:Part", f"The zip {zip_name or '(unnamed)'} is not a part "
                            f"of batch {man.batch!r} (parts: "
                            f"{', '.join(p.zip_name for p in man.parts)}).")
    digest = bf.sha256_hex(zip_bytes)
    if digest != part.sha256:
        raise UploadRefused("MF:Digest", f"The zip {zip_name} does not match the manifest "
                            f"(SHA-256 {digest[:16]}..., the manifest says "
                            f"{part.sha256[:16]}...): it changed after packaging.")
    if sorted(members) != sorted(part.files) or part.count != len(members):
        raise UploadRefused("MF:Count", f"The zip {zip_name} holds {len(members)} CSRs that "
                            f"are not the {part.count} the manifest lists.")


def check_upload(state: SimState, zip_bytes: bytes, *, zip_name: str | None = None,
                 manifest: bytes | None = None) -> list[tuple[str, bytes]]:
    """The portal's checks of a whole upload before any CSR is looked at: size, a readable
    zip of `*.csr` at its root only (every bad member named), at most 50,000 CSRs, the
    environment (the zip's marker and the manifest), the manifest when one is given.
    -> [(member name, CSR DER)]; raises `UploadRefused` with the reason."""

    limit = int(state.meta("upload_max_bytes", str(MAX_UPLOAD_BYTES)) or MAX_UPLOAD_BYTES)
    if len(zip_bytes) > limit:
        raise UploadRefused("BU:TooBig", f"The upload is {len(zip_bytes):,} bytes; the portal "
                            f"takes zips of at most {limit:,} bytes: package the batch in "
                            "smaller parts (smki devices package --max-per-zip).", 413)
    if not zip_bytes.startswith(b"PK\x03\x04"):
        raise UploadRefused("BU:NotZip", "The upload is not a zip file.")
    try:
        env = bf.batch_zip_environment(zip_bytes)
        contents = bf.read_batch_zip(zip_bytes)
    except InputError as exc:
        raise UploadRefused("BU:NotZip", f"The upload is not a readable zip: {exc.message}") \
            from None
    if manifest is not None:
        _check_manifest(manifest, zip_name, zip_bytes, [m.name for m in contents.members])
    if env is not None and env != SIM_ENVIRONMENT:
        raise UploadRefused("BU:Env", f"The zip was packaged in the {env!r} environment; this "
                            f"is the {SIM_ENVIRONMENT!r} portal.")
    too_many = [p for p in contents.problems if p.reason.startswith("past the limit")]
    if too_many:
        raise UploadRefused("BU:TooMany", f"The zip holds "
                            f"{len(contents.members) + len(too_many):,} CSRs; the portal takes "
                            f"at most {bf.MAX_CSRS_PER_ZIP:,} in one zip.")
    if contents.problems:
        shown = "; ".join(f"{p.name}: {p.reason}" for p in contents.problems[:5])
        more = len(contents.problems) - 5
        raise UploadRefused("BU:Member", f"{len(contents.problems)} member(s) of the zip cannot "
                            f"be used: {shown}" + (f"; and {more} more" if more > 0 else ""))
    if not contents.members:
        raise UploadRefused("BU:Empty", "The zip holds no *.csr file.")
    return [(m.name, m.der) for m in contents.members]


def portal_batch_upload(state: SimState, owner: str, client_ref: str, zip_bytes: bytes, *,
                        zip_name: str | None = None, manifest: bytes | None = None
                        ) -> UploadOutcome:
    """The browser portal's batch upload: the whole zip is checked first (`check_upload`,
    refused whole with the reason), then every CSR against the Device CSR profile of the Test
    environment (crypto.device_csr, the app's own check); each one that passes is issued by the
    same code as the web-service batches (`_issue_device`). The answer is the `.txt` report and
    the `<request>-response` zip (core.batch_formats), kept for download. Idempotent per client
    reference: a replay gets the first answer. -> UploadOutcome."""


    def replayed() -> UploadOutcome | None:
        row = state.conn().execute("SELECT request_id FROM portal_uploads WHERE owner=? AND "
                                   "client_ref=?", (owner, client_ref)).fetchone()
        if row is None:
            return None
        log_submission(state, owner, "upload", client_ref, "replay")
        body = _replay(state, owner, "upload", client_ref)
        answer = json.loads(body) if body else {"request_id": str(row["request_id"])}
        return UploadOutcome(str(row["request_id"]), False, answer)

    with Tx(state):
        prior = replayed()
    if prior is not None:
        return prior
    members = check_upload(state, zip_bytes, zip_name=zip_name, manifest=manifest)
    hw = _test_hw_types()
    checked = [(name, der, dc.check_device_csr(der, hw)) for name, der in members]
    with Tx(state):
        prior = replayed()
        if prior is not None:
            return prior
        now = _now(state)
        lines: list[bf.ReportLine] = []
        certs: list[tuple[str, bytes]] = []
        refused: list[dict[str, str]] = []
        for n, (name, der, (rule, reason, *_)) in enumerate(checked, start=1):
            if rule:
                code = PROFILE_CODES.get(rule, "CS:Profile")
                lines.append(bf.ReportLine(str(n), name, bf.ReportStatus.ERROR, code))
                refused.append({"file": name, "code": code, "reason": reason})
                continue
            status, err, serial = _issue_device(state, der, owner, now, state.hierarchy)
            if serial:
                cert = bytes(state.conn().execute("SELECT der FROM certificates WHERE serial=?",
                                                  (serial,)).fetchone()["der"])
                certs.append((name.rsplit(".", 1)[0], cert))
                lines.append(bf.ReportLine(str(n), name, bf.ReportStatus.SUCCESS))
                continue
            st = bf.ReportStatus.INELIGIBLE if status == "INELIGIBLE" else bf.ReportStatus.ERROR
            lines.append(bf.ReportLine(str(n), name, st, err or "CS:Error"))
            refused.append({"file": name, "code": err or "CS:Error",
                            "reason": "this device already has 100 certificates"
                            if status == "INELIGIBLE" else "the CSR was not accepted"})
        cur = state.conn().execute(
            "INSERT INTO portal_uploads(owner, client_ref, report, response_zip, uploaded_at) "
            "VALUES (?,?,?,?,?)", (owner, client_ref, b"", b"", now.isoformat()))
        rid = str(cur.lastrowid)
        state.conn().execute("UPDATE portal_uploads SET report=?, response_zip=? WHERE "
                             "request_id=?", (bf.build_report(rid, lines),
                                              bf.build_response_zip(certs), int(rid)))
        q = f"/portal/batch-response?RequestId={rid}&part="
        answer: dict[str, object] = {
            "request_id": rid, "file": zip_name or "", "csrs": len(checked),
            "issued": len(certs), "refused": refused,
            "report": {"url": q + "report", "name": bf.report_name(rid)},
            "response_zip": {"url": q + "zip", "name": bf.response_zip_name(rid)}}
        _save_reply(state, owner, "upload", client_ref, json.dumps(answer).encode())
        log_submission(state, owner, "upload", client_ref, "new")
    return UploadOutcome(rid, True, answer)


def portal_batch_response(state: SimState, owner: str, request_id: str,
                          part: str) -> bytes | None:
    if not request_id.isdigit():
        return None
    row = state.conn().execute("SELECT report, response_zip FROM portal_uploads WHERE "
                               "request_id=? AND owner=?", (int(request_id), owner)).fetchone()
    if row is None:
        return None
    return bytes(row["report"] if part == "report" else row["response_zip"])


MAX_ADT_MEMBER = 256 * 1024 * 1024


def verify_adt_package(state: SimState, body: bytes) -> list[str]:
    """What the DCC checks on receipt: the package holds a file, its detached CMS signature,
    the manifest and the manifest's signature, and both signatures verify over the exact bytes
    with a credential this (test) DCC issued. Returns the names of the verified files."""


    try:
        zf = zipfile.ZipFile(io.BytesIO(body))
        infos = {i.filename: i for i in zf.infolist()}
    except (zipfile.BadZipFile, ValueError) as exc:
        raise InputError(f"The ADT package is not a readable zip: {exc}") from exc
    for info in infos.values():
        if info.file_size > MAX_ADT_MEMBER or "/" in info.filename or "\\" in info.filename:
            raise InputError(f"The ADT package member {info.filename!r} is not acceptable.")
    signed = [n for n in infos if not n.endswith(".p7s") and n + ".p7s" in infos]
    files = [n for n in signed if not n.endswith(".manifest.json")]
    if len(files) != 1 or files[0] + ".manifest.json" not in signed:
        raise InputError("The ADT package must hold one file with its .p7s signature, its "
                         ".manifest.json and the manifest's .p7s signature.")
    h = state.hierarchy
    anchors = [h.root.certificate]
    intermediates = [e.certificate for e in h.entries() if e is not h.root]
    for name in signed:
        try:
            verify_detached(zf.read(name), zf.read(name + ".p7s"), trust_anchors=anchors,
                            extra_certs=intermediates)
        except SignatureInvalid as exc:
            raise InputError(f"The signature of {name} in the ADT package does not verify: "
                             f"{exc.message}") from exc
    return signed


def adt_upload(state: SimState, owner: str, name: str, body: bytes) -> str:
    """The DCC's secure channel for ADT packages (SharePoint since MP109), emulated: verify the
    package's signatures, keep it; the same bytes twice give the same reference."""

    verify_adt_package(state, body)
    sha = hashlib.sha256(body).hexdigest()
    with Tx(state):
        row = state.conn().execute("SELECT reference FROM adt_uploads WHERE owner=? AND "
                                   "sha256=?", (owner, sha)).fetchone()
        if row is not None:
            log_submission(state, owner, "adt", sha, "replay")
            return f"ADT-{row['reference']:06d}"
        cur = state.conn().execute(
            "INSERT INTO adt_uploads(owner, name, sha256, body, received) VALUES (?,?,?,?,?)",
            (owner, name, sha, body, datetime.now(UTC).isoformat()))
        log_submission(state, owner, "adt", sha, "new")
        return f"ADT-{int(cur.lastrowid or 0):06d}"
