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
"""

from __future__ import annotations

import base64
import collections
import email.utils
import http
import json
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop.core import ws_forms as WF
from smki_desktop.core import ws_xml as W
from smki_desktop.core.errors import InputError, SmkiError
from smki_desktop.core.portal_ports import (
    AnswerLost,
    AuthenticationFailed,
    BatchState,
    HttpStatusFault,
    IssuedCredential,
    IssuedItem,
    MalformedAnswer,
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
from smki_desktop.crypto.fields import extract_fields

T = TypeVar("T")

BATCH_SUBMIT_PATH = W.BATCH_SUBMIT_PATH
BATCH_RESULT_PATH = W.BATCH_RESULT_PATH
ADHOC_PATH = W.ADHOC_PATH
REPO_SEARCH_PATH = W.REPO_SEARCH_PATH
REPO_RETRIEVE_PATH = W.REPO_RETRIEVE_PATH
REPO_CRL_PATH = "/repository/crl"  # ours: the DCC's repository interface gives no CRL call
DEFAULT_DEADLINE = 60.0  # seconds for a whole call, retries included (setting portal.deadline)
MAX_RETRY_AFTER = 24 * 3600  # a 429 never parks a request for more than a day
DEFAULT_RETRY_AFTER = 60
KEEPALIVE = 4  # pooled connections kept per client (calls are sequential: one in practice)


_APIKEY = re.compile(r"(apikey=)[^&\s'\"]+", re.IGNORECASE)


def redact(text: str) -> str:
    """Hide an API key in a URL or message."""
    return _APIKEY.sub(r"\1***", text)


class _RedactApiKey(logging.Filter):
    """httpx logs each request's URL at INFO: never with the repository's API key."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except (TypeError, ValueError):
            return True
        if "apikey=" in msg.lower():
            record.msg, record.args = redact(msg), None
        return True


for _name in ("httpx", "httpcore"):
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, _RedactApiKey) for f in _logger.filters):
        _logger.addFilter(_RedactApiKey())


def retry_after_seconds(value: str, now: datetime) -> int:
    """A Retry-After header (delta-seconds or an HTTP date) -> seconds to wait, clamped to
    [1, MAX_RETRY_AFTER]; a negative, garbage or absurd value never raises."""
    v = (value or "").strip()
    secs: float = DEFAULT_RETRY_AFTER
    if re.fullmatch(r"[0-9]{1,12}", v):
        secs = int(v)
    elif re.fullmatch(r"[0-9]+", v):
        secs = MAX_RETRY_AFTER
    elif v and len(v) <= 64:
        try:
            when = email.utils.parsedate_to_datetime(v)
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            secs = (when - now).total_seconds()
        except (TypeError, ValueError, IndexError, OverflowError):
            secs = DEFAULT_RETRY_AFTER
    return int(min(max(secs, 1), MAX_RETRY_AFTER))


class _Deadline:
    """The total time a call may take. A watchdog timer shuts down the sockets of the call
    when it passes, so that no read blocks past it (httpx's timeouts apply per read)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.fired = False
        self._lock = threading.Lock()
        self._socks: list[Any] = []
        self._timer: threading.Timer | None = None

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def arm(self) -> None:
        self._timer = threading.Timer(self.remaining(), self.fire)
        self._timer.daemon = True
        self._timer.start()

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        with self._lock:
            self._socks.clear()

    def watch(self, stream: Any) -> None:
        get = getattr(stream, "get_extra_info", None)
        sock = get("socket") if get is not None else None
        if sock is None:
            return
        with self._lock:
            self._socks.append(sock)
            late = self.fired
        if late:
            self._shut(sock)

    def trace(self, name: str, info: dict[str, Any]) -> None:
        if name.endswith(("connect_tcp.complete", "start_tls.complete")):
            self.watch(info.get("return_value"))

    def fire(self) -> None:
        with self._lock:
            self.fired = True
            socks = list(self._socks)
        for sock in socks:
            self._shut(sock)

    @staticmethod
    def _shut(sock: Any) -> None:
        try:
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except (OSError, TypeError, ValueError):
            pass

    def error(self, what: str) -> Unreachable:
        return Unreachable(f"{what} timed out: no complete answer within the deadline of "
                           f"{self.seconds:g} s (setting portal.deadline).")


@dataclass(frozen=True)
class ClientTls:
    """Mutual-TLS material: the client certificate (PEM file) and the encrypted key file."""

    cert_path: Path
    key_path: Path
    password: str


@dataclass(frozen=True)
class Endpoint:
    """`portal_url` and `repository_url` are bases: the interfaces' paths are appended."""

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


