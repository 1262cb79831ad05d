"""The DCC's web-service XML messages, exactly as SEC Appendix M publishes them, and the SMKI
Repository's search and retrieval messages as DCC Boxed serves them: build and parse.

- Ad hoc Device CSR (AppM Appendix A/B): `DeviceCertificateSigningRequest ID=` with `Version`
  and `CertificateSigningRequest`; `DeviceCertificateSigningResponse` with `Version`, `Build`,
  `TransactionId`, `Status` and a `Certificate` or an `Error` (`ErrorCode` + `ErrorText`).
- Batched Device CSRs (AppM Appendix C/D/E): `SubmitCSRBatch ID=` with `Version` and
  `DeviceCSR ID=` entries; `SubmitCSRBatchStatus`; `CSRBatchResult` with `BatchStatus`,
  `BatchId` and `DeviceCertificate ID=` entries, or an `Error`.
- Repository (DCC Boxed, the DCC's client `@smartdcc/dccboxed-keystore`): `CertificateSearchRequest`
  / `CertificateSearchResponse`, `CertificateDataRequest` / `CertificateDataResponse`.
- The simulator's own portal forms (Organisation CSR, revocation, enrolment): our shapes,
  in `core/ws_forms.py`.

The XSDs written from the published text are in `resources/schemas/appm/`; the tests validate
every message built here against them. At run time the parse is hostile-input safe without
them: the size is capped *before* parsing, `defusedxml` forbids DTDs, entities and external
references, an undeclared encoding is a clear error, and every message is checked against a
small structural schema (allowed elements, their counts and attributes; nesting is bounded by
it). Shared by the app's client and by the simulator. Pure: bytes in, dataclasses out.
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
MAX_BATCH_CSRS = 50_000  # AppM 2.5.1.2 b) and SEC L8.2
#: an ErrorText longer than this is cut (it goes into messages, the outbox and the audit log)
MAX_ERROR_TEXT = 1000
VERSION = "1.0"  # the web-service interface version (AppM Appendix B and E hard-code it)
BUILD = "smki-desktop-sim-1"  # the simulator's software build (the DCC's own is free text)
BATCH_SUBMIT_PATH = "/1.0/PortalCSRBatch/SubmitCSRBatch"  # AppM Appendix C (POST)
BATCH_RESULT_PATH = "/1.0/PortalCSRBatch/CSRBatchResult"  # AppM Appendix D (GET ?BatchId=N)
#: AppM leaves the ad hoc URL to the SMKI User Guide (not public): this default (a setting,
#: `portal.adhoc_path`) follows the batched interface's pattern [inferred].
ADHOC_PATH = "/1.0/PortalCSR/DeviceCertificateSigningRequest"
REPO_SEARCH_PATH = "/services/certificatesearch"  # DCC Boxed / @smartdcc/dccboxed-keystore
REPO_RETRIEVE_PATH = "/services/retrievecertificate"

#: CSRBatchResult BatchStatus values (AppM Appendix D)
BATCH_STATUSES = ("PENDING", "REJECTED", "PARSING", "QUEUED", "PROCESSING", "PAUSED",
                  "COMPLETED", "TAMPERED", "FORMAT_ERROR", "WORKFLOW_ERROR")
#: SubmitCSRBatchStatus BatchStatus values (AppM Appendix C)
SUBMIT_STATUSES = ("PENDING", "FORMAT_ERROR", "WORKFLOW_ERROR")
#: DeviceCertificate Status values in a batch result (AppM Appendix D)
CSR_STATUSES = ("SUCCESS", "ISSUANCE_ANOMALY", "INELIGIBLE", "CSR_ERROR", "CA_ERROR",
                "WORKFLOW_ERROR")
#: DeviceCertificateSigningResponse Status values (AppM Appendix A/B)
ADHOC_STATUSES = ("SUCCESS", "ISSUANCE_ANOMALY", "UNKNOWN_DEVICE", "CA_ERROR", "CSR_ERROR",
                  "FORMAT_ERROR", "WORKFLOW_ERROR")
#: the ErrorCode prefix AppM gives each failing status ("Response Status", "Status values")
ERROR_PREFIX = {"UNKNOWN_DEVICE": "UD", "ISSUANCE_ANOMALY": "CA", "INELIGIBLE": "IN",
                "CSR_ERROR": "CR", "CA_ERROR": "CA", "FORMAT_ERROR": "FM",
                "WORKFLOW_ERROR": "WF"}
ORG_STATUSES = ("PENDING", "COMPLETED", "REJECTED")
REPO_STATUSES = ("P", "I", "N", "E", "R")  # pending, in use, not in use, expired, revoked
REPO_USAGES = ("DS", "KA")
#: CertificateRole in the repository: the Remote Party Role as a decimal number
REPO_ROLES = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "127", "135", "137")

_ERROR_CODE = re.compile(r"^[A-Z]{2}:[A-Za-z0-9]+$")
_NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_B64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")
_XML_SPACE = re.compile(r"[ \t\r\n]+")
_EUI_TEXT = re.compile(r"^[0-9A-F]{2}(-[0-9A-F]{2}){7}$")
_SERIAL = re.compile(r"^[0-9A-Fa-f]{1,40}$")


class XmlMessageError(InputError):
    """A message that is too big, not well-formed, hostile, or not what the schema allows."""


class BatchTooLarge(XmlMessageError):
    """A SubmitCSRBatch with more CSRs than AppM allows (the DCC answers FM:AA2)."""


# --------------------------------------------------------------------------------------------
# Field checks


def check_error_code(code: str) -> str:
    if len(code) > 10 or not _ERROR_CODE.match(code):
        raise XmlMessageError(f"ErrorCode {code!r} is not of the form AA:xxxx (at most 10 "
                              "characters).")
    return code


def b64(data: bytes) -> str:
    """Base64 without armour or whitespace (AppM: the RFC 7468 'base64text', no whitespace)."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: str, what: str) -> bytes:
    """xs:base64Binary: whitespace between the characters is allowed (the DCC Boxed client's
    samples wrap it); armour and other characters are not."""
    text = _XML_SPACE.sub("", text)
    if not text or not _B64.match(text) or len(text) % 4:
        raise XmlMessageError(f"{what}: not base64 without armour.")
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


