"""Ports to the DCC's SMKI services: `PortalService` and `Repository`, with their typed results
and typed errors. Adapters (web service, portal upload, offline bundle) implement them; services
and the outbox depend only on these names."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from smki_desktop.core.errors import SmkiError


# ---------------------------------------------------------------------------------- errors
class PortalError(SmkiError):
    """Base of every typed failure of a call to the DCC. `retryable` says whether re-sending the
    same request (same client reference) later may succeed; `retry_now` whether the adapter
    may also try it again at once, within the same call."""

    retryable = False
    retry_now = True


class Unreachable(PortalError):
    """No answer: connection refused or dropped, timeout, server error (5xx)."""

    retryable = True


class AnswerLost(Unreachable):
    """The request was sent (or may have been) and the connection failed before its answer:
    the other side may have acted on it. Not sent again at once; the outbox sends it again
    later under the same client reference."""

    retry_now = False


class HttpStatusFault(Unreachable):
    """An HTTP error status without the DCC's error answer (a proxy's 408, a gateway's 421 or
    425, a bare 404): not the DCC refusing the request, which stays queued."""

    retry_now = False


class Rejected(PortalError):
    """The DCC answered and refused the request, with its error code."""

    def __init__(self, message: str, dcc_code: str) -> None:
        super().__init__(message)
        self.dcc_code = dcc_code


class Throttled(PortalError):
    """Not now: a rate rule or polling limit defers the call until `retry_at` (UTC)."""

    retryable = True

    def __init__(self, message: str, retry_at: datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class OutsideWindow(Throttled):
    """The service does not take this request at this time of day (Europe/London)."""


class AuthenticationFailed(PortalError):
    """The server refused our credential, or we refused the server's (trust anchor pinning)."""


class ProtocolFault(PortalError):
    """The answer was not a valid message (malformed, hostile, too large, unexpected)."""

    retryable = True


class MalformedAnswer(ProtocolFault):
    """An answer that is not a valid message (bad XML, an unknown encoding, the wrong shape):
    bad input from the other side, so exit 2 like any bad input; still retried."""

    exit_code = 2


# ---------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Submitted:
    client_ref: str
    server_id: str
    status: str


@dataclass(frozen=True)
class IssuedItem:
    item_id: str
    status: str
    error_code: str | None = None
    certificate_der: bytes | None = None
    error_text: str | None = None  # the DCC's ErrorText (AppM), for people


@dataclass(frozen=True)
class BatchState:
    batch_id: str
    status: str
    items: tuple[IssuedItem, ...] = ()
    error_code: str | None = None
    error_text: str | None = None

    @property
    def final(self) -> bool:
        return self.status in ("COMPLETED", "REJECTED", "TAMPERED", "FORMAT_ERROR",
                               "WORKFLOW_ERROR")


@dataclass(frozen=True)
class OrgRequestState:
    client_ref: str
    request_id: str
    status: str
    error_code: str | None = None
    certificate_der: bytes | None = None


@dataclass(frozen=True)
class IssuedCredential:
    certificate_der: bytes
    ca_certificates_der: tuple[bytes, ...] = ()
    api_key: str | None = None


@dataclass(frozen=True)
class RepoEntry:
    serial: str
    status: str
    certificate_der: bytes
    role: str | None = None
    usage: str | None = None
    subject_eui: str | None = None
    device_eui: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------------------- ports
class PortalService(Protocol):
    def submit_org_csr(self, client_ref: str, csr_der: bytes) -> OrgRequestState: ...

    def fetch_org_result(self, client_ref: str, request_id: str) -> OrgRequestState: ...

    def submit_device_csr(self, client_ref: str, csr_der: bytes) -> IssuedItem: ...

    def submit_device_batch(self, client_ref: str,
                            csrs: list[tuple[str, bytes]]) -> Submitted: ...

    def poll_batch(self, batch_id: str) -> BatchState: ...

    def request_revocation(self, client_ref: str, serial_hex: str, reason: str = "") -> str: ...

    def fetch_org_crl(self) -> bytes: ...

    def request_credential(self, client_ref: str, purpose: str,
                           csr_der: bytes) -> IssuedCredential: ...


class Repository(Protocol):
    def search(self, *, subject_eui: str | None = None, role: str | None = None,
               device_eui: str | None = None) -> list[RepoEntry]: ...

    def fetch(self, serial_hex: str) -> RepoEntry | None: ...

    def download_crl(self) -> bytes: ...
