"""The DCC web-service adapter: `PortalService` and `Repository` over HTTP(S) (httpx).

- Portal calls use mutual TLS: the RSA-2048 client key is handed to `ssl` as its encrypted
  PKCS#8 PEM file plus password (from the key store), never written in clear.
- The server is verified against the environment's pinned trust anchor only (no system CAs).
- URLs: the configured portal address is a base; the batched Device CSR web service is at
  Appendix M's `{base}/1.0/PortalCSRBatch/SubmitCSRBatch` and `.../CSRBatchResult?BatchId=N`;
  the ad hoc one at a path the SMKI User Guide gives (a setting, `ADHOC_PATH` by default).
- The repository is called as DCC Boxed serves it and the DCC's own client calls it:
  `POST {base}/services/certificatesearch?apikey=KEY`, then `.../retrievecertificate` for each
  certificate; 402 means nothing found, 401 an invalid request. The API key never appears in a
  message or a log line (`redact`; the httpx logger is filtered).
- Every call has a TOTAL deadline (not only httpx's per-read timeout): a watchdog shuts the
  socket when it passes, so a server that drips one byte at a time ends in "timed out" (on a
  new connection or a reused keep-alive one alike).
- Answers are read with a size cap and parsed by `core.ws_xml`; failures become the typed
  errors of `core.portal_ports`. Idempotent calls (they all carry a client reference) are
  retried a few times on transient failures inside the same deadline, except the rate-limited
  ones (ad hoc Device CSRs, batch polls): those make one attempt per admission by the
  `Scheduler`, and a failure goes back to the outbox, which retries through the scheduler.
- A 429's Retry-After (seconds or an HTTP date) is reckoned on the injected clock and clamped
  to a day; garbage gets the default.

The transport itself (TLS, the deadline, retries, the mapping of failures) is `portal.ws_http`.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop.core import ws_forms as WF
from smki_desktop.core import ws_xml as W
from smki_desktop.core.errors import InputError, SmkiError
from smki_desktop.core.portal_ports import (
    BatchState,
    IssuedCredential,
    IssuedItem,
    MalformedAnswer,
    OrgRequestState,
    ProtocolFault,
    Rejected,
    RepoEntry,
    Submitted,
)
from smki_desktop.core.ports import Clock
from smki_desktop.core.schedule import Scheduler
from smki_desktop.crypto.fields import extract_fields
from smki_desktop.portal.endpoint_types import ClientTls as ClientTls
from smki_desktop.portal.endpoint_types import Endpoint as Endpoint
from smki_desktop.portal.ws_http import (
    DEFAULT_DEADLINE,
    _Deadline,
    _Http,
    _parse,
    ssl_context,
)
from smki_desktop.portal.ws_http import (
    retry_after_seconds as retry_after_seconds,  # its callers import it from here
)

T = TypeVar("T")

BATCH_SUBMIT_PATH = W.BATCH_SUBMIT_PATH
BATCH_RESULT_PATH = W.BATCH_RESULT_PATH
ADHOC_PATH = W.ADHOC_PATH
REPO_SEARCH_PATH = W.REPO_SEARCH_PATH
REPO_RETRIEVE_PATH = W.REPO_RETRIEVE_PATH
REPO_CRL_PATH = "/repository/crl"  # ours: the DCC's repository interface gives no CRL call
class WsPortal:
    """`PortalService` over the DCC web services and the (emulated) portal forms."""

    def __init__(self, endpoint: Endpoint, tls: ClientTls | None, *,
                 scheduler: Scheduler | None = None, timeout: float = 30.0, retries: int = 2,
                 backoff: float = 0.3, max_response: int = W.MAX_MESSAGE_BYTES,
                 clock: Clock | None = None, deadline: float = DEFAULT_DEADLINE,
                 adhoc_path: str = ADHOC_PATH) -> None:
        self.endpoint = endpoint
        self.scheduler = scheduler
        self.adhoc_path = "/" + adhoc_path.strip().lstrip("/")
        if clock is None and scheduler is not None:
            clock = scheduler.clock
        self.http = _Http(endpoint.portal_url, ssl_context(endpoint.trust_anchor_pem, tls),
                          timeout=timeout, retries=retries, backoff=backoff,
                          max_response=max_response, clock=clock, deadline=deadline)

    def close(self) -> None:
        self.http.close()

    def submit_org_csr(self, client_ref: str, csr_der: bytes) -> OrgRequestState:
        text = base64.b64encode(csr_der).decode()
        body = WF.OrganisationCSRSubmission(client_ref, text).build()
        r = self.http.request("POST", "/portal/organisation-csr", body, None,
                              WF.OrganisationCSRResponse.parse, "Organisation CSR")
        return OrgRequestState(client_ref, r.request_id, r.status, r.error_code, r.certificate)

    def fetch_org_result(self, client_ref: str, request_id: str) -> OrgRequestState:
        r = self.http.request("GET", "/portal/organisation-csr", None, None,
                              WF.OrganisationCSRResponse.parse,
                              "Organisation CSR status request",
                              params={"RequestId": request_id})
        return OrgRequestState(client_ref, r.request_id, r.status, r.error_code, r.certificate)

    def submit_device_csr(self, client_ref: str, csr_der: bytes) -> IssuedItem:
        """AppM Appendix A: one Device CSR, answered synchronously. A FORMAT_ERROR answer (the
        DCC could not read our request) is a rejection; any other status is the item's."""
        if self.scheduler is not None:
            self.scheduler.admit_adhoc()
        body = W.DeviceCertificateSigningRequest(client_ref, csr_der).build()
        # one attempt per admission: a retry here would break the 1 per 0.8 s / 4 s rule
        r = self.http.request("POST", self.adhoc_path, body, None,
                              W.DeviceCertificateSigningResponse.parse, "ad hoc Device CSR",
                              retry=False)
        if r.id is not None and r.id != client_ref:
            raise MalformedAnswer(f"The answer to ad hoc request {client_ref} is for "
                                  f"{r.id[:80]!r}.")
        if r.certificate is not None:
            _same_key(r.certificate, csr_der, f"ad hoc request {client_ref}")
        return IssuedItem(client_ref, r.status, r.error_code, r.certificate, r.error_text)

    def submit_device_batch(self, client_ref: str, csrs: list[tuple[str, bytes]]) -> Submitted:
        """AppM Appendix C: PENDING with a BatchId; FORMAT_ERROR (bad XML, more than 50,000
        CSRs) and WORKFLOW_ERROR are rejections naming the DCC's code and text."""
        body = W.SubmitCSRBatch(client_ref, tuple(csrs)).build()
        r = self.http.request("POST", BATCH_SUBMIT_PATH, body, None,
                              W.SubmitCSRBatchStatus.parse, "CSR batch")
        if r.status != "PENDING" or r.batch_id is None:
            raise Rejected(f"The DCC refused the batch: {r.status} {r.error_code or ''} "
                           f"{r.error_text or ''}".strip(), r.error_code or "XX:Unknown")
        if r.id is not None and r.id != client_ref:
            raise MalformedAnswer(f"The answer to batch {client_ref} is for "
                                  f"{r.id[:80]!r}.")
        return Submitted(client_ref, r.batch_id, r.status)

    def poll_batch(self, batch_id: str, *, sent: dict[str, bytes] | None = None,
                   client_ref: str | None = None) -> BatchState:
        """AppM Appendix D. Still running: its BatchStatus; COMPLETED: every DeviceCertificate;
        an unknown BatchId or another error: BatchStatus FORMAT_ERROR / WORKFLOW_ERROR with the
        DCC's code and text (a final state). Given the batch's own reference and the CSRs
        sent (DeviceCSR ID -> DER), the answer is checked against them (`check_batch_answer`)."""
        if self.scheduler is not None:
            self.scheduler.admit_poll(batch_id)
        # one attempt per admission: a retry here would be a second poll inside the hour
        r = self.http.request("GET", BATCH_RESULT_PATH, None, None, W.CSRBatchResult.parse,
                              "batch poll", retry=False, params={"BatchId": batch_id})
        if r.batch_id is not None and batch_id.isdigit() and r.batch_id != str(int(batch_id)):
            raise MalformedAnswer(f"The answer to the poll of batch {batch_id} is for batch "
                                  f"{r.batch_id}.")
        if client_ref is not None and r.id is not None and r.id != client_ref:
            raise MalformedAnswer(f"The answer to the poll of batch {batch_id} is for batch "
                                  f"reference {r.id[:80]!r}, not ours ({client_ref}).")
        items = tuple(IssuedItem(i.csr_id, i.status, i.error_code, i.certificate, i.error_text)
                      for i in r.results)
        if sent is not None:
            check_batch_answer(batch_id, r.status, items, sent)
        return BatchState(r.batch_id or batch_id, r.status, items, r.error_code, r.error_text)

    def request_revocation(self, client_ref: str, serial_hex: str, reason: str = "") -> str:
        body = WF.RevocationRequest(client_ref, serial_hex, reason or None).build()
        r = self.http.request("POST", "/portal/revocation", body, None,
                              WF.RevocationResponse.parse, "revocation request")
        if r.status != "COMPLETED":
            raise Rejected(f"The DCC refused to revoke serial {serial_hex}: {r.error_code}.",
                           r.error_code or "XX:Unknown")
        return r.status

    def fetch_org_crl(self) -> bytes:
        return self.http.request("GET", "/portal/crl", None, None, _crl_bytes, "CRL download")

    def upload_batch_zip(self, client_ref: str, zip_bytes: bytes) -> str:
        """The browser portal's batch upload (as the simulator emulates it) -> request id."""

        def rid(data: bytes) -> str:
            try:
                return str(json.loads(data)["request_id"])
            except (ValueError, KeyError, TypeError) as exc:
                raise W.XmlMessageError(f"no request id ({exc})") from None

        return self.http.request("POST", "/portal/batch-upload", zip_bytes,
                                 {"X-Client-Reference": client_ref,
                                  "Content-Type": "application/zip"}, rid, "batch upload",
                                 queued=False)

    def upload_adt_package(self, name: str, data: bytes) -> str:
        """The secure channel for signed ADT packages (as the simulator emulates it)."""

        def ref(body: bytes) -> str:
            try:
                return str(json.loads(body)["reference"])
            except (ValueError, KeyError, TypeError) as exc:
                raise W.XmlMessageError(f"no reference ({exc})") from None

        return self.http.request("POST", "/portal/adt-upload", data,
                                 {"X-File-Name": name, "Content-Type": "application/zip"},
                                 ref, "ADT package upload", queued=False)

    def fetch_batch_response(self, request_id: str) -> tuple[bytes, bytes]:
        """(the `.txt` report, the `<request>-response` zip) of a portal batch upload."""
        report = self.http.request("GET", "/portal/batch-response", None, None, lambda d: d,
                                   "batch report",
                                   params={"RequestId": request_id, "part": "report"})
        zipped = self.http.request("GET", "/portal/batch-response", None, None, lambda d: d,
                                   "batch response zip",
                                   params={"RequestId": request_id, "part": "zip"})
        return report, zipped

    def request_credential(self, client_ref: str, purpose: str,
                           csr_der: bytes) -> IssuedCredential:
        raise Rejected("Credentials are requested through enrolment (RAPP 5.4), not the "
                       "web service.", "CR:Channel")


