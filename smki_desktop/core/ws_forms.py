"""The simulator's own portal forms, in XML: the Organisation CSR paste, the enrolment of an
officer's credential and the single-signature revocation request, each with its response.

These are OUR shapes (the DCC publishes these as browser forms of the SMKI portal, not as web
services); the message rules they share with the published ones (size cap, defusedxml, the
structural schema, field checks) are in `core/ws_xml.py`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from smki_desktop.core.ws_xml import (
    ORG_STATUSES,
    XmlMessageError,
    _one_of,
    _opt,
    _serialise,
    _sub,
    _text,
    b64,
    check_batch_id,
    check_error_code,
    parse_root,
    unb64,
)


@dataclass(frozen=True)
class OrganisationCSRSubmission:
    """The browser portal's Organisation CSR form: the paste text (armoured or not)."""

    id: str
    csr_text: str

    def build(self) -> bytes:
        root = ET.Element("OrganisationCSRSubmission")
        _sub(root, "ID", check_batch_id(self.id))
        _sub(root, "CSRText", self.csr_text)
        return _serialise(root)

    @classmethod
    def parse(cls, data: bytes) -> OrganisationCSRSubmission:
        root = parse_root(data, "OrganisationCSRSubmission")
        return cls(check_batch_id(_text(root, "ID")), _text(root, "CSRText"))


@dataclass(frozen=True)
class OrganisationCSRResponse:
    id: str
    request_id: str
    status: str
    error_code: str | None = None
    certificate: bytes | None = None

    def build(self) -> bytes:
        root = ET.Element("OrganisationCSRResponse")
        _sub(root, "ID", self.id)
        _sub(root, "RequestId", self.request_id)
        _sub(root, "Status", _one_of(self.status, ORG_STATUSES, "Status"))
        _sub(root, "ErrorCode", check_error_code(self.error_code) if self.error_code else None)
        _sub(root, "Certificate", b64(self.certificate) if self.certificate else None)
        return _serialise(root)

    @classmethod
    def parse(cls, data: bytes) -> OrganisationCSRResponse:
        root = parse_root(data, "OrganisationCSRResponse")
        code = _opt(root, "ErrorCode")
        cert = _opt(root, "Certificate")
        return cls(_text(root, "ID"), _text(root, "RequestId"),
                   _one_of(_text(root, "Status"), ORG_STATUSES, "Status"),
                   check_error_code(code) if code else None,
                   unb64(cert, "Certificate") if cert else None)


@dataclass(frozen=True)
class CredentialRequest:
    id: str
    purpose: str  # web-service | file-signing
    csr: bytes

    def build(self) -> bytes:
        root = ET.Element("CredentialRequest")
        _sub(root, "ID", check_batch_id(self.id))
        _sub(root, "Purpose", _one_of(self.purpose, ("web-service", "file-signing"), "Purpose"))
        _sub(root, "CSR", b64(self.csr))
        return _serialise(root)

    @classmethod
    def parse(cls, data: bytes) -> CredentialRequest:
        root = parse_root(data, "CredentialRequest")
        return cls(check_batch_id(_text(root, "ID")),
                   _one_of(_text(root, "Purpose"), ("web-service", "file-signing"), "Purpose"),
                   unb64(_text(root, "CSR"), "CSR"))


@dataclass(frozen=True)
class CredentialResponse:
    id: str
    status: str  # COMPLETED | REJECTED
    error_code: str | None = None
    certificate: bytes | None = None
    ca_certificates: tuple[bytes, ...] = ()
    api_key: str | None = None

    def build(self) -> bytes:
        root = ET.Element("CredentialResponse")
        _sub(root, "ID", self.id)
        _sub(root, "Status", _one_of(self.status, ("COMPLETED", "REJECTED"), "Status"))
        _sub(root, "ErrorCode", check_error_code(self.error_code) if self.error_code else None)
        _sub(root, "Certificate", b64(self.certificate) if self.certificate else None)
        for ca in self.ca_certificates:
            _sub(root, "CACertificate", b64(ca))
        _sub(root, "APIKey", self.api_key)
        return _serialise(root)

    @classmethod
    def parse(cls, data: bytes) -> CredentialResponse:
        root = parse_root(data, "CredentialResponse")
        code = _opt(root, "ErrorCode")
        cert = _opt(root, "Certificate")
        return cls(_text(root, "ID"), _one_of(_text(root, "Status"), ("COMPLETED", "REJECTED"),
                                              "Status"),
                   check_error_code(code) if code else None,
                   unb64(cert, "Certificate") if cert else None,
                   tuple(unb64(e.text or "", "CACertificate")
                         for e in root.findall("CACertificate")),
                   _opt(root, "APIKey"))


@dataclass(frozen=True)
class RevocationRequest:
    id: str
    serial: str
    reason: str | None = None

    def build(self) -> bytes:
        root = ET.Element("RevocationRequest")
        _sub(root, "ID", check_batch_id(self.id))
        _sub(root, "Serial", self.serial)
        _sub(root, "Reason", self.reason)
        return _serialise(root)

    @classmethod
    def parse(cls, data: bytes) -> RevocationRequest:
        root = parse_root(data, "RevocationRequest")
        serial = _text(root, "Serial")
        if not re.fullmatch(r"[0-9A-Fa-f]{1,40}", serial):
            raise XmlMessageError(f"Serial {serial!r} is not hexadecimal.")
        return cls(check_batch_id(_text(root, "ID")), serial.upper(), _opt(root, "Reason"))


@dataclass(frozen=True)
class RevocationResponse:
    id: str
    status: str  # COMPLETED | REJECTED
    error_code: str | None = None

    def build(self) -> bytes:
        root = ET.Element("RevocationResponse")
        _sub(root, "ID", self.id)
        _sub(root, "Status", _one_of(self.status, ("COMPLETED", "REJECTED"), "Status"))
        _sub(root, "ErrorCode", check_error_code(self.error_code) if self.error_code else None)
        return _serialise(root)

    @classmethod
    def parse(cls, data: bytes) -> RevocationResponse:
        root = parse_root(data, "RevocationResponse")
        code = _opt(root, "ErrorCode")
        return cls(_text(root, "ID"), _one_of(_text(root, "Status"), ("COMPLETED", "REJECTED"),
                                              "Status"),
                   check_error_code(code) if code else None)
