"""The web-service XML messages: round trips, schema checks and hostile input."""

from __future__ import annotations

import time

import pytest

from smki_desktop.core import ws_forms as WF
from smki_desktop.core import ws_xml as W


def test_batch_round_trip_keeps_ids_and_bytes() -> None:
    msg = W.SubmitCSRBatch("client-ref-1", (("d1", b"\x30\x82abc"), ("d_2", bytes(range(256)))))
    data = msg.build()
    assert b"\n" not in data.split(b"?>", 1)[1]
    assert W.SubmitCSRBatch.parse(data) == msg


def test_batch_result_round_trip() -> None:
    res = W.CSRBatchResult("17", "COMPLETED", (
        W.CsrResult("d1", "SUCCESS", None, b"cert"),
        W.CsrResult("d2", "CSR_ERROR", "CR:BadSig", None, "The CSR signature does not verify")))
    assert W.CSRBatchResult.parse(res.build()) == res


def test_search_and_credential_round_trip() -> None:
    req = W.CertificateSearchRequest(subject_name="90-B3-D5-1F-30-01-00-00")
    assert W.CertificateSearchRequest.parse(req.build()) == req
    data_req = W.CertificateDataRequest("0a1b")
    assert W.CertificateDataRequest.parse(data_req.build()).serial == "0A1B"
    cr = WF.CredentialResponse("x", "COMPLETED", None, b"c", (b"a", b"b"), "key")
    assert WF.CredentialResponse.parse(cr.build()) == cr


@pytest.mark.parametrize("bad_id", ["", "1abc", "a b", "x" * 101])
def test_device_csr_id_must_be_xs_id(bad_id: str) -> None:
    with pytest.raises(W.XmlMessageError, match="xs:ID"):
        W.SubmitCSRBatch("ref", ((bad_id, b"x"),)).build()


def test_duplicate_csr_ids_rejected() -> None:
    with pytest.raises(W.XmlMessageError, match="twice"):
        W.SubmitCSRBatch("ref", (("a", b"x"), ("a", b"y"))).build()


def test_adhoc_id_length() -> None:
    with pytest.raises(W.XmlMessageError, match="1 to 32"):
        W.DeviceCertificateSigningRequest("x" * 33, b"csr").build()


def test_error_code_format() -> None:
    assert W.check_error_code("CS:Bad1") == "CS:Bad1"
    for bad in ["cs:bad", "CSBad", "CS:Toolong12"]:
        with pytest.raises(W.XmlMessageError, match="ErrorCode"):
            W.check_error_code(bad)


def test_unexpected_element_rejected_with_path() -> None:
    data = b"<SubmitCSRBatchStatus><Version>1.0</Version><Build>b</Build><BatchStatus>" \
           b"PENDING</BatchStatus><BatchId>1</BatchId><Evil/></SubmitCSRBatchStatus>"
    with pytest.raises(W.XmlMessageError, match="unexpected element 'Evil'"):
        W.SubmitCSRBatchStatus.parse(data)


def test_wrong_root_and_unknown_status() -> None:
    with pytest.raises(W.XmlMessageError, match="Expected a CSRBatchResult"):
        W.CSRBatchResult.parse(b"<ErrorResponse><ErrorCode>AB:1</ErrorCode></ErrorResponse>")
    with pytest.raises(W.XmlMessageError, match="BatchStatus 'DONE'"):
        W.SubmitCSRBatchStatus.parse(
            b"<SubmitCSRBatchStatus><Version>1.0</Version><Build>b</Build><BatchStatus>DONE"
            b"</BatchStatus><BatchId>1</BatchId></SubmitCSRBatchStatus>")


def test_base64_with_armour_rejected() -> None:
    for body in [b"-----BEGIN CERTIFICATE REQUEST-----", b"QUJ", b"QU*D"]:
        data = b"<SubmitCSRBatch ID='r'><Version>1.0</Version><DeviceCSR ID='a'>" + body + \
               b"</DeviceCSR></SubmitCSRBatch>"
        with pytest.raises(W.XmlMessageError, match="base64"):
            W.SubmitCSRBatch.parse(data)


def test_malformed_xml_clear_error() -> None:
    with pytest.raises(W.XmlMessageError, match="Malformed XML"):
        W.SubmitCSRBatchStatus.parse(b"<SubmitCSRBatchStatus><BatchId>")


def test_billion_laughs_rejected_fast() -> None:
    lol = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + b"".join(b'<!ENTITY lol%d "%s">' % (i + 1, (b"&lol%d;" % i if i else b"&lol;") * 10)
                      for i in range(9))
           + b']><ErrorResponse><ErrorCode>&lol9;</ErrorCode></ErrorResponse>')
    t0 = time.perf_counter()
    with pytest.raises(W.XmlMessageError, match="Hostile XML"):
        W.ErrorResponse.parse(lol)
    assert time.perf_counter() - t0 < 2


def test_external_entity_rejected() -> None:
    xxe = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b"<ErrorResponse><ErrorCode>&x;</ErrorCode></ErrorResponse>")
    with pytest.raises(W.XmlMessageError, match="Hostile XML"):
        W.ErrorResponse.parse(xxe)


def test_100_mb_body_rejected_before_parsing_in_under_2_s() -> None:
    body = b"<CSRBatchResult>" + b" " * (100 * 1024 * 1024) + b"</CSRBatchResult>"
    t0 = time.perf_counter()
    with pytest.raises(W.XmlMessageError, match="exceeds the limit"):
        W.CSRBatchResult.parse(body)
    assert time.perf_counter() - t0 < 2
