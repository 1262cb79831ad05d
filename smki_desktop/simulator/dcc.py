"""What the simulated DCC does with each request: check CSRs, issue certificates, run batches
through their statuses on an accelerated clock, keep the repository, revoke and publish the CRL.

Every submitting operation is idempotent per (client identity, client reference): a replay gets
the first answer back and is logged as a replay, never processed twice.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from asn1crypto import core as acore
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from smki_desktop.core import ws_forms as WF
from smki_desktop.core import ws_xml as W
from smki_desktop.core.schedule import RateRules, in_processing_window
from smki_desktop.simulator import ca as CA
from smki_desktop.simulator import dual_control
from smki_desktop.simulator.state import SimState

MAX_CERTS_PER_DEVICE = 100


class HwModuleName(acore.Sequence):
    _fields: ClassVar[list[tuple[str, type]]] = [
        ("hw_type", acore.ObjectIdentifier), ("hw_serial_num", acore.OctetString)]


class CsrProblem(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _now(state: SimState) -> datetime:
    """The simulator's clock: real time plus an offset tests can move."""
    return datetime.now(UTC) + timedelta(seconds=float(state.meta("clock_offset", "0") or 0))


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _serial_hex(cert: x509.Certificate) -> str:
    return f"{cert.serial_number:032X}"


def log_submission(state: SimState, owner: str, kind: str, ref: str, outcome: str) -> None:
    state.conn().execute("INSERT INTO submissions(owner, kind, client_ref, outcome, at) "
                         "VALUES (?,?,?,?,?)", (owner, kind, ref, outcome,
                                                datetime.now(UTC).isoformat()))


# ------------------------------------------------------------------------------ CSR checks
def paste_to_der(text: str) -> bytes:
    """The portal's paste box: Base64 PKCS#10 with or without armour, any wrapping, LF/CRLF."""
    body = re.sub(r"-----(BEGIN|END) (NEW )?CERTIFICATE REQUEST-----", "", text)
    body = re.sub(r"\s+", "", body)
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise CsrProblem("CS:Format", "The pasted text is not Base64 PKCS#10.") from None


def _load_csr(der: bytes) -> x509.CertificateSigningRequest:
    try:
        csr = x509.load_der_x509_csr(der)
    except ValueError:
        raise CsrProblem("CS:Format", "Not a DER PKCS#10 request.") from None
    if not csr.is_signature_valid:
        raise CsrProblem("CS:BadSig", "The CSR's signature does not verify.")
    return csr


def _one_usage(csr: x509.CertificateSigningRequest) -> str:
    try:
        ext = csr.extensions.get_extension_for_class(x509.KeyUsage)
    except x509.ExtensionNotFound:
        raise CsrProblem("CS:NoKU", "The CSR requests no keyUsage.") from None
    ku = ext.value
    if not ext.critical:
        raise CsrProblem("CS:KUCrit", "keyUsage must be critical.")
    ds, ka = ku.digital_signature, ku.key_agreement
    if ds == ka or ku.key_cert_sign or ku.crl_sign or ku.key_encipherment:
        raise CsrProblem("CS:KUBits", "keyUsage must be exactly digitalSignature or keyAgreement.")
    return "DS" if ds else "KA"


def _p256(csr: x509.CertificateSigningRequest) -> None:
    key = csr.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve,
                                                                        ec.SECP256R1):
        raise CsrProblem("CS:KeyType", "The key must be EC P-256.")


