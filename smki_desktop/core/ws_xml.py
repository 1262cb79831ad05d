"""The DCC web-service XML messages (SMKI AppM Appendix M style): build and parse.

Shared by the app's web-service client and by the simulator. Parsing is hostile-input safe:
the size is capped *before* parsing, `defusedxml` forbids DTDs, entities and external
references, and every message is checked against a small schema (allowed elements, their
counts and attributes) so that an unexpected element is rejected with a clear error.
Base64 bodies carry no armour and no whitespace. Pure: bytes in, dataclasses out.
"""

from __future__ import annotations

import base64
import binascii
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from smki_desktop.core.errors import InputError

#: the largest message accepted: 50,000 CSRs in base64 are about 21 MB, and a result of 50,000
#: device certificates about 40 MB.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MAX_BATCH_CSRS = 50_000

BATCH_STATUSES = ("PENDING", "REJECTED", "PARSING", "QUEUED", "PROCESSING", "PAUSED",
                  "COMPLETED", "TAMPERED", "FORMAT_ERROR", "WORKFLOW_ERROR")
CSR_STATUSES = ("SUCCESS", "ISSUANCE_ANOMALY", "INELIGIBLE", "CSR_ERROR", "CA_ERROR",
                "WORKFLOW_ERROR")
ADHOC_STATUSES = (*CSR_STATUSES, "UNKNOWN_DEVICE")
ORG_STATUSES = ("PENDING", "COMPLETED", "REJECTED")
REPO_STATUSES = ("P", "I", "N", "E", "R")  # pending, in use, not in use, expired, revoked

_ERROR_CODE = re.compile(r"^[A-Z]{2}:[A-Za-z0-9]+$")
_NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_B64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


class XmlMessageError(InputError):
    """A message that is too big, not well-formed, hostile, or not what the schema allows."""


# --------------------------------------------------------------------------------------------
# Field checks


def check_error_code(code: str) -> str:
    if len(code) > 10 or not _ERROR_CODE.match(code):
        raise XmlMessageError(f"ErrorCode {code!r} is not of the form AA:xxxx (at most 10 "
                              "characters).")
    return code