def _verify_failure(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    e: BaseException | None = exc
    for _ in range(8):
        if e is None:
            return None
        if isinstance(e, ssl.SSLCertVerificationError):
            return e
        e = e.__cause__ or e.__context__
    return None


_NOT_CHAINED = frozenset({2, 18, 19, 20, 21})
"""OpenSSL's verify codes for "no path to a trusted anchor" (unknown issuer, self-signed)."""


def _untrusted(exc: httpx.TransportError, url: str, text: str) -> AuthenticationFailed:
    """Our refusal of the server's certificate, quoting ssl's reason (expired, hostname
    mismatch, unknown issuer...)."""
    failure = _verify_failure(exc)
    reason = str(getattr(failure, "verify_message", "") or "").strip().rstrip(".")
    code = getattr(failure, "verify_code", None)
    if not reason:
        m = re.search(r"certificate verify failed: ([^(|]+)", text, re.IGNORECASE)
        reason = m.group(1).strip().rstrip(".") if m else ""
    if code in _NOT_CHAINED or (code is None and (not reason or "issuer" in reason.lower()
                                                  or "self-signed" in reason.lower())):
        why = "its certificate does not chain to this environment's pinned trust anchor"
    elif "hostname mismatch" in reason.lower() or "ip address mismatch" in reason.lower():
        why = "its certificate is not for this host name or address"
    elif "expired" in reason.lower():
        why = "its certificate has expired"
    elif "not yet valid" in reason.lower():
        why = "its certificate is not valid yet"
    else:
        why = "its certificate failed verification"
    return AuthenticationFailed(f"The server at {url} is not trusted: {why}"
                                + (f" (TLS: {redact(reason)})." if reason else "."))


def _map_transport(exc: httpx.TransportError, url: str) -> PortalError:
    """A transport failure -> a typed error. Only a failure to connect proves the request was
    not sent (`Unreachable`, may be tried again at once); a failure after it (the connection
    dropped, a read that failed or timed out) is `AnswerLost`."""
    text = redact(_chain_text(exc))
    url = redact(url)
    low = text.lower()
    if "certificate_verify_failed" in low or "certificate verify failed" in low \
            or _verify_failure(exc) is not None:
        return _untrusted(exc, url, text)
    if "alert" in low and ("certificate" in low or "unknown ca" in low or "handshake" in low):
        return AuthenticationFailed(f"The server at {url} refused our client certificate "
                                    f"({text.split(' | ')[0]}).")
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        if isinstance(exc, httpx.TimeoutException):
            return Unreachable(f"No answer from {url} in time ({type(exc).__name__}).")
        return Unreachable(f"Cannot reach {url}: {text.split(' | ')[0]}.")
    if isinstance(exc, httpx.TimeoutException):
        return AnswerLost(f"No answer from {url} in time ({type(exc).__name__}).")
    return AnswerLost(f"The connection to {url} failed before an answer: "
                      f"{text.split(' | ')[0]}.")


class _Http:
    def __init__(self, base_url: str, ctx: ssl.SSLContext, *, timeout: float, retries: int,
                 backoff: float, max_response: int, clock: Clock | None = None,
                 deadline: float = DEFAULT_DEADLINE) -> None:
        self.base = base_url.rstrip("/")
        self.clock = clock
        # a reused keep-alive connection fires no connect/TLS trace events: the streams of
        # the pool's connections are remembered from their answers and handed to each call's
        # deadline before it starts (at most as many as the pool keeps)
        self.client = httpx.Client(verify=ctx, timeout=timeout, http2=False,
                                   limits=httpx.Limits(max_keepalive_connections=KEEPALIVE))
        self._streams: collections.deque[Any] = collections.deque(maxlen=2 * KEEPALIVE)
        self.timeout = timeout
        self.deadline = deadline
        self.retries = retries
        self.backoff = backoff
        self.max_response = max_response

    def close(self) -> None:
        self.client.close()

    def _once(self, method: str, path: str, body: bytes | None, headers: dict[str, str],
              params: dict[str, str] | None, dl: _Deadline) -> tuple[int, bytes, str, str]:
        """One exchange -> (status, body, Retry-After, Location)."""
        url = self.base + path
        shown = redact(url)
        left = dl.remaining()
        if left <= 0:
            raise dl.error(f"The call to {shown}")
        per = min(self.timeout, max(left, 0.01))
        for stream in list(self._streams):  # the one a pooled connection reuses among them
            dl.watch(stream)
        dl.arm()
        try:
            with self.client.stream(method, url, content=body, headers=headers, params=params,
                                    timeout=httpx.Timeout(per),
                                    extensions={"trace": dl.trace}) as resp:
                stream = resp.extensions.get("network_stream")
                dl.watch(stream)
                if stream is not None and stream not in self._streams:
                    self._streams.append(stream)
                declared = resp.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > self.max_response:
                    raise ProtocolFault(f"The answer from {shown} declares {int(declared):,} "
                                        f"bytes, over the limit of {self.max_response:,}.")
                buf = bytearray()
                for chunk in resp.iter_bytes():
                    buf += chunk
                    if len(buf) > self.max_response:
                        raise ProtocolFault(f"The answer from {shown} exceeds "
                                            f"{self.max_response:,} bytes.")
                    if dl.fired or dl.remaining() <= 0:
                        raise dl.error(f"The call to {shown}")
                if dl.fired:
                    raise dl.error(f"The call to {shown}")
                return (resp.status_code, bytes(buf), resp.headers.get("Retry-After", ""),
                        resp.headers.get("Location", ""))
        except httpx.DecodingError as exc:  # a Content-Encoding whose body does not decode
            raise MalformedAnswer(f"The answer from {shown} cannot be decoded (its "
                                  f"Content-Encoding): {redact(str(exc))[:200]}.") from None
        except httpx.TransportError as exc:
            if dl.fired or dl.remaining() <= 0:
                raise dl.error(f"The call to {shown}") from None
            raise _map_transport(exc, url) from None
        except (OSError, ssl.SSLError) as exc:  # a socket shut by the watchdog mid-read
            if dl.fired:
                raise dl.error(f"The call to {shown}") from None
            raise AnswerLost(f"The connection to {shown} failed before an answer: "
                             f"{redact(str(exc))}.") from None
        finally:
            dl.disarm()

    def status(self, method: str, path: str, body: bytes | None,
               headers: dict[str, str] | None = None, params: dict[str, str] | None = None,
               *, retry: bool = True, dl: _Deadline | None = None) -> tuple[int, bytes]:
        """One call -> (HTTP status, body) for the caller to interpret (repository: 402/401),
        with the deadline (its own, or `dl` shared by several calls that make one user
        action), transient retries and the 5xx/429 handling of `request`."""
        return self._call(method, path, body, headers, params, retry=retry, raw=True, dl=dl)

    def request(self, method: str, path: str, body: bytes | None,
                headers: dict[str, str] | None, parse: Callable[[bytes], T], what: str,
                *, retry: bool = True, params: dict[str, str] | None = None,
                queued: bool = True) -> T:
        """One call, retried on transient failures (the request is idempotent), answered by
        `parse` (a malformed answer is retried too). With `retry` False the call is made once:
        rate-limited calls are retried by the outbox, each attempt admitted by the scheduler.
        A request that may have reached the server (the connection failed after it was sent)
        is tried again at once only when it is a GET; anything else is left to the outbox
        (`queued`: the request is one of its items) or to the user. The whole of it, retries
        and pauses included, ends within the deadline."""
        dl = _Deadline(self.deadline)
        shown = redact(self.base + path)
        attempt = 0
        while True:
            try:
                status, data = self._call(method, path, body, headers, params, retry=False,
                                          raw=False, dl=dl)
                if status >= 400:
                    raise _error_status(status, data, what, shown)
                return _parse(parse, data, what)
            except ProtocolFault as exc:
                attempt += 1
                if (not retry or not exc.retry_now or attempt > self.retries
                        or dl.remaining() <= 0):
                    raise exc from None
                time.sleep(min(self.backoff * attempt, dl.remaining()))
            except AnswerLost as exc:
                if not retry or method != "GET" or dl.fired or dl.remaining() <= 0 \
                        or "timed out" in exc.message:
                    raise _lost(exc, what, shown, queued) from None
                attempt += 1
                if attempt > self.retries:
                    raise exc from None
                time.sleep(min(self.backoff * attempt, dl.remaining()))
            except Unreachable as exc:
                if (not retry or not exc.retry_now or dl.fired or dl.remaining() <= 0
                        or "timed out" in exc.message):
                    raise exc from None
                attempt += 1
                if attempt > self.retries:
                    raise exc from None
                time.sleep(min(self.backoff * attempt, dl.remaining()))

    def _call(self, method: str, path: str, body: bytes | None,
              headers: dict[str, str] | None, params: dict[str, str] | None, *, retry: bool,
              raw: bool, dl: _Deadline | None = None) -> tuple[int, bytes]:
        hdrs = {"Content-Type": "application/xml", **(headers or {})}
        dl = dl or _Deadline(self.deadline)
        shown = redact(self.base + path)
        attempt = 0
        while True:
            try:
                status, data, retry_after, location = self._once(method, path, body, hdrs,
                                                                 params, dl)
                if status >= 500:
                    raise Unreachable(f"{shown} answered HTTP {status} "
                                      f"({_error_text(data)}).")
                if 300 <= status < 400:
                    fault = ProtocolFault(
                        f"{shown} answered HTTP {status}: the redirect to "
                        f"{redact(location)[:200] or '(no Location)'} was not followed (the "
                        "DCC's addresses are the configured ones, never an answer's).")
                    fault.retry_now = False
                    raise fault
                if status == 429:
                    now = self.clock.now() if self.clock is not None else datetime.now(UTC)
                    secs = retry_after_seconds(retry_after, now)
                    raise Throttled(f"{shown} asks us to wait {secs} s.",
                                    now + timedelta(seconds=secs))
                if status == 403 or (status == 401 and not raw):
                    raise AuthenticationFailed(f"{shown} refused our credentials "
                                               f"(HTTP {status}: {_error_text(data)}).")
                return status, data
            except Unreachable as exc:
                attempt += 1
                if (not retry or attempt > self.retries or dl.fired or dl.remaining() <= 0
                        or "timed out" in exc.message):
                    raise exc from None
                time.sleep(min(self.backoff * attempt, dl.remaining()))


TRANSIENT_4XX = frozenset({408, 421, 425})
"""Request Timeout, Misdirected Request, Too Early: the request was not acted on."""


def _error_status(status: int, data: bytes, what: str, shown: str) -> PortalError:
    """An HTTP 4xx answer: `Rejected` only when it carries the DCC's ErrorResponse (and is not
    a 408/421/425); otherwise the request stays queued, the message naming the status."""
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    named = f"HTTP {status}" + (f" {phrase}" if phrase else "")
    try:
        err = W.ErrorResponse.parse(data)
    except W.XmlMessageError:
        err = None
    if err is not None and status not in TRANSIENT_4XX:
        return Rejected(f"The DCC rejected the {what}: {err.error_code} {err.message}"
                        .strip(), err.error_code)
    said = f" ({err.error_code} {err.message})".rstrip() if err is not None else ""
    return HttpStatusFault(f"The {what} to {shown} got {named}{said}, not the DCC's refusal: "
                           "it stays queued and is sent again later.")


def _lost(exc: AnswerLost, what: str, shown: str, queued: bool) -> AnswerLost:
    """A request that may have reached the DCC without its answer coming back."""
    if "timed out" in exc.message:
        return exc
    then = ("the outbox asks again later under the same client reference, which the DCC "
            "takes once (a repeated reference gets the first answer)." if queued else
            "find out whether it was taken before sending it again.")
    return AnswerLost(f"The {what} was sent to {shown} but no answer was received "
                      f"({exc.message.rstrip('.')}). It is not sent again now: {then}")


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
        raise MalformedAnswer(f"The answer to the {what} is not a valid message: "
                              f"{exc.message}") from None


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