def check_org_csr(der: bytes) -> tuple[x509.CertificateSigningRequest, str, str, str]:
    """-> (csr, subject EUI hex, role OU, usage DS|KA)."""
    csr = _load_csr(der)
    _p256(csr)
    usage = _one_usage(csr)
    ous = csr.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATIONAL_UNIT_NAME)
    uids = csr.subject.get_attributes_for_oid(CA.UNIQUE_ID)
    if len(ous) != 1 or not re.fullmatch(r"[0-9A-F]{2}", str(ous[0].value)):
        raise CsrProblem("CS:Role", "Subject OU must be one role code (two upper-case hex).")
    if len(uids) != 1 or uids[0]._type is not x509.name._ASN1Type.BitString:
        raise CsrProblem("CS:EUI", "Subject 2.5.4.45 must be the EUI-64 as a BIT STRING.")
    raw = uids[0].value
    if not isinstance(raw, bytes) or len(raw) != 9 or raw[0] != 0:
        raise CsrProblem("CS:EUI", "Subject 2.5.4.45 must be a BIT STRING of exactly 64 bits.")
    return csr, raw[1:].hex().upper(), str(ous[0].value), usage


def check_device_csr(der: bytes) -> tuple[x509.CertificateSigningRequest, str, str]:
    """-> (csr, device EUI hex, usage)."""
    csr = _load_csr(der)
    _p256(csr)
    usage = _one_usage(csr)
    if len(csr.subject):
        raise CsrProblem("CS:Subject", "A Device CSR has an empty subject.")
    try:
        ext = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        raise CsrProblem("CS:NoSAN", "A Device CSR needs a subjectAltName.") from None
    if not ext.critical:
        raise CsrProblem("CS:SANCrit", "The subjectAltName must be critical.")
    names = ext.value.get_values_for_type(x509.OtherName)
    if len(names) != 1 or names[0].type_id != CA.HW_MODULE_NAME:
        raise CsrProblem("CS:SAN", "The SAN must hold one hardwareModuleName.")
    try:
        hw = HwModuleName.load(names[0].value)
        serial = hw["hw_serial_num"].native
    except ValueError:
        raise CsrProblem("CS:SAN", "The hardwareModuleName does not decode.") from None
    if not isinstance(serial, bytes) or len(serial) != 8:
        raise CsrProblem("CS:DevID", "The Device ID must be 8 octets.")
    return csr, serial.hex().upper(), usage


def check_credential_csr(der: bytes, purpose: str) -> x509.CertificateSigningRequest:
    csr = _load_csr(der)
    key = csr.public_key()
    if purpose == "web-service":
        if not isinstance(key, rsa.RSAPublicKey) or key.key_size != 2048:
            raise CsrProblem("CR:KeyType", "A web-service client credential key is RSA-2048.")
        names = {a.oid for a in csr.subject}
        need = {x509.NameOID.ORGANIZATION_NAME, x509.NameOID.ORGANIZATIONAL_UNIT_NAME,
                x509.NameOID.COMMON_NAME}
        if not need <= names:
            raise CsrProblem("CR:Subject", "Subject must hold O, OU and CN (RAPP 5.4).")
    elif not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise CsrProblem("CR:KeyType", "A file-signing key is EC P-256 or RSA-2048.")
    return csr


# ------------------------------------------------------------------------------ store helpers
def _store_cert(state: SimState, cert: x509.Certificate, kind: str, *, owner: str,
                subject_eui: str | None = None, role: str | None = None,
                usage: str | None = None, device_eui: str | None = None) -> str:
    serial = _serial_hex(cert)
    state.conn().execute(
        "INSERT INTO certificates(serial, kind, der, subject_eui, role, usage, device_eui, status,"
        " issued_at, owner) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (serial, kind, _der(cert), subject_eui, role, usage, device_eui, "I",
         datetime.now(UTC).isoformat(), owner))
    return serial


def _replay(state: SimState, owner: str, kind: str, ref: str) -> bytes | None:
    r = state.conn().execute("SELECT body FROM replies WHERE owner=? AND kind=? AND client_ref=?",
                             (owner, kind, ref)).fetchone()
    return bytes(r["body"]) if r else None


def _save_reply(state: SimState, owner: str, kind: str, ref: str, body: bytes) -> None:
    state.conn().execute("INSERT INTO replies(owner, kind, client_ref, body, created) VALUES "
                         "(?,?,?,?,?)", (owner, kind, ref, body, datetime.now(UTC).isoformat()))


