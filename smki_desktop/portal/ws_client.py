"""The DCC web-service adapter: `PortalService` and `Repository` over HTTPS (httpx).

- Portal calls use mutual TLS: the RSA-2048 client key is handed to `ssl` as its encrypted
  PKCS#8 PEM file plus password (from the key store), never written in clear.
- The server is verified against the environment's pinned trust anchor only (no system CAs).
- The repository authenticates with an API key header, over server-authenticated TLS.
- Every call has a timeout; answers are read with a size cap and parsed by `core.ws_xml`;
  failures become the typed errors of `core.portal_ports`. Idempotent calls (they all carry a
  client reference) are retried a few times on transient failures, except the rate-limited
  ones (ad hoc Device CSRs, batch polls): those make one attempt per admission by the
  `Scheduler`, and a failure goes back to the outbox, which retries through the scheduler.
- Rate rules are applied by the injected `Scheduler` before the call goes out; a 429's retry
  time is reckoned on the injected clock.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import httpx

from smki_desktop.core import ws_xml as W
from smki_desktop.core.portal_ports import (
    AuthenticationFailed,
    BatchState,
    IssuedCredential,
    IssuedItem,
    OrgRequestState,
    PortalError,
    ProtocolFault,
    Rejected,
    RepoEntry,
    Submitted,
    Throttled,
    Unreachable,
)
from smki_desktop.core.ports import Clock
from smki_desktop.core.schedule import Scheduler

T = TypeVar("T")


@dataclass(frozen=True)
class ClientTls:
    """Mutual-TLS material: the client certificate (PEM file) and the encrypted key file."""

    cert_path: Path
    key_path: Path
    password: str


@dataclass(frozen=True)
class Endpoint:
    portal_url: str
    repository_url: str
    trust_anchor_pem: bytes


def ssl_context(anchor_pem: bytes, tls: ClientTls | None) -> ssl.SSLContext:
    try:
        ctx = ssl.create_default_context(cadata=anchor_pem.decode("ascii"))
    except (ssl.SSLError, ValueError) as exc:
        raise AuthenticationFailed(f"The configured trust anchor is not a usable certificate: "
                                   f"{exc}.") from None
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if tls is not None:
        try:
            ctx.load_cert_chain(str(tls.cert_path), str(tls.key_path), password=tls.password)
        except (ssl.SSLError, OSError) as exc:
            raise AuthenticationFailed(f"The web-service client credential cannot be loaded "
                                       f"({tls.cert_path.name}): {exc}.") from None
    return ctx


def _chain_text(exc: BaseException) -> str:
    parts: list[str] = []
    e: BaseException | None = exc
    while e is not None and len(parts) < 6:
        parts.append(f"{type(e).__name__}: {e}")
        e = e.__cause__ or e.__context__
    return " | ".join(parts)


def _map_transport(exc: httpx.TransportError, url: str) -> PortalError:
    text = _chain_text(exc)
    low = text.lower()
    if "certificate_verify_failed" in low or "certificate verify failed" in low:
        return AuthenticationFailed(
            f"The server at {url} is not trusted: its certificate does not chain to this "
            "environment's pinned trust anchor.")
    if "alert" in low and ("certificate" in low or "unknown ca" in low or "handshake" in low):
        return AuthenticationFailed(f"The server at {url} refused our client certificate "
                                    f"({text.split(' | ')[0]}).")
    if isinstance(exc, httpx.TimeoutException):
        return Unreachable(f"No answer from {url} in time ({type(exc).__name__}).")
    return Unreachable(f"Cannot reach {url}: {text.split(' | ')[0]}.")


class _Http:
    def __init__(self, base_url: str, ctx: ssl.SSLContext, *, timeout: float, retries: int,
                 backoff: float, max_response: int, clock: Clock | None = None) -> None:
        self.base = base_url.rstrip("/")
        self.clock = clock
        self.client = httpx.Client(verify=ctx, timeout=timeout, http2=False)
        self.retries = retries
        self.backoff = backoff
        self.max_response = max_response

    def close(self) -> None:
        self.client.close()

    def _once(self, method: str, path: str, body: bytes | None,
              headers: dict[str, str]) -> tuple[int, bytes, str]:
        url = self.base + path
        try:
            with self.client.stream(method, url, content=body, headers=headers) as resp:
                declared = resp.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > self.max_response:
                    raise ProtocolFault(f"The answer from {url} declares {int(declared):,} "
                                        f"bytes, over the limit of {self.max_response:,}.")
                buf = bytearray()
                for chunk in resp.iter_bytes():
                    buf += chunk
                    if len(buf) > self.max_response:
                        raise ProtocolFault(f"The answer from {url} exceeds "
                                            f"{self.max_response:,} bytes.")
                return resp.status_code, bytes(buf), resp.headers.get("Retry-After", "")
        except httpx.TransportError as exc:
            raise _map_transport(exc, url) from None

    def request(self, method: str, path: str, body: bytes | None,
                headers: dict[str, str] | None, parse: Callable[[bytes], T], what: str,
                *, retry: bool = True) -> T:
        """One call, retried on transient failures (the request is idempotent), answered by
        `parse` (a malformed answer is retried too). With `retry` False the call is made once:
        rate-limited calls are retried by the outbox, each attempt admitted by the scheduler."""
        hdrs = {"Content-Type": "application/xml", **(headers or {})}
        attempt = 0
        while True:
            try:
                status, data, retry_after = self._once(method, path, body, hdrs)
                if status >= 500:
                    raise Unreachable(f"{self.base}{path} answered HTTP {status} "
                                      f"({_error_text(data)}).")
                if status == 429:
                    secs = int(retry_after) if retry_after.isdigit() else 60
                    now = self.clock.now() if self.clock is not None else datetime.now(UTC)
                    raise Throttled(f"{self.base}{path} asks us to wait {secs} s.",
                                    now + timedelta(seconds=secs))
                if status in (401, 403):
                    raise AuthenticationFailed(f"{self.base}{path} refused our credentials "
                                               f"(HTTP {status}: {_error_text(data)}).")
                if status >= 400:
                    code, msg = _error_parts(data)
                    raise Rejected(f"The DCC rejected the request: {code} {msg}".strip(), code)
                return _parse(parse, data, what)
            except (Unreachable, ProtocolFault) as exc:
                attempt += 1
                if not retry or attempt > self.retries:
                    raise exc from None
                time.sleep(self.backoff * attempt)


def _error_parts(data: bytes) -> tuple[str, str]:
    try:
        e = W.ErrorResponse.parse(data)
        return e.error_code, e.message
    except W.XmlMessageError:
        return "XX:Unknown", data[:200].decode("utf-8", "replace")


def _error_text(data: bytes) -> str:
    code, msg = _error_parts(data)
    return f"{code} {msg}".strip()


def _parse(fn: Callable[[bytes], T], data: bytes, what: str) -> T:
    if data.lstrip().startswith(b"<ErrorResponse") or b"<ErrorResponse>" in data[:200]:
        code, msg = _error_parts(data)
        raise Rejected(f"The DCC rejected the {what}: {code} {msg}".strip(), code)
    try:
        return fn(data)
    except W.XmlMessageError as exc:
        raise ProtocolFault(f"The answer to the {what} is not a valid message: "
                            f"{exc.message}") from None


class WsPortal:
    """`PortalService` over the DCC web services and the (emulated) portal forms."""

    def __init__(self, endpoint: Endpoint, tls: ClientTls | None, *,
                 scheduler: Scheduler | None = None, timeout: float = 30.0, retries: int = 2,
                 backoff: float = 0.3, max_response: int = W.MAX_MESSAGE_BYTES,
                 clock: Clock | None = None) -> None:
        self.endpoint = endpoint
        self.scheduler = scheduler
        if clock is None and scheduler is not None:
            clock = scheduler.clock
        self.http = _Http(endpoint.portal_url, ssl_context(endpoint.trust_anchor_pem, tls),
                          timeout=timeout, retries=retries, backoff=backoff,
                          max_response=max_response, clock=clock)

    def close(self) -> None:
        self.http.close()

    def submit_org_csr(self, client_ref: str, csr_der: bytes) -> OrgRequestState:
        import base64

        text = base64.b64encode(csr_der).decode()
        body = W.OrganisationCSRSubmission(client_ref, text).build()
        r = self.http.request("POST", "/portal/organisation-csr", body, None,
                              W.OrganisationCSRResponse.parse, "Organisation CSR")
        return OrgRequestState(client_ref, r.request_id, r.status, r.error_code, r.certificate)

    def fetch_org_result(self, client_ref: str, request_id: str) -> OrgRequestState:
        r = self.http.request("GET", f"/portal/organisation-csr?RequestId={request_id}", None,
                              None, W.OrganisationCSRResponse.parse,
                              "Organisation CSR status request")
        return OrgRequestState(client_ref, r.request_id, r.status, r.error_code, r.certificate)

    def submit_device_csr(self, client_ref: str, csr_der: bytes) -> IssuedItem:
        if self.scheduler is not None:
            self.scheduler.admit_adhoc()
        body = W.DeviceCertificateSigningRequest(client_ref, csr_der).build()
        # one attempt per admission: a retry here would break the 1 per 0.8 s / 4 s rule
        r = self.http.request("POST", "/ws/DeviceCertificateSigningRequest", body, None,
                              W.DeviceCertificateSigningResponse.parse, "ad hoc Device CSR",
                              retry=False)
        return IssuedItem(r.id, r.status, r.error_code, r.certificate)

    def submit_device_batch(self, client_ref: str, csrs: list[tuple[str, bytes]]) -> Submitted:
        body = W.SubmitCSRBatch(client_ref, tuple(csrs)).build()
        r = self.http.request("POST", "/ws/SubmitCSRBatch", body, None,
                              W.SubmitCSRBatchResponse.parse, "CSR batch")
        return Submitted(client_ref, r.batch_id, r.status)

    def poll_batch(self, batch_id: str) -> BatchState:
        if self.scheduler is not None:
            self.scheduler.admit_poll(batch_id)
        # one attempt per admission: a retry here would be a second poll inside the hour
        r = self.http.request("GET", f"/ws/CSRBatchResult?BatchId={batch_id}", None, None,
                              W.CSRBatchResult.parse, "batch poll", retry=False)
        items = tuple(IssuedItem(i.csr_id, i.status, i.error_code, i.certificate)
                      for i in r.results)
        return BatchState(r.batch_id, r.status, items, r.error_code)

    def request_revocation(self, client_ref: str, serial_hex: str, reason: str = "") -> str:
        body = W.RevocationRequest(client_ref, serial_hex, reason or None).build()
        r = self.http.request("POST", "/portal/revocation", body, None,
                              W.RevocationResponse.parse, "revocation request")
        if r.status != "COMPLETED":
            raise Rejected(f"The DCC refused to revoke serial {serial_hex}: {r.error_code}.",
                           r.error_code or "XX:Unknown")
        return r.status

    def fetch_org_crl(self) -> bytes:
        return self.http.request("GET", "/portal/crl", None, None, _crl_bytes, "CRL download")

    def upload_batch_zip(self, client_ref: str, zip_bytes: bytes) -> str:
        """The browser portal's batch upload (as the simulator emulates it) -> request id."""
        import json

        def rid(data: bytes) -> str:
            try:
                return str(json.loads(data)["request_id"])
            except (ValueError, KeyError) as exc:
                raise W.XmlMessageError(f"no request id ({exc})") from None

        return self.http.request("POST", "/portal/batch-upload", zip_bytes,
                                 {"X-Client-Reference": client_ref,
                                  "Content-Type": "application/zip"}, rid, "batch upload")

    def upload_adt_package(self, name: str, data: bytes) -> str:
        """The secure channel for signed ADT packages (as the simulator emulates it)."""
        import json

        def ref(body: bytes) -> str:
            try:
                return str(json.loads(body)["reference"])
            except (ValueError, KeyError) as exc:
                raise W.XmlMessageError(f"no reference ({exc})") from None

        return self.http.request("POST", "/portal/adt-upload", data,
                                 {"X-File-Name": name, "Content-Type": "application/zip"},
                                 ref, "ADT package upload")

    def fetch_batch_response(self, request_id: str) -> tuple[bytes, bytes]:
        """(the `.txt` report, the `<request>-response` zip) of a portal batch upload."""
        report = self.http.request("GET", f"/portal/batch-response?RequestId={request_id}"
                                   "&part=report", None, None, lambda d: d, "batch report")
        zipped = self.http.request("GET", f"/portal/batch-response?RequestId={request_id}"
                                   "&part=zip", None, None, lambda d: d, "batch response zip")
        return report, zipped

    def request_credential(self, client_ref: str, purpose: str,
                           csr_der: bytes) -> IssuedCredential:
        raise Rejected("Credentials are requested through enrolment (RAPP 5.4), not the "
                       "web service.", "CR:Channel")