def _public_key(der: bytes, csr: bool) -> bytes:
    obj = x509.load_der_x509_csr(der) if csr else x509.load_der_x509_certificate(der)
    return obj.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def _same_key(cert_der: bytes, csr_der: bytes, what: str) -> None:
    """AppM 2.5.1.5 / SEC L11.6: the certificate must be the one the CSR asked for: at least
    its key is the CSR's (the full acceptance check follows when it is filed)."""
    try:
        cert_key = _public_key(cert_der, csr=False)
    except ValueError as exc:
        raise MalformedAnswer(f"The certificate for {what} is not an X.509 certificate "
                              f"({str(exc)[:160]}).") from None
    try:
        csr_key = _public_key(csr_der, csr=True)
    except ValueError as exc:  # our own CSR: should not happen
        raise InputError(f"The CSR sent for {what} cannot be read ({exc}).") from None
    if cert_key != csr_key:
        raise MalformedAnswer(f"The certificate for {what} does not carry the key of the CSR "
                              "sent with that ID: the DCC's answer is not consistent with our "
                              "request (report it to the Service Desk, SEC L11.6).")


def check_batch_answer(batch_id: str, status: str, items: tuple[IssuedItem, ...],
                       sent: dict[str, bytes]) -> None:
    """A CSRBatchResult against the batch we sent: every DeviceCertificate ID is one of our
    DeviceCSR IDs, each certificate carries the key of the CSR sent with its ID, and a
    COMPLETED batch answers every CSR (AppM Appendix D: "for all Device CSRs")."""
    for it in items:
        if it.item_id not in sent:
            raise MalformedAnswer(f"The result of batch {batch_id} has DeviceCertificate ID "
                                  f"{it.item_id!r}, which we never sent in that batch.")
        if it.certificate_der is not None:
            _same_key(it.certificate_der, sent[it.item_id],
                      f"DeviceCertificate {it.item_id} of batch {batch_id}")
    if status == "COMPLETED":
        answered = {i.item_id for i in items}
        missing = [cid for cid in sent if cid not in answered]
        if missing:
            raise MalformedAnswer(f"Batch {batch_id} is COMPLETED but {len(missing)} of our "
                                  f"CSRs have no result (first: {missing[0]}).")