class Tx:
    """One IMMEDIATE transaction under the state's write lock."""

    def __init__(self, state: SimState) -> None:
        self.state = state

    def __enter__(self) -> SimState:
        self.state.write_lock.acquire()
        self.state.conn().execute("BEGIN IMMEDIATE")
        return self.state

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            self.state.conn().execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.state.write_lock.release()


# ------------------------------------------------------------------------------ operations
def submit_batch(state: SimState, owner: str, msg: W.SubmitCSRBatch) -> bytes:
    """AppM Appendix C: accept a batch -> SubmitCSRBatchStatus PENDING with its BatchId."""
    with Tx(state):
        row = state.conn().execute("SELECT batch_id, status FROM batches WHERE owner=? AND "
                                   "client_ref=?", (owner, msg.id)).fetchone()
        if row is not None:
            log_submission(state, owner, "batch", msg.id, "replay")
            return W.SubmitCSRBatchStatus("PENDING", str(row["batch_id"]), id=msg.id).build()
        cur = state.conn().execute(
            "INSERT INTO batches(owner, client_ref, submitted_at, status, csr_count) VALUES "
            "(?,?,?,?,?)", (owner, msg.id, _now(state).isoformat(), "PENDING", len(msg.csrs)))
        bid = int(cur.lastrowid or 0)
        state.conn().executemany(
            "INSERT INTO batch_items(batch_id, csr_id, csr) VALUES (?,?,?)",
            [(bid, cid, der) for cid, der in msg.csrs])
        log_submission(state, owner, "batch", msg.id, "new")
    return W.SubmitCSRBatchStatus("PENDING", str(bid), id=msg.id).build()


def batch_format_error(exc: W.XmlMessageError) -> bytes:
    """AppM Appendix C's answers to a SubmitCSRBatch that cannot be accepted: more than 50,000
    CSRs (FM:AA2) or a request that does not follow the schema (FM:AA1)."""
    if isinstance(exc, W.BatchTooLarge):
        return W.SubmitCSRBatchStatus("FORMAT_ERROR", error_code="FM:AA2",
                                      error_text="Number of submitted CSRs exceeds maximum "
                                                 "volume").build()
    return W.SubmitCSRBatchStatus("FORMAT_ERROR", error_code="FM:AA1",
                                  error_text=f"Invalid XML in request: {exc.message[:300]}"
                                  ).build()


def adhoc_format_error(exc: W.XmlMessageError) -> bytes:
    return W.DeviceCertificateSigningResponse(
        None, "FORMAT_ERROR", "FM:AA1", None, _transaction_id(),
        f"An XML format error: {exc.message[:300]}").build()


ERROR_TEXTS = {
    "CS:Format": "Not a DER PKCS#10 request", "CS:BadSig": "The CSR signature does not verify",
    "CS:NoKU": "The CSR requests no keyUsage", "CS:KUCrit": "keyUsage must be critical",
    "CS:KUBits": "keyUsage must be exactly digitalSignature or keyAgreement",
    "CS:KeyType": "The key must be EC P-256", "CS:NoSAN": "No hardwareModuleName",
    "CS:SAN": "Wrong subjectAltName", "CS:DevID": "Wrong Device ID",
    "CS:Subject": "The subject must be empty", "CS:HwType": "Unknown hwType",
    "CS:Profile": "Not the Device CSR profile",
    "DV:Max100": "100 Device Certificates already issued for this Device ID",
    "DV:NoCert": "No Device Certificate issued before for this Device ID",
}


def appm_error(status: str, code: str | None) -> tuple[str | None, str | None]:
    """The simulator's own reason codes as AppM's ErrorCode (the prefix AppM gives the status,
    at most 10 characters) and ErrorText."""
    if code is None:
        return None, None
    prefix = W.ERROR_PREFIX.get(status, code[:2])
    tail = code.split(":", 1)[-1][:7] or "0"
    return f"{prefix}:{tail}", ERROR_TEXTS.get(code, code)