def check_positive(text: str, what: str) -> str:
    if not text.isascii() or not text.isdigit() or len(text) > 20 or int(text) < 1:
        raise XmlMessageError(f"{what} {text[:40]!r} is not a positive integer.")
    return str(int(text))


def check_version(text: str) -> str:
    if text != VERSION:
        raise XmlMessageError(f"Version {text[:40]!r} is not supported; this interface is "
                              f"version {VERSION}.")
    return text


def eui_text(eui_hex: str) -> str:
    """'90B3D51F30010000' -> '90-B3-D5-1F-30-01-00-00' (the repository's form)."""
    h = eui_hex.replace("-", "").upper()
    return "-".join(h[i:i + 2] for i in range(0, 16, 2))


def check_eui_text(text: str, what: str) -> str:
    if not _EUI_TEXT.match(text):
        raise XmlMessageError(f"{what} {text[:40]!r} is not an EUI-64 written as eight "
                              "hyphenated upper-case octets (90-B3-D5-1F-30-01-00-00).")
    return text


def check_serial(text: str) -> str:
    if not _SERIAL.match(text):
        raise XmlMessageError(f"CertificateSerial {text[:60]!r} is not hexadecimal.")
    return text.upper()


def role_to_repo(ou: str) -> str:
    """Subject OU ('02', '7F') -> the repository's decimal CertificateRole ('2', '127')."""
    return str(int(ou, 16))


def role_from_repo(value: str) -> str:
    """The repository's decimal CertificateRole -> the subject OU form ('02', '7F')."""
    _one_of(value, REPO_ROLES, "CertificateRole")
    return f"{int(value):02X}"