def b64(data: bytes) -> str:
    """Base64 without armour or whitespace."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: str, what: str) -> bytes:
    if not text or not _B64.match(text) or len(text) % 4:
        raise XmlMessageError(f"{what}: not base64 without armour or whitespace.")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise XmlMessageError(f"{what}: not valid base64 ({exc}).") from None


def check_batch_id(text: str) -> str:
    if not 1 <= len(text) <= 256:
        raise XmlMessageError(f"SubmitCSRBatch ID must have 1 to 256 characters, not {len(text)}.")
    return text


def check_csr_id(text: str) -> str:
    if not 1 <= len(text) <= 100 or not _NCNAME.match(text):
        raise XmlMessageError(f"DeviceCSR ID {text!r} must be an xs:ID (a letter or _ first, "
                              "then letters, digits, . - _) of at most 100 characters.")
    return text


def check_adhoc_id(text: str) -> str:
    if not 1 <= len(text) <= 32:
        raise XmlMessageError(f"DeviceCertificateSigningRequest ID must have 1 to 32 characters, "
                              f"not {len(text)}.")
    return text


def _one_of(value: str, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise XmlMessageError(f"{what} {value!r} is not one of {', '.join(allowed)}.")
    return value


# --------------------------------------------------------------------------------------------
# Schema: element -> (attributes, [(child, min, max)]); leaves (no entry) hold text only.

_UNBOUNDED = 10**9
_SCHEMA: dict[str, tuple[tuple[str, ...], list[tuple[str, int, int]]]] = {
    "SubmitCSRBatch": ((), [("ID", 1, 1), ("DeviceCSR", 1, MAX_BATCH_CSRS)]),
    "SubmitCSRBatchResponse": ((), [("BatchId", 1, 1), ("Status", 1, 1)]),
    "CSRBatchResult": ((), [("BatchId", 1, 1), ("ID", 0, 1), ("Status", 1, 1),
                            ("ErrorCode", 0, 1), ("CSRResult", 0, MAX_BATCH_CSRS)]),
    "CSRResult": (("ID",), [("Status", 1, 1), ("ErrorCode", 0, 1), ("Certificate", 0, 1)]),
    "DeviceCertificateSigningRequest": ((), [("ID", 1, 1), ("Version", 1, 1), ("CSR", 1, 1)]),
    "DeviceCertificateSigningResponse": ((), [("ID", 1, 1), ("Status", 1, 1),
                                              ("ErrorCode", 0, 1), ("Certificate", 0, 1)]),
    "CertificateSearchRequest": ((), [("SubjectEUI", 0, 1), ("Role", 0, 1),
                                      ("DeviceEUI", 0, 1)]),
    "CertificateDataRequest": ((), [("Serial", 1, 1)]),
    "CertificateSearchResponse": ((), [("Result", 0, _UNBOUNDED)]),
    "Result": ((), [("Serial", 1, 1), ("Status", 1, 1), ("Role", 0, 1), ("Usage", 0, 1),
                    ("SubjectEUI", 0, 1), ("DeviceEUI", 0, 1), ("Certificate", 1, 1)]),
    "OrganisationCSRSubmission": ((), [("ID", 1, 1), ("CSRText", 1, 1)]),
    "OrganisationCSRResponse": ((), [("ID", 1, 1), ("RequestId", 1, 1), ("Status", 1, 1),
                                     ("ErrorCode", 0, 1), ("Certificate", 0, 1)]),
    "CredentialRequest": ((), [("ID", 1, 1), ("Purpose", 1, 1), ("CSR", 1, 1)]),
    "CredentialResponse": ((), [("ID", 1, 1), ("Status", 1, 1), ("ErrorCode", 0, 1),
                                ("Certificate", 0, 1), ("CACertificate", 0, 8),
                                ("APIKey", 0, 1)]),
    "RevocationRequest": ((), [("ID", 1, 1), ("Serial", 1, 1), ("Reason", 0, 1)]),
    "RevocationResponse": ((), [("ID", 1, 1), ("Status", 1, 1), ("ErrorCode", 0, 1)]),
    "ErrorResponse": ((), [("ErrorCode", 1, 1), ("Message", 0, 1)]),
}
_LEAF_ATTRS: dict[str, tuple[str, ...]] = {"DeviceCSR": ("ID",)}


def _check(el: ET.Element, path: str) -> None:
    tag = el.tag
    if not isinstance(tag, str) or "}" in tag:
        raise XmlMessageError(f"{path}: unexpected namespaced element {tag!r}.")
    attrs, children = _SCHEMA.get(tag, (_LEAF_ATTRS.get(tag, ()), []))
    extra = set(el.attrib) - set(attrs)
    if extra:
        raise XmlMessageError(f"{path}: unexpected attribute(s) {', '.join(sorted(extra))}.")
    for a in attrs:
        if a not in el.attrib:
            raise XmlMessageError(f"{path}: missing attribute {a}.")
    if tag not in _SCHEMA:
        if len(el):
            raise XmlMessageError(f"{path}: element {el[0].tag!r} is not allowed here.")
        return
    if el.text and el.text.strip():
        raise XmlMessageError(f"{path}: unexpected text.")
    allowed = {name: (lo, hi) for name, lo, hi in children}
    counts: dict[str, int] = {}
    for child in el:
        if child.tag not in allowed:
            raise XmlMessageError(f"{path}: unexpected element {child.tag!r}; allowed: "
                                  f"{', '.join(allowed)}.")
        counts[child.tag] = counts.get(child.tag, 0) + 1
        if child.tail and child.tail.strip():
            raise XmlMessageError(f"{path}: unexpected text after {child.tag}.")
    for name, (lo, hi) in allowed.items():
        n = counts.get(name, 0)
        if n < lo:
            raise XmlMessageError(f"{path}: missing element {name}.")
        if n > hi:
            raise XmlMessageError(f"{path}: {n} {name} elements, at most {hi} allowed.")
    for child in el:
        _check(child, f"{path}/{child.tag}")


def parse_root(data: bytes, expect: str | Sequence[str], *,
               max_bytes: int = MAX_MESSAGE_BYTES) -> ET.Element:
    """Parse and validate one message. `expect` names the allowed root element(s)."""
    if len(data) > max_bytes:
        raise XmlMessageError(f"Message of {len(data):,} bytes exceeds the limit of "
                              f"{max_bytes:,} bytes.")
    try:
        root = DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise XmlMessageError(f"Hostile XML refused: {type(exc).__name__} ({exc}).") from None
    except ET.ParseError as exc:
        raise XmlMessageError(f"Malformed XML: {exc}.") from None
    names = (expect,) if isinstance(expect, str) else tuple(expect)
    if root.tag not in names:
        raise XmlMessageError(f"Expected a {' or '.join(names)} message, got {root.tag!r}.")
    _check(root, root.tag)
    return root


def _text(el: ET.Element, name: str, default: str | None = None) -> str:
    child = el.find(name)
    if child is None:
        if default is None:
            raise XmlMessageError(f"{el.tag}: missing element {name}.")
        return default
    return (child.text or "").strip()


def _opt(el: ET.Element, name: str) -> str | None:
    child = el.find(name)
    return None if child is None else (child.text or "").strip()


def _serialise(root: ET.Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, encoding="utf-8",
                                                                    xml_declaration=False)


def _sub(parent: ET.Element, name: str, text: str | None) -> None:
    if text is not None:
        ET.SubElement(parent, name).text = text


# --------------------------------------------------------------------------------------------
# Messages


@dataclass(frozen=True)
class SubmitCSRBatch:
    id: str
    csrs: tuple[tuple[str, bytes], ...]  # (DeviceCSR ID, PKCS#10 DER)

    def build(self) -> bytes:
        check_batch_id(self.id)
        if not 1 <= len(self.csrs) <= MAX_BATCH_CSRS:
            raise XmlMessageError(f"A batch holds 1 to {MAX_BATCH_CSRS:,} CSRs, not "
                                  f"{len(self.csrs):,}.")
        root = ET.Element("SubmitCSRBatch")
        _sub(root, "ID", self.id)
        seen: set[str] = set()
        for cid, der in self.csrs:
            check_csr_id(cid)
            if cid in seen:
                raise XmlMessageError(f"DeviceCSR ID {cid!r} appears twice in the batch.")
            seen.add(cid)
            ET.SubElement(root, "DeviceCSR", {"ID": cid}).text = b64(der)
        return _serialise(root)

    @classmethod
    def parse(cls, data: bytes) -> SubmitCSRBatch:
        root = parse_root(data, "SubmitCSRBatch")
        bid = check_batch_id(_text(root, "ID"))
        out: list[tuple[str, bytes]] = []
        seen: set[str] = set()
        for el in root.findall("DeviceCSR"):
            cid = check_csr_id(el.attrib["ID"])
            if cid in seen:
                raise XmlMessageError(f"DeviceCSR ID {cid!r} appears twice in the batch.")
            seen.add(cid)
            out.append((cid, unb64(el.text or "", f"DeviceCSR {cid}")))
        return cls(bid, tuple(out))


@dataclass(frozen=True)
class SubmitCSRBatchResponse:
    batch_id: str
    status: str

    def build(self) -> bytes:
        root = ET.Element("SubmitCSRBatchResponse")
        _sub(root, "BatchId", self.batch_id)
        _sub(root, "Status", _one_of(self.status, BATCH_STATUSES, "Batch status"))
        return _serialise(root)

    @classmethod
    def parse(cls, data: bytes) -> SubmitCSRBatchResponse:
        root = parse_root(data, "SubmitCSRBatchResponse")
        bid = _text(root, "BatchId")
        if not bid.isdigit():
            raise XmlMessageError(f"BatchId {bid!r} is not a number.")
        return cls(bid, _one_of(_text(root, "Status"), BATCH_STATUSES, "Batch status"))


@dataclass(frozen=True)
class CsrResult:
    csr_id: str
    status: str
    error_code: str | None = None
    certificate: bytes | None = None  # DER


@dataclass(frozen=True)
class CSRBatchResult:
    batch_id: str
    status: str
    results: tuple[CsrResult, ...] = ()
    error_code: str | None = None
    id: str | None = None

    def build(self) -> bytes:
        root = ET.Element("CSRBatchResult")
        _sub(root, "BatchId", self.batch_id)
        _sub(root, "ID", self.id)
        _sub(root, "Status", _one_of(self.status, BATCH_STATUSES, "Batch status"))
        _sub(root, "ErrorCode", check_error_code(self.error_code) if self.error_code else None)
        for r in self.results:
            el = ET.SubElement(root, "CSRResult", {"ID": check_csr_id(r.csr_id)})
            _sub(el, "Status", _one_of(r.status, CSR_STATUSES, "CSR status"))
            _sub(el, "ErrorCode", check_error_code(r.error_code) if r.error_code else None)
            _sub(el, "Certificate", b64(r.certificate) if r.certificate else None)
        return _serialise(root)

    @classmethod
    def parse(cls, data: bytes) -> CSRBatchResult:
        root = parse_root(data, "CSRBatchResult")
        results = []
        for el in root.findall("CSRResult"):
            cid = check_csr_id(el.attrib["ID"])
            code = _opt(el, "ErrorCode")
            cert = _opt(el, "Certificate")
            results.append(CsrResult(
                cid, _one_of(_text(el, "Status"), CSR_STATUSES, f"CSR {cid} status"),
                check_error_code(code) if code else None,
                unb64(cert, f"Certificate of {cid}") if cert else None))
        code = _opt(root, "ErrorCode")
        return cls(_text(root, "BatchId"),
                   _one_of(_text(root, "Status"), BATCH_STATUSES, "Batch status"),
                   tuple(results), check_error_code(code) if code else None, _opt(root, "ID"))


@dataclass(frozen=True)
class DeviceCertificateSigningRequest:
    id: str
    csr: bytes
    version: str = "1.0"

    def build(self) -> bytes:
        root = ET.Element("DeviceCertificateSigningRequest")
        _sub(root, "ID", check_adhoc_id(self.id))
        _sub(root, "Version", self.version)
        _sub(root, "CSR", b64(self.csr))
        return _serialise(root)

    @classmethod
    def parse(cls, data: bytes) -> DeviceCertificateSigningRequest:
        root = parse_root(data, "DeviceCertificateSigningRequest")
        version = _text(root, "Version")
        if version != "1.0":
            raise XmlMessageError(f"Version {version!r} is not supported; use 1.0.")
        return cls(check_adhoc_id(_text(root, "ID")), unb64(_text(root, "CSR"), "CSR"), version)


@dataclass(frozen=True)
class DeviceCertificateSigningResponse:
    id: str
    status: str
    error_code: str | None = None
    certificate: bytes | None = None

    def build(self) -> bytes:
        root = ET.Element("DeviceCertificateSigningResponse")
        _sub(root, "ID", check_adhoc_id(self.id))
        _sub(root, "Status", _one_of(self.status, ADHOC_STATUSES, "Status"))
        _sub(root, "ErrorCode", check_error_code(self.error_code) if self.error_code else None)
        _sub(root, "Certificate", b64(self.certificate) if self.certificate else None)
        return _serialise(root)

    @classmethod
    def parse(cls, data: bytes) -> DeviceCertificateSigningResponse:
        root = parse_root(data, "DeviceCertificateSigningResponse")
        code = _opt(root, "ErrorCode")
        cert = _opt(root, "Certificate")
        return cls(_text(root, "ID"), _one_of(_text(root, "Status"), ADHOC_STATUSES, "Status"),
                   check_error_code(code) if code else None,
                   unb64(cert, "Certificate") if cert else None)


@dataclass(frozen=True)
class CertificateSearchRequest:
    """By subject EUI (+ optional role), by device EUI, or (CertificateDataRequest) by serial."""

    subject_eui: str | None = None
    role: str | None = None
    device_eui: str | None = None
    serial: str | None = None

    def build(self) -> bytes:
        if self.serial is not None:
            root = ET.Element("CertificateDataRequest")
            _sub(root, "Serial", self.serial)
            return _serialise(root)
        if not (self.subject_eui or self.device_eui):
            raise XmlMessageError("A search needs a subject EUI, a device EUI or a serial.")
        root = ET.Element("CertificateSearchRequest")
        _sub(root, "SubjectEUI", self.subject_eui)
        _sub(root, "Role", self.role)
        _sub(root, "DeviceEUI", self.device_eui)
        return _serialise(root)

    @classmethod
    def parse(cls, data: bytes) -> CertificateSearchRequest:
        root = parse_root(data, ("CertificateSearchRequest", "CertificateDataRequest"))
        if root.tag == "CertificateDataRequest":
            serial = _text(root, "Serial")
            if not re.fullmatch(r"[0-9A-Fa-f]{1,40}", serial):
                raise XmlMessageError(f"Serial {serial!r} is not hexadecimal.")
            return cls(serial=serial.upper())
        req = cls(_opt(root, "SubjectEUI"), _opt(root, "Role"), _opt(root, "DeviceEUI"))
        if not (req.subject_eui or req.device_eui):
            raise XmlMessageError("CertificateSearchRequest needs SubjectEUI or DeviceEUI.")
        return req


@dataclass(frozen=True)
class RepositoryRecord:
    serial: str
    status: str
    certificate: bytes
    role: str | None = None
    usage: str | None = None  # DS | KA
    subject_eui: str | None = None
    device_eui: str | None = None


@dataclass(frozen=True)
class CertificateSearchResponse:
    results: tuple[RepositoryRecord, ...] = field(default=())

    def build(self) -> bytes:
        root = ET.Element("CertificateSearchResponse")
        for r in self.results:
            el = ET.SubElement(root, "Result")
            _sub(el, "Serial", r.serial)
            _sub(el, "Status", _one_of(r.status, REPO_STATUSES, "Repository status"))
            _sub(el, "Role", r.role)
            _sub(el, "Usage", r.usage)
            _sub(el, "SubjectEUI", r.subject_eui)
            _sub(el, "DeviceEUI", r.device_eui)
            _sub(el, "Certificate", b64(r.certificate))
        return _serialise(root)

    @classmethod
    def parse(cls, data: bytes) -> CertificateSearchResponse:
        root = parse_root(data, "CertificateSearchResponse")
        out = []
        for el in root.findall("Result"):
            usage = _opt(el, "Usage")
            if usage is not None:
                _one_of(usage, ("DS", "KA"), "Usage")
            out.append(RepositoryRecord(
                _text(el, "Serial"),
                _one_of(_text(el, "Status"), REPO_STATUSES, "Repository status"),
                unb64(_text(el, "Certificate"), "Certificate"), _opt(el, "Role"), usage,
                _opt(el, "SubjectEUI"), _opt(el, "DeviceEUI")))
        return cls(tuple(out))


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


@dataclass(frozen=True)
class ErrorResponse:
    error_code: str
    message: str = ""

    def build(self) -> bytes:
        root = ET.Element("ErrorResponse")
        _sub(root, "ErrorCode", check_error_code(self.error_code))
        _sub(root, "Message", self.message or None)
        return _serialise(root)

    @classmethod
    def parse(cls, data: bytes) -> ErrorResponse:
        root = parse_root(data, "ErrorResponse")
        return cls(check_error_code(_text(root, "ErrorCode")), _opt(root, "Message") or "")