def _transaction_id() -> str:
    return str(secrets.randbelow(10**9) + 1)


def _advance_batch(state: SimState, bid: int, process: bool = True) -> None:
    """Move a batch along PENDING -> QUEUED -> PROCESSING -> COMPLETED on the simulator clock
    (`batch_step` seconds a stage; QUEUED waits for the 20:00-08:00 window if asked). Issuing
    runs in chunks of its own transactions (a 50,000-CSR batch never holds the state for
    long, and a restart carries on with the items not yet done); with `process` False only
    the status moves (the server's poll answers at once while its worker issues)."""
    row = state.conn().execute("SELECT * FROM batches WHERE batch_id=?", (bid,)).fetchone()
    if row is None or row["status"] in ("COMPLETED", "REJECTED"):
        return
    step = float(state.meta("batch_step", "2") or 2)
    now = _now(state)
    elapsed = (now - datetime.fromisoformat(row["submitted_at"])).total_seconds()
    order = ["PENDING", "QUEUED", "PROCESSING", "COMPLETED"]
    status = "PENDING"
    if elapsed >= step:
        status = "QUEUED"
    window_ok = state.meta("respect_window", "0") != "1" or in_processing_window(RateRules(),
                                                                                  now)
    if elapsed >= 2 * step and window_ok:
        status = "PROCESSING"
    if elapsed >= 3 * step and window_ok:
        status = "COMPLETED" if process else "PROCESSING"
    if order.index(status) <= order.index(row["status"]):
        return
    if status == "COMPLETED":
        with Tx(state):
            state.conn().execute("UPDATE batches SET status='PROCESSING' WHERE batch_id=?",
                                 (bid,))
        while _process_chunk(state, bid, row["owner"], now):
            pass
    with Tx(state):
        state.conn().execute("UPDATE batches SET status=? WHERE batch_id=? AND status!="
                             "'COMPLETED'", (status, bid))


def _process_chunk(state: SimState, bid: int, owner: str, now: datetime,
                   size: int = 500) -> bool:
    """Issue up to `size` pending items of a batch in one transaction; False when none left."""
    with Tx(state):
        items = state.conn().execute(
            "SELECT csr_id, csr FROM batch_items WHERE batch_id=? AND status IS NULL LIMIT ?",
            (bid, size)).fetchall()
        for it in items:
            status, code, serial = _issue_device(state, bytes(it["csr"]), owner, now,
                                                 state.hierarchy)
            state.conn().execute("UPDATE batch_items SET status=?, error_code=?, serial=? "
                                 "WHERE batch_id=? AND csr_id=?",
                                 (status, code, serial, bid, it["csr_id"]))
    return bool(items)


def advance_open_batches(state: SimState) -> None:
    """The server's worker: move and issue every open batch."""
    for r in state.conn().execute("SELECT batch_id FROM batches WHERE status NOT IN "
                                  "('COMPLETED', 'REJECTED')").fetchall():
        _advance_batch(state, int(r["batch_id"]), process=True)


def _issue_device(state: SimState, der: bytes, owner: str, now: datetime,
                  h: CA.Hierarchy, *, replacing: bool = False
                  ) -> tuple[str, str | None, str | None]:
    """Check and issue one Device CSR. `replacing` (ad hoc, AppM 2.4.1.3 a): the device must
    already have a Device Certificate, else UNKNOWN_DEVICE."""
    try:
        csr, dev, usage = check_device_csr(der)
    except CsrProblem as p:
        return "CSR_ERROR", p.code, None
    n = state.conn().execute("SELECT COUNT(*) FROM certificates WHERE device_eui=?",
                             (dev,)).fetchone()[0]
    if replacing and n == 0:
        return "UNKNOWN_DEVICE", "DV:NoCert", None
    if n >= MAX_CERTS_PER_DEVICE:
        return "INELIGIBLE", "DV:Max100", None
    cert = CA.issue_device(h.device_ca, csr, now)
    serial = _store_cert(state, cert, "device", owner=owner, usage=usage, device_eui=dev)
    return "SUCCESS", None, serial