def _one_of(value: str, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise XmlMessageError(f"{what} {value[:40]!r} is not one of {', '.join(allowed)}.")
    return value


# --------------------------------------------------------------------------------------------
# Structural schema: element -> ({attribute: required}, [(child, min, max)]); leaves (no entry)
# hold text only. Order is not enforced here (the XSDs in resources/ do, in the tests).

_UNBOUNDED = 10**9
_REPO_RECORD = [("CertificateSerial", 1, 1), ("CertificateSubjectName", 0, 1),
                ("CertificateSubjectAltName", 0, 1), ("CertificateStatus", 1, 1),
                ("CertificateRole", 0, 1), ("CertificateUsage", 1, 1),
                ("ManufacturingFlag", 0, 1), ("CertificateBody", 0, 1)]
_REPO_HEAD = [("ResponseCode", 1, 1), ("ResponseMessage", 0, 1), ("AuditReference", 0, 1)]
_SCHEMA: dict[str, tuple[dict[str, bool], list[tuple[str, int, int]]]] = {
    "SubmitCSRBatch": ({"ID": True}, [("Version", 1, 1), ("DeviceCSR", 1, MAX_BATCH_CSRS)]),
    "SubmitCSRBatchStatus": ({"ID": False}, [("Version", 1, 1), ("Build", 1, 1),
                                             ("BatchStatus", 1, 1), ("BatchId", 0, 1),
                                             ("Error", 0, 1)]),
    "CSRBatchResult": ({"ID": False}, [("Version", 1, 1), ("Build", 1, 1),
                                       ("BatchStatus", 1, 1), ("BatchId", 0, 1),
                                       ("Error", 0, 1),
                                       ("DeviceCertificate", 0, MAX_BATCH_CSRS)]),
    "DeviceCertificate": ({"ID": True}, [("Status", 1, 1), ("Certificate", 0, 1),
                                         ("Error", 0, 1)]),
    "Error": ({}, [("ErrorCode", 1, 1), ("ErrorText", 1, 1)]),
    "DeviceCertificateSigningRequest": ({"ID": True}, [("Version", 1, 1),
                                                       ("CertificateSigningRequest", 1, 1)]),
    "DeviceCertificateSigningResponse": ({"ID": False}, [
        ("Version", 1, 1), ("Build", 1, 1), ("TransactionId", 1, 1), ("Status", 1, 1),
        ("Certificate", 0, 1), ("Error", 0, 1)]),
    "CertificateSearchRequest": ({}, [("CertificateSubjectName", 0, 1),
                                      ("CertificateSubjectAltName", 0, 1)]),
    "CertificateDataRequest": ({}, [("CertificateSerial", 1, 1)]),
    "CertificateSearchResponse": ({}, [*_REPO_HEAD, ("Result", 0, _UNBOUNDED)]),
    "CertificateDataResponse": ({}, [*_REPO_HEAD, ("CertificateResponse", 0, 1)]),
    "Result": ({}, _REPO_RECORD),
    "CertificateResponse": ({}, _REPO_RECORD),
    "OrganisationCSRSubmission": ({}, [("ID", 1, 1), ("CSRText", 1, 1)]),
    "OrganisationCSRResponse": ({}, [("ID", 1, 1), ("RequestId", 1, 1), ("Status", 1, 1),
                                     ("ErrorCode", 0, 1), ("Certificate", 0, 1)]),
    "CredentialRequest": ({}, [("ID", 1, 1), ("Purpose", 1, 1), ("CSR", 1, 1)]),
    "CredentialResponse": ({}, [("ID", 1, 1), ("Status", 1, 1), ("ErrorCode", 0, 1),
                                ("Certificate", 0, 1), ("CACertificate", 0, 8),
                                ("APIKey", 0, 1)]),
    "RevocationRequest": ({}, [("ID", 1, 1), ("Serial", 1, 1), ("Reason", 0, 1)]),
    "RevocationResponse": ({}, [("ID", 1, 1), ("Status", 1, 1), ("ErrorCode", 0, 1)]),
    "ErrorResponse": ({}, [("ErrorCode", 1, 1), ("Message", 0, 1)]),
}
_LEAF_ATTRS: dict[str, dict[str, bool]] = {"DeviceCSR": {"ID": True}}
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
#: elements AppM's schemas declare nillable="true": only the ad hoc answer's Certificate
#: (Appendix B; the batch result's is nillable="false", Appendix E)
_NILLABLE = frozenset({"DeviceCertificateSigningResponse/Certificate"})


def _check_nil(el: ET.Element, path: str) -> None:
    """xsi:nil (an xs:boolean) on a nillable element; a nil element has no content."""
    value = _XML_SPACE.sub(" ", el.attrib[XSI_NIL]).strip()
    if value not in ("true", "false", "1", "0"):
        raise XmlMessageError(f"{path}: xsi:nil {value[:20]!r} is not a boolean.")
    if value in ("true", "1") and ((el.text or "").strip() or len(el)):
        raise XmlMessageError(f"{path}: marked xsi:nil but not empty.")


def _check(el: ET.Element, path: str) -> None:
    tag = el.tag
    if not isinstance(tag, str) or "}" in tag:
        raise XmlMessageError(f"{path}: unexpected namespaced element {tag!r}.")
    attrs, children = _SCHEMA.get(tag, (_LEAF_ATTRS.get(tag, {}), []))
    if path in _NILLABLE and XSI_NIL in el.attrib:
        _check_nil(el, path)
        attrs = {**attrs, XSI_NIL: False}
    extra = set(el.attrib) - set(attrs)
    if extra:
        raise XmlMessageError(f"{path}: unexpected attribute(s) {', '.join(sorted(extra))}.")
    for a, required in attrs.items():
        if required and a not in el.attrib:
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
            if tag == "SubmitCSRBatch" and name == "DeviceCSR":
                raise BatchTooLarge(f"The batch holds {n:,} CSRs; at most {hi:,} are allowed.")
            raise XmlMessageError(f"{path}: {n} {name} elements, at most {hi} allowed.")
    for child in el:
        _check(child, f"{path}/{child.tag}")


def parse_root(data: bytes, expect: str | Sequence[str], *,
               max_bytes: int = MAX_MESSAGE_BYTES) -> ET.Element:
    """Parse and validate one message. `expect` names the allowed root element(s)."""
    if len(data) > max_bytes:
        raise XmlMessageError(f"Message of {len(data):,} bytes exceeds the limit of "
                              f"{max_bytes:,} bytes.")
    # the DCC Boxed client's samples put blank lines before the XML declaration
    data = data.lstrip(b" \t\r\n")
    try:
        root: ET.Element = DET.fromstring(data, forbid_dtd=True, forbid_entities=True,
                                          forbid_external=True)
    except DefusedXmlException as exc:
        raise XmlMessageError(f"Hostile XML refused: {type(exc).__name__} ({exc}).") from None
    except ET.ParseError as exc:
        raise XmlMessageError(f"Malformed XML: {exc}.") from None
    except LookupError as exc:  # an encoding Python does not know
        raise XmlMessageError(f"The XML declares an encoding that cannot be read ({exc}); "
                              "use UTF-8.") from None
    except (ValueError, UnicodeError) as exc:
        raise XmlMessageError(f"The XML cannot be decoded: {exc}.") from None
    names = (expect,) if isinstance(expect, str) else tuple(expect)
    if root.tag not in names:
        raise XmlMessageError(f"Expected a {' or '.join(names)} message, got "
                              f"{str(root.tag)[:80]!r}.")
    _check(root, root.tag)
    return root


def parse_legacy(data: bytes, root_name: str) -> ET.Element:
    """Read an outbox payload stored before issue 17 (this app's former shapes): the same
    size cap and defusedxml defences, no structural schema."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise XmlMessageError(f"Stored message of {len(data):,} bytes exceeds the limit.")
    try:
        root: ET.Element = DET.fromstring(data, forbid_dtd=True, forbid_entities=True,
                                          forbid_external=True)
    except (DefusedXmlException, ET.ParseError, LookupError, ValueError) as exc:
        raise XmlMessageError(f"Stored {root_name} cannot be read: {exc}.") from None
    if root.tag != root_name:
        raise XmlMessageError(f"Stored message is a {str(root.tag)[:40]!r}, not a {root_name}.")
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
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>' + body


def _sub(parent: ET.Element, name: str, text: str | None) -> None:
    if text is not None:
        ET.SubElement(parent, name).text = text


def _error(parent: ET.Element, code: str | None, text: str | None) -> None:
    if code is not None:
        err = ET.SubElement(parent, "Error")
        _sub(err, "ErrorCode", check_error_code(code))
        _sub(err, "ErrorText", text or code)


def _read_error(el: ET.Element) -> tuple[str | None, str | None]:
    err = el.find("Error")
    if err is None:
        return None, None
    text = _text(err, "ErrorText")
    if len(text) > MAX_ERROR_TEXT:
        text = text[:MAX_ERROR_TEXT] + "…"
    return check_error_code(_text(err, "ErrorCode")), text


def _cert_or_error(el: ET.Element, what: str, *, cert_needed: bool
                   ) -> tuple[bytes | None, str | None, str | None]:
    """AppM's choice of a Certificate or an Error: exactly one (or neither where allowed). A
    Certificate marked xsi:nil (allowed where `_NILLABLE` says) is "no certificate"."""
    cert = _opt(el, "Certificate")
    code, text = _read_error(el)
    if cert is not None and code is not None:
        raise XmlMessageError(f"{what}: both a Certificate and an Error.")
    if cert_needed and cert is None and code is None:
        raise XmlMessageError(f"{what}: neither a Certificate nor an Error.")
    return (unb64(cert, f"Certificate of {what}") if cert else None), code, text


# --------------------------------------------------------------------------------------------
# Batched Device CSR web service (AppM Appendix C, D, E)


@dataclass(frozen=True)
class SubmitCSRBatch:
    """POST {base}/1.0/PortalCSRBatch/SubmitCSRBatch."""

    id: str
    csrs: tuple[tuple[str, bytes], ...]  # (DeviceCSR ID, PKCS#10 DER)
    version: str = VERSION

    def build(self) -> bytes:
        check_batch_id(self.id)
        if not 1 <= len(self.csrs) <= MAX_BATCH_CSRS:
            raise XmlMessageError(f"A batch holds 1 to {MAX_BATCH_CSRS:,} CSRs, not "
                                  f"{len(self.csrs):,}.")
        root = ET.Element("SubmitCSRBatch", {"ID": self.id})
        _sub(root, "Version", check_version(self.version))
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
        bid = check_batch_id(root.attrib["ID"])
        version = check_version(_text(root, "Version"))
        out: list[tuple[str, bytes]] = []
        seen: set[str] = set()
        for el in root.findall("DeviceCSR"):
            cid = check_csr_id(el.attrib["ID"])
            if cid in seen:
                raise XmlMessageError(f"DeviceCSR ID {cid!r} appears twice in the batch.")
            seen.add(cid)
            out.append((cid, unb64(el.text or "", f"DeviceCSR {cid}")))
        return cls(bid, tuple(out), version)


@dataclass(frozen=True)
class SubmitCSRBatchStatus:
    """The answer to SubmitCSRBatch: PENDING with a BatchId, or FORMAT_ERROR / WORKFLOW_ERROR
    with an Error (the ID is absent when the DCC could not read the request)."""

    status: str
    batch_id: str | None = None
    error_code: str | None = None
    error_text: str | None = None
    id: str | None = None
    build_id: str = BUILD
    version: str = VERSION

    def build(self) -> bytes:
        root = ET.Element("SubmitCSRBatchStatus", {"ID": self.id} if self.id else {})
        _sub(root, "Version", self.version)
        _sub(root, "Build", self.build_id)
        _sub(root, "BatchStatus", _one_of(self.status, SUBMIT_STATUSES, "BatchStatus"))
        if (self.batch_id is None) == (self.error_code is None):
            raise XmlMessageError("SubmitCSRBatchStatus carries a BatchId or an Error.")
        _sub(root, "BatchId", check_positive(self.batch_id, "BatchId")
             if self.batch_id is not None else None)
        _error(root, self.error_code, self.error_text)
        return _serialise(root)

    @classmethod
    def parse(cls, data: bytes) -> SubmitCSRBatchStatus:
        root = parse_root(data, "SubmitCSRBatchStatus")
        version = check_version(_text(root, "Version"))
        status = _one_of(_text(root, "BatchStatus"), SUBMIT_STATUSES, "BatchStatus")
        bid = _opt(root, "BatchId")
        code, text = _read_error(root)
        if (bid is None) == (code is None):
            raise XmlMessageError("SubmitCSRBatchStatus: expected a BatchId or an Error.")
        if status == "PENDING" and bid is None:
            raise XmlMessageError("SubmitCSRBatchStatus: PENDING without a BatchId.")
        return cls(status, check_positive(bid, "BatchId") if bid is not None else None,
                   code, text, root.attrib.get("ID"), _text(root, "Build"), version)


@dataclass(frozen=True)
class CsrResult:
    """One DeviceCertificate of a CSRBatchResult (ID = the DeviceCSR ID submitted)."""

    csr_id: str
    status: str
    error_code: str | None = None
    certificate: bytes | None = None  # DER
    error_text: str | None = None


@dataclass(frozen=True)
class CSRBatchResult:
    """GET {base}/1.0/PortalCSRBatch/CSRBatchResult?BatchId=N. `batch_id` is None when the
    DCC answers with an Error (unknown BatchId, other error)."""

    batch_id: str | None
    status: str
    results: tuple[CsrResult, ...] = ()
    error_code: str | None = None
    id: str | None = None
    error_text: str | None = None
    build_id: str = BUILD
    version: str = VERSION

    def build(self) -> bytes:
        root = ET.Element("CSRBatchResult", {"ID": self.id} if self.id else {})
        _sub(root, "Version", self.version)
        _sub(root, "Build", self.build_id)
        _sub(root, "BatchStatus", _one_of(self.status, BATCH_STATUSES, "BatchStatus"))
        if self.error_code is not None:
            if self.batch_id is not None or self.results:
                raise XmlMessageError("A CSRBatchResult with an Error carries no BatchId or "
                                      "DeviceCertificate.")
            _error(root, self.error_code, self.error_text)
            return _serialise(root)
        if self.batch_id is None:
            if self.results:
                raise XmlMessageError("DeviceCertificate results need a BatchId.")
            return _serialise(root)
        _sub(root, "BatchId", check_positive(self.batch_id, "BatchId"))
        for r in self.results:
            el = ET.SubElement(root, "DeviceCertificate", {"ID": check_csr_id(r.csr_id)})
            _sub(el, "Status", _one_of(r.status, CSR_STATUSES, "DeviceCertificate Status"))
            if (r.certificate is None) == (r.error_code is None):
                raise XmlMessageError(f"DeviceCertificate {r.csr_id}: a Certificate or an "
                                      "Error.")
            _sub(el, "Certificate", b64(r.certificate) if r.certificate is not None else None)
            _error(el, r.error_code, r.error_text)
        return _serialise(root)

    @classmethod
    def parse(cls, data: bytes) -> CSRBatchResult:
        root = parse_root(data, "CSRBatchResult")
        version = check_version(_text(root, "Version"))
        status = _one_of(_text(root, "BatchStatus"), BATCH_STATUSES, "BatchStatus")
        code, text = _read_error(root)
        bid = _opt(root, "BatchId")
        items = root.findall("DeviceCertificate")
        if code is not None and (bid is not None or items):
            raise XmlMessageError("CSRBatchResult: an Error with a BatchId or results.")
        if items and bid is None:
            raise XmlMessageError("CSRBatchResult: results without a BatchId.")
        results = []
        seen: set[str] = set()
        for el in items:
            cid = check_csr_id(el.attrib["ID"])
            if cid in seen:
                raise XmlMessageError(f"DeviceCertificate ID {cid!r} appears twice.")
            seen.add(cid)
            st = _one_of(_text(el, "Status"), CSR_STATUSES, f"DeviceCertificate {cid} Status")
            cert, ecode, etext = _cert_or_error(el, f"DeviceCertificate {cid}", cert_needed=True)
            if st == "SUCCESS" and cert is None:
                raise XmlMessageError(f"DeviceCertificate {cid}: SUCCESS without a Certificate.")
            results.append(CsrResult(cid, st, ecode, cert, etext))
        return cls(check_positive(bid, "BatchId") if bid is not None else None, status,
                   tuple(results), code, root.attrib.get("ID"), text, _text(root, "Build"),
                   version)


# --------------------------------------------------------------------------------------------
# Ad hoc Device CSR web service (AppM Appendix A, B)


@dataclass(frozen=True)
class DeviceCertificateSigningRequest:
    id: str
    csr: bytes
    version: str = VERSION

    def build(self) -> bytes:
        root = ET.Element("DeviceCertificateSigningRequest", {"ID": check_adhoc_id(self.id)})
        _sub(root, "Version", check_version(self.version))
        _sub(root, "CertificateSigningRequest", b64(self.csr))
        return _serialise(root)

    @classmethod
    def parse(cls, data: bytes) -> DeviceCertificateSigningRequest:
        root = parse_root(data, "DeviceCertificateSigningRequest")
        version = check_version(_text(root, "Version"))
        return cls(check_adhoc_id(root.attrib["ID"]),
                   unb64(_text(root, "CertificateSigningRequest"), "CertificateSigningRequest"),
                   version)


@dataclass(frozen=True)
class DeviceCertificateSigningResponse:
    """`id` is None when the DCC could not read the request (FORMAT_ERROR)."""

    id: str | None
    status: str
    error_code: str | None = None
    certificate: bytes | None = None
    transaction_id: str = "1"
    error_text: str | None = None
    build_id: str = BUILD
    version: str = VERSION

    def build(self) -> bytes:
        root = ET.Element("DeviceCertificateSigningResponse",
                          {"ID": check_adhoc_id(self.id)} if self.id else {})
        _sub(root, "Version", self.version)
        _sub(root, "Build", self.build_id)
        _sub(root, "TransactionId", check_positive(self.transaction_id, "TransactionId"))
        _sub(root, "Status", _one_of(self.status, ADHOC_STATUSES, "Status"))
        if (self.certificate is None) == (self.error_code is None):
            raise XmlMessageError("DeviceCertificateSigningResponse: a Certificate or an Error.")
        _sub(root, "Certificate", b64(self.certificate) if self.certificate is not None
             else None)
        _error(root, self.error_code, self.error_text)
        return _serialise(root)

    @classmethod
    def parse(cls, data: bytes) -> DeviceCertificateSigningResponse:
        root = parse_root(data, "DeviceCertificateSigningResponse")
        version = check_version(_text(root, "Version"))
        status = _one_of(_text(root, "Status"), ADHOC_STATUSES, "Status")
        cert, code, text = _cert_or_error(root, "DeviceCertificateSigningResponse",
                                          cert_needed=True)
        if status == "SUCCESS" and cert is None:
            raise XmlMessageError("DeviceCertificateSigningResponse: SUCCESS without a "
                                  "Certificate.")
        rid = root.attrib.get("ID")
        return cls(check_adhoc_id(rid) if rid is not None else None, status, code, cert,
                   check_positive(_text(root, "TransactionId"), "TransactionId"), text,
                   _text(root, "Build"), version)


# --------------------------------------------------------------------------------------------
# SMKI Repository (DCC Boxed; the DCC's client @smartdcc/dccboxed-keystore)


@dataclass(frozen=True)
class CertificateSearchRequest:
    """POST {base}/services/certificatesearch?apikey=KEY: by an Organisation EUI
    (CertificateSubjectName) or a device EUI (CertificateSubjectAltName), hyphenated."""

    subject_name: str | None = None
    subject_alt_name: str | None = None

    def build(self) -> bytes:
        if (self.subject_name is None) == (self.subject_alt_name is None):
            raise XmlMessageError("A repository search names one subject EUI or one device "
                                  "EUI.")
        root = ET.Element("CertificateSearchRequest")
        if self.subject_name is not None:
            _sub(root, "CertificateSubjectName",
                 check_eui_text(self.subject_name, "CertificateSubjectName"))
        else:
            _sub(root, "CertificateSubjectAltName",
                 check_eui_text(self.subject_alt_name or "", "CertificateSubjectAltName"))
        return _serialise(root)

    @classmethod
    def parse(cls, data: bytes) -> CertificateSearchRequest:
        root = parse_root(data, "CertificateSearchRequest")
        name, alt = _opt(root, "CertificateSubjectName"), _opt(root, "CertificateSubjectAltName")
        if (name is None) == (alt is None):
            raise XmlMessageError("CertificateSearchRequest needs exactly one of "
                                  "CertificateSubjectName or CertificateSubjectAltName.")
        if name is not None:
            return cls(subject_name=check_eui_text(name, "CertificateSubjectName"))
        return cls(subject_alt_name=check_eui_text(alt or "", "CertificateSubjectAltName"))


@dataclass(frozen=True)
class CertificateDataRequest:
    """POST {base}/services/retrievecertificate?apikey=KEY."""

    serial: str

    def build(self) -> bytes:
        root = ET.Element("CertificateDataRequest")
        _sub(root, "CertificateSerial", check_serial(self.serial))
        return _serialise(root)

    @classmethod
    def parse(cls, data: bytes) -> CertificateDataRequest:
        root = parse_root(data, "CertificateDataRequest")
        return cls(check_serial(_text(root, "CertificateSerial")))


@dataclass(frozen=True)
class RepositoryRecord:
    """One Result (search) or CertificateResponse (retrieval). `role` is decimal as the
    repository writes it (Organisation certificates only); `body` only in a retrieval."""

    serial: str
    status: str
    usage: str
    subject_name: str | None = None
    subject_alt_name: str | None = None
    role: str | None = None
    manufacturing_flag: bool | None = None
    body: bytes | None = None


def _record(parent: ET.Element, tag: str, r: RepositoryRecord) -> None:
    el = ET.SubElement(parent, tag)
    _sub(el, "CertificateSerial", check_serial(r.serial))
    _sub(el, "CertificateSubjectName", check_eui_text(r.subject_name, "CertificateSubjectName")
         if r.subject_name else None)
    _sub(el, "CertificateSubjectAltName",
         check_eui_text(r.subject_alt_name, "CertificateSubjectAltName")
         if r.subject_alt_name else None)
    _sub(el, "CertificateStatus", _one_of(r.status, REPO_STATUSES, "CertificateStatus"))
    _sub(el, "CertificateRole", _one_of(r.role, REPO_ROLES, "CertificateRole")
         if r.role is not None else None)
    _sub(el, "CertificateUsage", _one_of(r.usage, REPO_USAGES, "CertificateUsage"))
    _sub(el, "ManufacturingFlag", None if r.manufacturing_flag is None
         else ("true" if r.manufacturing_flag else "false"))
    _sub(el, "CertificateBody", b64(r.body) if r.body is not None else None)


def _read_record(el: ET.Element) -> RepositoryRecord:
    serial = check_serial(_text(el, "CertificateSerial"))
    name, alt = _opt(el, "CertificateSubjectName"), _opt(el, "CertificateSubjectAltName")
    if (name is None) == (alt is None):
        raise XmlMessageError(f"Certificate {serial}: expected a CertificateSubjectName or a "
                              "CertificateSubjectAltName.")
    role = _opt(el, "CertificateRole")
    flag = _opt(el, "ManufacturingFlag")
    if flag is not None and flag not in ("true", "false", "1", "0"):
        raise XmlMessageError(f"Certificate {serial}: ManufacturingFlag {flag[:20]!r} is not "
                              "a boolean.")
    body = _opt(el, "CertificateBody")
    return RepositoryRecord(
        serial, _one_of(_text(el, "CertificateStatus"), REPO_STATUSES, "CertificateStatus"),
        _one_of(_text(el, "CertificateUsage"), REPO_USAGES, "CertificateUsage"),
        check_eui_text(name, "CertificateSubjectName") if name is not None else None,
        check_eui_text(alt, "CertificateSubjectAltName") if alt is not None else None,
        _one_of(role, REPO_ROLES, "CertificateRole") if role is not None else None,
        None if flag is None else flag in ("true", "1"),
        unb64(body, f"CertificateBody of {serial}") if body is not None else None)


def _repo_head(root: ET.Element, code: str, message: str, audit: str | None) -> None:
    _sub(root, "ResponseCode", code)
    _sub(root, "ResponseMessage", message)
    _sub(root, "AuditReference", audit)


@dataclass(frozen=True)
class CertificateSearchResponse:
    results: tuple[RepositoryRecord, ...] = field(default=())
    response_code: str = "200"
    response_message: str = "Success"
    audit_reference: str | None = None

    def build(self) -> bytes:
        root = ET.Element("CertificateSearchResponse")
        _repo_head(root, self.response_code, self.response_message, self.audit_reference)
        for r in self.results:
            _record(root, "Result", r)
        return _serialise(root)

    @classmethod
    def parse(cls, data: bytes) -> CertificateSearchResponse:
        root = parse_root(data, "CertificateSearchResponse")
        return cls(tuple(_read_record(el) for el in root.findall("Result")),
                   _text(root, "ResponseCode"), _opt(root, "ResponseMessage") or "",
                   _opt(root, "AuditReference"))


@dataclass(frozen=True)
class CertificateDataResponse:
    result: RepositoryRecord | None
    response_code: str = "200"
    response_message: str = "Success"
    audit_reference: str | None = None

    def build(self) -> bytes:
        root = ET.Element("CertificateDataResponse")
        _repo_head(root, self.response_code, self.response_message, self.audit_reference)
        if self.result is not None:
            _record(root, "CertificateResponse", self.result)
        return _serialise(root)

    @classmethod
    def parse(cls, data: bytes) -> CertificateDataResponse:
        root = parse_root(data, "CertificateDataResponse")
        el = root.find("CertificateResponse")
        return cls(_read_record(el) if el is not None else None, _text(root, "ResponseCode"),
                   _opt(root, "ResponseMessage") or "", _opt(root, "AuditReference"))


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