def _crl_bytes(data: bytes) -> bytes:
    if not data.startswith(b"\x30"):
        raise W.XmlMessageError("The CRL is not DER (it does not start with a SEQUENCE).")
    return data


class WsRepository:
    """`Repository` over the repository web service (API key, server-authenticated TLS)."""

    def __init__(self, endpoint: Endpoint, api_key: str, *, timeout: float = 30.0,
                 retries: int = 2, backoff: float = 0.3,
                 max_response: int = W.MAX_MESSAGE_BYTES, clock: Clock | None = None) -> None:
        self.api_key = api_key
        self.http = _Http(endpoint.repository_url, ssl_context(endpoint.trust_anchor_pem, None),
                          timeout=timeout, retries=retries, backoff=backoff,
                          max_response=max_response, clock=clock)

    def close(self) -> None:
        self.http.close()

    def _search(self, req: W.CertificateSearchRequest) -> list[RepoEntry]:
        r = self.http.request("POST", "/repository/search", req.build(),
                              {"X-API-Key": self.api_key}, W.CertificateSearchResponse.parse,
                              "repository search")
        return [RepoEntry(x.serial, x.status, x.certificate, x.role, x.usage, x.subject_eui,
                          x.device_eui) for x in r.results]

    def search(self, *, subject_eui: str | None = None, role: str | None = None,
               device_eui: str | None = None) -> list[RepoEntry]:
        return self._search(W.CertificateSearchRequest(subject_eui, role, device_eui))

    def fetch(self, serial_hex: str) -> RepoEntry | None:
        found = self._search(W.CertificateSearchRequest(serial=serial_hex))
        return found[0] if found else None

    def download_crl(self) -> bytes:
        return self.http.request("GET", "/repository/crl", None, {"X-API-Key": self.api_key},
                                 _crl_bytes, "CRL download")


def enrol(endpoint: Endpoint, token: str, req: W.CredentialRequest, *,
          timeout: float = 30.0) -> IssuedCredential:
    """RAPP 5.4 enrolment at the (simulated) DCC: send a credential CSR, get the certificate."""
    http = _Http(endpoint.repository_url, ssl_context(endpoint.trust_anchor_pem, None),
                 timeout=timeout, retries=2, backoff=0.3, max_response=1024 * 1024)
    try:
        r = http.request("POST", "/enrol/credential", req.build(),
                         {"X-Enrolment-Token": token}, W.CredentialResponse.parse,
                         "credential request")
    finally:
        http.close()
    if r.status != "COMPLETED" or r.certificate is None:
        raise Rejected(f"The credential request was refused: {r.error_code}.",
                       r.error_code or "XX:Unknown")
    return IssuedCredential(r.certificate, r.ca_certificates, r.api_key)