def _crl_bytes(data: bytes) -> bytes:
    if not data.startswith(b"\x30"):
        raise W.XmlMessageError("The CRL is not DER (it does not start with a SEQUENCE).")
    return data


class RepositoryInputError(InputError):
    """The repository answered 401: it found the request invalid."""


MAX_REPOSITORY_RESULTS = 1000  # certificates retrieved for one search


class WsRepository:
    """`Repository` over the SMKI Repository interface as DCC Boxed serves it: search, then
    retrieve each certificate found. Server-authenticated TLS (or plain HTTP to a DCC Boxed on
    a Test network: the service allows that in Test only, with a warning); the API key goes in
    the `apikey` query parameter and nowhere else."""

    def __init__(self, endpoint: Endpoint, api_key: str, *, timeout: float = 30.0,
                 retries: int = 2, backoff: float = 0.3,
                 max_response: int = W.MAX_MESSAGE_BYTES, clock: Clock | None = None,
                 deadline: float = DEFAULT_DEADLINE) -> None:
        self.api_key = api_key
        self.http = _Http(endpoint.repository_url, ssl_context(endpoint.trust_anchor_pem, None),
                          timeout=timeout, retries=retries, backoff=backoff,
                          max_response=max_response, clock=clock, deadline=deadline)

    def close(self) -> None:
        self.http.close()

    def _post(self, path: str, body: bytes, what: str,
              dl: _Deadline | None = None) -> bytes | None:
        try:
            return self._post_once(path, body, what, dl)
        except SmkiError as exc:
            raise self._scrubbed(exc) from None

    def _scrubbed(self, exc: SmkiError) -> SmkiError:
        """The other side may echo our key anywhere in an answer we quote: never show it."""
        if self.api_key and self.api_key in exc.message:
            exc.message = exc.message.replace(self.api_key, "***")
            exc.args = (exc.message, *exc.args[1:])
        return exc

    def _post_once(self, path: str, body: bytes, what: str,
                   dl: _Deadline | None) -> bytes | None:
        if dl is not None and dl.remaining() <= 0:
            raise dl.error(f"The repository {what}")
        status, data = self.http.status("POST", path, body, None, {"apikey": self.api_key},
                                        dl=dl)
        if status == 402:
            return None  # no certificate
        if status == 401:
            raise RepositoryInputError(f"The repository found the {what} invalid (HTTP 401): "
                                       "check the EUI or serial.")
        if status != 200:
            raise ProtocolFault(f"The repository answered the {what} with HTTP {status}.")
        return data

    def _retrieve(self, serial: str, want: _Want | None = None,
                  dl: _Deadline | None = None) -> RepoEntry | None:
        data = self._post(REPO_RETRIEVE_PATH, W.CertificateDataRequest(serial).build(),
                          "certificate retrieval", dl)
        if data is None:
            return None
        r = _parse(W.CertificateDataResponse.parse, data, "certificate retrieval").result
        if r is None or r.body is None:
            return None
        if int(r.serial, 16) != int(serial, 16):
            raise MalformedAnswer(f"The repository answered a retrieval of certificate "
                                  f"{serial} with certificate {r.serial}: we asked for "
                                  f"{serial}.")
        if want is not None:
            want.check(r)
        _check_body(r, r.body)
        return _entry(r, r.body)

    def search(self, *, subject_eui: str | None = None, role: str | None = None,
               device_eui: str | None = None) -> list[RepoEntry]:
        """By Organisation EUI (optionally one role, OU form '02'), or by device EUI."""
        try:
            return self._search(subject_eui, role, device_eui)
        except SmkiError as exc:
            raise self._scrubbed(exc) from None

    def _search(self, subject_eui: str | None, role: str | None,
                device_eui: str | None) -> list[RepoEntry]:
        if subject_eui:
            req = W.CertificateSearchRequest(subject_name=W.eui_text(subject_eui))
        elif device_eui:
            req = W.CertificateSearchRequest(subject_alt_name=W.eui_text(device_eui))
        else:
            raise InputError("A repository search needs a subject EUI or a device EUI.")
        dl = _Deadline(self.http.deadline)  # the search and its retrievals: one deadline
        data = self._post(REPO_SEARCH_PATH, req.build(), "certificate search", dl)
        if data is None:
            return []
        found = _parse(W.CertificateSearchResponse.parse, data, "certificate search").results
        want_role = W.role_to_repo(role) if role else None
        out: list[RepoEntry] = []
        want = _Want(req.subject_name, req.subject_alt_name)
        for rec in found[:MAX_REPOSITORY_RESULTS]:
            want.check(rec)
        for rec in found[:MAX_REPOSITORY_RESULTS]:
            if want_role is not None and rec.role != want_role:
                continue
            got = self._retrieve(rec.serial, want, dl)
            if got is not None:
                out.append(got)
        return out

    def fetch(self, serial_hex: str) -> RepoEntry | None:
        try:
            return self._retrieve(serial_hex)
        except SmkiError as exc:
            raise self._scrubbed(exc) from None

    def download_crl(self) -> bytes:
        # our own call (see docs/portal.md): the DCC's repository interface has none
        try:
            return self.http.request("GET", REPO_CRL_PATH, None, {"X-API-Key": self.api_key},
                                     _crl_bytes, "CRL download")
        except SmkiError as exc:
            raise self._scrubbed(exc) from None