def batch_result(state: SimState, owner: str, batch_id: str, process: bool = True) -> bytes:
    """AppM Appendix D: the batch's status (and, COMPLETED, every DeviceCertificate); a BatchId
    that is not this client's or not a number -> FORMAT_ERROR FM:AA3 "Unknown BatchId"."""
    unknown = W.CSRBatchResult(None, "FORMAT_ERROR", error_code="FM:AA3",
                               error_text="Unknown BatchId").build()
    if not batch_id.isascii() or not batch_id.isdigit() or len(batch_id) > 18:
        return unknown
    bid = int(batch_id)
    row = state.conn().execute("SELECT * FROM batches WHERE batch_id=? AND owner=?",
                               (bid, owner)).fetchone()
    if row is None:
        return unknown
    _advance_batch(state, bid, process)
    row = state.conn().execute("SELECT * FROM batches WHERE batch_id=?", (bid,)).fetchone()
    if row["error_code"]:
        code, text = appm_error(row["status"], row["error_code"])
        return W.CSRBatchResult(None, row["status"], (), code, row["client_ref"], text).build()
    results: list[W.CsrResult] = []
    if row["status"] == "COMPLETED":
        for it in state.conn().execute(
                "SELECT i.csr_id, i.status, i.error_code, c.der FROM batch_items i LEFT JOIN "
                "certificates c ON c.serial = i.serial WHERE i.batch_id=? ORDER BY i.rowid",
                (bid,)):
            code, text = appm_error(it["status"], it["error_code"])
            if it["der"] is None and code is None:
                code, text = "CA:NoCert", "No certificate was issued"
            results.append(W.CsrResult(it["csr_id"], it["status"], code,
                                       bytes(it["der"]) if it["der"] is not None else None,
                                       text))
    return W.CSRBatchResult(str(bid), row["status"], tuple(results), None,
                            row["client_ref"]).build()


def adhoc(state: SimState, owner: str, msg: W.DeviceCertificateSigningRequest) -> bytes:
    """AppM Appendix A: one Device CSR, answered at once (a replay gets the first answer)."""
    with Tx(state):
        prior = _replay(state, owner, "adhoc", msg.id)
        if prior is not None:
            log_submission(state, owner, "adhoc", msg.id, "replay")
            return prior
        status, code, serial = _issue_device(state, msg.csr, owner, _now(state),
                                             state.hierarchy, replacing=True)
        if status == "CSR_ERROR" and code in ("CS:NoSAN", "CS:SAN", "CS:DevID"):
            status = "UNKNOWN_DEVICE"
        if status == "INELIGIBLE":  # not an ad hoc status in AppM: the RA must act [inferred]
            status = "ISSUANCE_ANOMALY"
        der = None
        if serial:
            der = bytes(state.conn().execute("SELECT der FROM certificates WHERE serial=?",
                                             (serial,)).fetchone()["der"])
        ecode, etext = appm_error(status, code)
        if der is None and ecode is None:
            ecode, etext = "CA:NoCert", "No certificate was issued"
        body = W.DeviceCertificateSigningResponse(msg.id, status, ecode, der,
                                                  _transaction_id(), etext).build()
        _save_reply(state, owner, "adhoc", msg.id, body)
        log_submission(state, owner, "adhoc", msg.id, "new")
    return body


