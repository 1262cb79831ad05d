"""The HTTP transport under the DCC web-service adapter (`portal.ws_client`): an httpx client per
endpoint with mutual TLS and the pinned trust anchor, a TOTAL deadline per call (a watchdog shuts
the sockets, new or reused keep-alive ones, when it passes), bounded answers, and the mapping of
transport failures and HTTP statuses to the typed errors of `core.portal_ports`:

- a connect failure (`Unreachable`) is retried at once; a failure after the request went out
  (`AnswerLost`) is not, except for a GET: the outbox asks again later under the same client
  reference;
- only a 4xx carrying the DCC's ErrorResponse is `Rejected`; a 408/421/425 or a bare 4xx is an
  `HttpStatusFault` and the request stays queued; a 3xx is never followed;
- TLS failures quote ssl's reason (expired, hostname mismatch), and "does not chain to the pinned
  trust anchor" only for an unknown issuer;
- a 429's Retry-After is reckoned on the injected clock and clamped to a day; the repository's API
  key never appears in a message or a log line (`redact`).
"""

from __future__ import annotations

import collections
import email.utils
import http
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx

from smki_desktop.core import ws_xml as W
from smki_desktop.core.portal_ports import (
    AnswerLost,
    AuthenticationFailed,
    HttpStatusFault,
    MalformedAnswer,
    PortalError,
    ProtocolFault,
    Rejected,
    Throttled,
    Unreachable,
)
from smki_desktop.core.ports import Clock
from smki_desktop.portal.endpoint_types import ClientTls

T = TypeVar("T")

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