@dataclass(frozen=True)
class _Want:
    """What a search asked for: every certificate in its answer must be of that subject (an
    Organisation EUI) or that device, never another one's."""

    subject_name: str | None
    subject_alt_name: str | None

    def check(self, r: W.RepositoryRecord) -> None:
        asked = (f"Organisation {self.subject_name}" if self.subject_name
                 else f"device {self.subject_alt_name}")
        got = (f"Organisation {r.subject_name}" if r.subject_name
               else f"device {r.subject_alt_name}")
        if (r.subject_name, r.subject_alt_name) != (self.subject_name, self.subject_alt_name):
            raise MalformedAnswer(f"The repository answered a search for {asked} with "
                                  f"certificate {r.serial} of {got}.")


def _check_body(r: W.RepositoryRecord, der: bytes) -> None:
    """The CertificateBody is an X.509 certificate whose serial and EUI are the record's."""
    try:
        cert = x509.load_der_x509_certificate(der)
        serial = cert.serial_number
        f = extract_fields(der, f"CertificateBody of {r.serial}")
    except (ValueError, InputError) as exc:
        text = exc.message if isinstance(exc, InputError) else str(exc)
        raise MalformedAnswer(f"The repository's CertificateBody of {r.serial} is not an "
                              f"X.509 certificate ({text[:160]}).") from None
    if serial != int(r.serial, 16):
        raise MalformedAnswer(f"The repository's record {r.serial} carries a certificate with "
                              f"serial {serial:X}.")
    name = r.subject_name.replace("-", "") if r.subject_name else None
    alt = r.subject_alt_name.replace("-", "") if r.subject_alt_name else None
    eui = f.eui.hex.upper() if f.eui is not None else None
    dev = f.device_eui.hex.upper() if f.device_eui is not None else None
    if (name is not None and eui != name) or (alt is not None and dev != alt):
        raise MalformedAnswer(f"The repository's record {r.serial} is for "
                              f"{r.subject_name or r.subject_alt_name}, but its certificate is "
                              f"for {eui or dev or 'no EUI'}.")