def submit_org(state: SimState, owner: str, msg: WF.OrganisationCSRSubmission) -> bytes:
    with Tx(state):
        row = state.conn().execute("SELECT * FROM org_requests WHERE owner=? AND client_ref=?",
                                   (owner, msg.id)).fetchone()
        if row is not None:
            log_submission(state, owner, "org", msg.id, "replay")
            return _org_response(state, row)
        status, code, serial, der = "PENDING", None, None, None
        try:
            der = paste_to_der(msg.csr_text)
            check_org_csr(der)
        except CsrProblem as p:
            status, code = "REJECTED", p.code
        cur = state.conn().execute(
            "INSERT INTO org_requests(owner, client_ref, csr, status, error_code, serial, "
            "submitted_at) VALUES (?,?,?,?,?,?,?)",
            (owner, msg.id, der, status, code, serial, _now(state).isoformat()))
        log_submission(state, owner, "org", msg.id, "new")
        row = state.conn().execute("SELECT * FROM org_requests WHERE request_id=?",
                                   (cur.lastrowid,)).fetchone()
        return _org_response(state, row)


def _org_response(state: SimState, row: object) -> bytes:
    r = row  # sqlite3.Row
    cert = None
    if r["serial"]:  # type: ignore[index]
        cert = bytes(state.conn().execute("SELECT der FROM certificates WHERE serial=?",
                                          (r["serial"],)).fetchone()["der"])  # type: ignore
    return WF.OrganisationCSRResponse(r["client_ref"], str(r["request_id"]),  # type: ignore
                                     r["status"], r["error_code"], cert).build()  # type: ignore


def org_status(state: SimState, owner: str, request_id: str) -> bytes:
    if not request_id.isdigit():
        return W.ErrorResponse("OR:BadId", "RequestId must be a number.").build()
    with Tx(state):
        row = state.conn().execute("SELECT * FROM org_requests WHERE request_id=? AND owner=?",
                                   (int(request_id), owner)).fetchone()
        if row is None:
            return W.ErrorResponse("OR:Unknown", f"No request {request_id}.").build()
        step = float(state.meta("batch_step", "2") or 2)
        elapsed = (_now(state) - datetime.fromisoformat(row["submitted_at"])).total_seconds()
        if row["status"] == "PENDING" and elapsed >= step:
            csr, eui, role, usage = check_org_csr(bytes(row["csr"]))
            cert = CA.issue_organisation(state.hierarchy.org_ca, csr, _now(state))
            serial = _store_cert(state, cert, "organisation", owner=owner, subject_eui=eui,
                                 role=role, usage=usage)
            state.conn().execute("UPDATE org_requests SET status='COMPLETED', serial=? WHERE "
                                 "request_id=?", (serial, row["request_id"]))
            row = state.conn().execute("SELECT * FROM org_requests WHERE request_id=?",
                                       (row["request_id"],)).fetchone()
        return _org_response(state, row)


def revoke(state: SimState, owner: str, msg: WF.RevocationRequest) -> bytes:
    with Tx(state):
        prior = _replay(state, owner, "revoke", msg.id)
        if prior is not None:
            log_submission(state, owner, "revoke", msg.id, "replay")
            return prior
        # one person's unsigned request revokes nothing: revocation goes through
        # /portal/revocation/signed with the ARO's request and an SRO's approval (dual_control)
        body = WF.RevocationResponse(msg.id, "REJECTED", "RV:Unsigned").build()
        _save_reply(state, owner, "revoke", msg.id, body)
        log_submission(state, owner, "revoke", msg.id, "new")
    return body


def crl(state: SimState) -> bytes:
    rows = state.conn().execute("SELECT serial, revoked_at FROM certificates WHERE status='R' "
                                "AND kind='organisation'").fetchall()
    n = state.conn().execute("SELECT COALESCE(MAX(n), 0) FROM crl_numbers").fetchone()[0]
    revoked = [(int(r["serial"], 16), datetime.fromisoformat(r["revoked_at"])) for r in rows]
    return CA.build_crl(state.hierarchy.org_ca, revoked, _now(state), int(n) + 1).public_bytes(
        serialization.Encoding.DER)


def enrol(state: SimState, msg: WF.CredentialRequest) -> bytes:
    """RAPP 5.4 enrolment: issue a credential for a CSR (the token proved the requester)."""
    with Tx(state):
        owner = "enrolment"
        prior = _replay(state, owner, "enrol", msg.id)
        if prior is not None:
            log_submission(state, owner, "enrol", msg.id, "replay")
            return prior
        try:
            csr = check_credential_csr(msg.csr, msg.purpose)
            if msg.purpose == "file-signing":
                problem = dual_control.file_signing_problem(state, csr)
                if problem:
                    raise CsrProblem("CR:Officer", problem)
        except CsrProblem as p:
            body = WF.CredentialResponse(msg.id, "REJECTED", p.code).build()
        else:
            cert = CA.issue_credential(state.hierarchy.iki_ca, csr, msg.purpose, _now(state))
            _store_cert(state, cert, f"credential:{msg.purpose}",
                        owner=cert.subject.rfc4514_string())
            api_key = None
            if msg.purpose == "web-service":
                api_key = secrets.token_urlsafe(32)
                state.conn().execute("INSERT INTO api_keys(key, owner, created) VALUES (?,?,?)",
                                     (api_key, cert.subject.rfc4514_string(),
                                      datetime.now(UTC).isoformat()))
            chain = tuple(_der(e.certificate) for e in state.hierarchy.entries())
            body = WF.CredentialResponse(msg.id, "COMPLETED", None, _der(cert), chain,
                                        api_key).build()
        _save_reply(state, owner, "enrol", msg.id, body)
        log_submission(state, owner, "enrol", msg.id, "new")
    return body


def _repo_record(state: SimState, r: sqlite3.Row, with_body: bool) -> W.RepositoryRecord:
    """A repository row as the DCC's repository shows it: the status it really has now
    (R revoked, E expired, else I in use), decimal role for Organisation certificates."""
    der = bytes(r["der"])
    status = r["status"]
    if status != "R":
        cert = x509.load_der_x509_certificate(der)
        if cert.not_valid_after_utc < _now(state):
            status = "E"
    org = r["kind"] == "organisation"
    return W.RepositoryRecord(
        r["serial"], status, r["usage"] or "DS",
        W.eui_text(r["subject_eui"]) if org and r["subject_eui"] else None,
        W.eui_text(r["device_eui"]) if not org and r["device_eui"] else None,
        W.role_to_repo(r["role"]) if org and r["role"] else None, False,
        der if with_body else None)


def search(state: SimState, req: W.CertificateSearchRequest) -> bytes | None:
    """certificatesearch: every Organisation certificate of a subject EUI, or every Device
    certificate of a device EUI; None (HTTP 402) when there is none."""
    if req.subject_name is not None:
        sql = "SELECT * FROM certificates WHERE kind='organisation' AND subject_eui=?"
        key = req.subject_name.replace("-", "")
    else:
        sql = "SELECT * FROM certificates WHERE kind='device' AND device_eui=?"
        key = (req.subject_alt_name or "").replace("-", "")
    rows = state.conn().execute(sql + " ORDER BY issued_at LIMIT 1000", (key,)).fetchall()
    if not rows:
        return None
    return W.CertificateSearchResponse(tuple(_repo_record(state, r, False) for r in rows),
                                       audit_reference=_audit_reference()).build()


def retrieve(state: SimState, req: W.CertificateDataRequest) -> bytes | None:
    """retrievecertificate: one certificate by serial, with its body; None (402) if unknown."""
    row = state.conn().execute(
        "SELECT * FROM certificates WHERE kind IN ('organisation', 'device') AND serial=?",
        (f"{int(req.serial, 16):032X}",)).fetchone()
    if row is None:
        return None
    return W.CertificateDataResponse(_repo_record(state, row, True),
                                     audit_reference=_audit_reference()).build()


def _audit_reference() -> str:
    return f"{int(datetime.now(UTC).timestamp())}-{secrets.token_hex(5)}"