def _entry(r: W.RepositoryRecord, der: bytes) -> RepoEntry:
    extra = {}
    if r.manufacturing_flag is not None:
        extra["manufacturing_flag"] = "true" if r.manufacturing_flag else "false"
    return RepoEntry(r.serial, r.status, der,
                     W.role_from_repo(r.role) if r.role is not None else None, r.usage,
                     r.subject_name.replace("-", "") if r.subject_name else None,
                     r.subject_alt_name.replace("-", "") if r.subject_alt_name else None,
                     extra)


def enrol(endpoint: Endpoint, token: str, req: WF.CredentialRequest, *,
          timeout: float = 30.0) -> IssuedCredential:
    """RAPP 5.4 enrolment at the (simulated) DCC: send a credential CSR, get the certificate."""
    http = _Http(endpoint.repository_url, ssl_context(endpoint.trust_anchor_pem, None),
                 timeout=timeout, retries=2, backoff=0.3, max_response=1024 * 1024)
    try:
        r = http.request("POST", "/enrol/credential", req.build(),
                         {"X-Enrolment-Token": token}, WF.CredentialResponse.parse,
                         "credential request", queued=False)
    finally:
        http.close()
    if r.status != "COMPLETED" or r.certificate is None:
        raise Rejected(f"The credential request was refused: {r.error_code}.",
                       r.error_code or "XX:Unknown")
    return IssuedCredential(r.certificate, r.ca_certificates, r.api_key)
