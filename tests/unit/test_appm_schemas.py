"""The DCC's messages against the XSDs written from SEC Appendix M (Appendix B and E) and from
the DCC's repository client: every request the app builds validates, every answer shape AppM
shows (success, FORMAT_ERROR, maximum batch size exceeded, WORKFLOW_ERROR, incomplete, mixed
results, unknown BatchId) validates and is parsed into the app's types, and so are the
repository answers as the DCC Boxed client's own tests show them."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import xmlschema

from smki_desktop.core import ws_xml as W
from smki_desktop.resources_path import resource

SCHEMAS = resource("schemas", "appm")
CSR = base64.b64decode("MIIBDTCBtAIBADAAMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE")  # any bytes
CERT_B64 = "MIAGCSqGSIb3DQEHAAAAAA=="  # AppM's elided sample, made whole base64


@pytest.fixture(scope="module")
def adhoc() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMAS / "adhoc-device-csr-1.0.xsd"))


@pytest.fixture(scope="module")
def batched() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMAS / "batched-device-csr-1.0.xsd"))


@pytest.fixture(scope="module")
def repo() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMAS / "repository-1.0.xsd"))


def _valid(schema: xmlschema.XMLSchema, data: bytes) -> None:
    schema.validate(data.lstrip().decode("utf-8"))


# ------------------------------------------------------------------------------ requests
def test_every_request_we_build_validates(adhoc, batched, repo) -> None:  # type: ignore[no-untyped-def]
    batch = W.SubmitCSRBatch("device-batch-20261204-0001", (("ID0", CSR), ("d00DB0001_1", CSR)))
    _valid(batched, batch.build())
    assert b'<SubmitCSRBatch ID="device-batch-20261204-0001"><Version>1.0</Version>' \
        b'<DeviceCSR ID="ID0">' in batch.build()
    _valid(adhoc, W.DeviceCertificateSigningRequest("clientId1", CSR).build())
    _valid(repo, W.CertificateSearchRequest(subject_name="90-B3-D5-1F-30-01-00-00").build())
    _valid(repo, W.CertificateSearchRequest(subject_alt_name="00-DB-12-34-56-78-90-A4").build())
    _valid(repo, W.CertificateDataRequest("469AFEC2E7C0CAAEC8A400769B702BC8").build())


def test_the_old_shapes_fail_the_published_schemas(adhoc, batched) -> None:  # type: ignore[no-untyped-def]
    old_batch = b"<SubmitCSRBatch><ID>r</ID><DeviceCSR ID='a'>QUJD</DeviceCSR></SubmitCSRBatch>"
    old_adhoc = (b"<DeviceCertificateSigningRequest><ID>r</ID><Version>1.0</Version><CSR>QUJD"
                 b"</CSR></DeviceCertificateSigningRequest>")
    assert not batched.is_valid(old_batch.decode())
    assert not adhoc.is_valid(old_adhoc.decode())
    with pytest.raises(W.XmlMessageError):
        W.SubmitCSRBatch.parse(old_batch)


def test_every_answer_the_simulator_builds_validates(adhoc, batched, repo) -> None:  # type: ignore[no-untyped-def]
    for msg in [W.SubmitCSRBatchStatus("PENDING", "1234", id="b1999"),
                W.SubmitCSRBatchStatus("FORMAT_ERROR", error_code="FM:AA1", error_text="x"),
                W.SubmitCSRBatchStatus("WORKFLOW_ERROR", error_code="WF:BB2", error_text="x",
                                       id="b1999"),
                W.CSRBatchResult("1234", "PENDING", id="b1999"),
                W.CSRBatchResult(None, "FORMAT_ERROR", error_code="FM:AA3",
                                 error_text="Unknown BatchId"),
                W.CSRBatchResult("1234", "COMPLETED", (
                    W.CsrResult("ID000000", "SUCCESS", None, b"\x30\x03"),
                    W.CsrResult("ID000001", "CSR_ERROR", "CR:CC1", None, "Wrong CSR OID")),
                    id="b1999")]:
        _valid(batched, msg.build())
    for a in [W.DeviceCertificateSigningResponse("clientid1", "SUCCESS", None, b"\x30\x03"),
              W.DeviceCertificateSigningResponse(None, "FORMAT_ERROR", "FM:123", None, "12344",
                                                 "An XML format error"),
              W.DeviceCertificateSigningResponse("c", "UNKNOWN_DEVICE", "UD:1", None, "5", "t")]:
        _valid(adhoc, a.build())
    rec = W.RepositoryRecord("0A", "R", "KA", "90-B3-D5-1F-30-01-00-00", None, "2", False)
    _valid(repo, W.CertificateSearchResponse((rec,), audit_reference="1-a").build())
    _valid(repo, W.CertificateDataResponse(
        W.RepositoryRecord("0A", "E", "DS", None, "00-DB-12-34-56-78-90-A4", None, False,
                           b"\x30\x03")).build())


# ------------------------------------------------------------------------------ AppM samples
# Written from AppM's examples (Appendix A, C, D); its typographic quotes in the XML
# declaration and its elided Base64 ("………") made well-formed.
def _decl(body: str) -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode()


APPM_BATCH_STATUS = {
    "success": _decl('<SubmitCSRBatchStatus ID="b1999"><Version>1.0</Version><Build>2.0.8'
                     '</Build><BatchStatus>PENDING</BatchStatus><BatchId>1234</BatchId>'
                     '</SubmitCSRBatchStatus>'),
    "incorrect-xml": _decl('<SubmitCSRBatchStatus><Version>1.0</Version><Build>2.0.8</Build>'
                           '<BatchStatus>FORMAT_ERROR</BatchStatus><Error><ErrorCode>FM:AA1'
                           '</ErrorCode><ErrorText>Invalid XML in request</ErrorText></Error>'
                           '</SubmitCSRBatchStatus>'),
    "max-batch-size": _decl('<SubmitCSRBatchStatus ID="b1999"><Version>1.0</Version><Build>'
                            '2.0.8</Build><BatchStatus>FORMAT_ERROR</BatchStatus><Error>'
                            '<ErrorCode>FM:AA2</ErrorCode><ErrorText>Number of submitted CSRs '
                            'exceeds maximum volume</ErrorText></Error></SubmitCSRBatchStatus>'),
    "workflow-error": _decl('<SubmitCSRBatchStatus ID="b1999"><Version>1.0</Version><Build>'
                            '2.0.8</Build><BatchStatus>WORKFLOW_ERROR</BatchStatus><Error>'
                            '<ErrorCode>WF:BB2</ErrorCode><ErrorText>An internal error.'
                            '</ErrorText></Error></SubmitCSRBatchStatus>'),
}


@pytest.mark.parametrize("name", sorted(APPM_BATCH_STATUS))
def test_appm_batch_submission_answers(batched, name: str) -> None:  # type: ignore[no-untyped-def]
    data = APPM_BATCH_STATUS[name]
    _valid(batched, data)
    r = W.SubmitCSRBatchStatus.parse(data)
    expect = {"success": ("PENDING", "1234", None, "b1999"),
              "incorrect-xml": ("FORMAT_ERROR", None, "FM:AA1", None),
              "max-batch-size": ("FORMAT_ERROR", None, "FM:AA2", "b1999"),
              "workflow-error": ("WORKFLOW_ERROR", None, "WF:BB2", "b1999")}[name]
    assert (r.status, r.batch_id, r.error_code, r.id) == expect
    assert r.build_id == "2.0.8"


APPM_RESULT = {
    "incomplete": _decl('<CSRBatchResult ID="b1999"><Version>1.0</Version><Build>2.0.8</Build>'
                        '<BatchStatus>PENDING</BatchStatus><BatchId>1234</BatchId>'
                        '</CSRBatchResult>'),
    "completed-mixed": _decl(
        '<CSRBatchResult ID="b1999">\n<Version>1.0</Version>\n<Build>2.0.8</Build>\n'
        '<BatchStatus>COMPLETED</BatchStatus>\n<BatchId>1234</BatchId>\n'
        f'<DeviceCertificate ID="ID000000">\n<Status>SUCCESS</Status>\n<Certificate>{CERT_B64}'
        '</Certificate>\n</DeviceCertificate>\n<DeviceCertificate ID="ID000001">\n<Status>'
        'CSR_ERROR</Status>\n<Error>\n<ErrorCode>CR:CC1</ErrorCode>\n<ErrorText>Wrong CSR OID'
        '</ErrorText>\n</Error>\n</DeviceCertificate>\n<DeviceCertificate ID="ID000002">\n'
        f'<Status>SUCCESS</Status>\n<Certificate>{CERT_B64}</Certificate>\n'
        '</DeviceCertificate>\n</CSRBatchResult>'),
    "unknown-batch-id": _decl('<CSRBatchResult><Version>1.0</Version><Build>2.0.8</Build>'
                              '<BatchStatus>FORMAT_ERROR</BatchStatus><Error><ErrorCode>FM:AA3'
                              '</ErrorCode><ErrorText>Unknown BatchId</ErrorText></Error>'
                              '</CSRBatchResult>'),
    "other-error": _decl('<CSRBatchResult><Version>1.0</Version><Build>2.0.8</Build>'
                         '<BatchStatus>WORKFLOW_ERROR</BatchStatus><Error><ErrorCode>WF:BB1'
                         '</ErrorCode><ErrorText>An Internal Error</ErrorText></Error>'
                         '</CSRBatchResult>'),
}


@pytest.mark.parametrize("name", sorted(APPM_RESULT))
def test_appm_batch_result_answers(batched, name: str) -> None:  # type: ignore[no-untyped-def]
    data = APPM_RESULT[name]
    _valid(batched, data)
    r = W.CSRBatchResult.parse(data)
    if name == "incomplete":
        assert (r.status, r.batch_id, r.id, r.results) == ("PENDING", "1234", "b1999", ())
    elif name == "completed-mixed":
        assert r.status == "COMPLETED" and r.batch_id == "1234"
        assert [(i.csr_id, i.status, i.error_code, i.error_text) for i in r.results] == [
            ("ID000000", "SUCCESS", None, None), ("ID000001", "CSR_ERROR", "CR:CC1",
                                                  "Wrong CSR OID"),
            ("ID000002", "SUCCESS", None, None)]
        assert r.results[0].certificate == base64.b64decode(CERT_B64)
    elif name == "unknown-batch-id":
        assert (r.status, r.batch_id, r.error_code, r.error_text) == (
            "FORMAT_ERROR", None, "FM:AA3", "Unknown BatchId")
    else:
        assert (r.status, r.error_code) == ("WORKFLOW_ERROR", "WF:BB1")


@pytest.mark.parametrize("status", W.BATCH_STATUSES)
def test_every_batch_status_value(batched, status: str) -> None:  # type: ignore[no-untyped-def]
    if status in ("FORMAT_ERROR", "WORKFLOW_ERROR"):
        msg = W.CSRBatchResult(None, status, error_code=W.ERROR_PREFIX[status] + ":X1",
                               error_text="t")
    else:
        msg = W.CSRBatchResult("7", status, id="b")
    _valid(batched, msg.build())
    assert W.CSRBatchResult.parse(msg.build()).status == status


APPM_ADHOC = {
    "success": _decl('<DeviceCertificateSigningResponse ID="clientid1"><Version>1.0</Version>'
                     '<Build>1.1.4</Build><TransactionId>12345</TransactionId><Status>SUCCESS'
                     f'</Status><Certificate>{CERT_B64}</Certificate>'
                     '</DeviceCertificateSigningResponse>'),
    "incorrect-xml": _decl('<DeviceCertificateSigningResponse><Version>1.0</Version><Build>1.1.4'
                           '</Build><TransactionId>12344</TransactionId><Status>FORMAT_ERROR'
                           '</Status><Error><ErrorCode>FM:123</ErrorCode><ErrorText>An XML '
                           'format error</ErrorText></Error></DeviceCertificateSigningResponse>'),
    "other-error": _decl('<DeviceCertificateSigningResponse ID="clientid1"><Version>1.0'
                         '</Version><Build>1.1.4</Build><TransactionId>12345</TransactionId>'
                         '<Status>CSR_ERROR</Status><Error><ErrorCode>CR:9999</ErrorCode>'
                         '<ErrorText>Request for duplicate certificate not permitted'
                         '</ErrorText></Error></DeviceCertificateSigningResponse>'),
}


@pytest.mark.parametrize("name", sorted(APPM_ADHOC))
def test_appm_adhoc_answers(adhoc, name: str) -> None:  # type: ignore[no-untyped-def]
    data = APPM_ADHOC[name]
    _valid(adhoc, data)
    r = W.DeviceCertificateSigningResponse.parse(data)
    expect = {"success": ("clientid1", "SUCCESS", None, "12345"),
              "incorrect-xml": (None, "FORMAT_ERROR", "FM:123", "12344"),
              "other-error": ("clientid1", "CSR_ERROR", "CR:9999", "12345")}[name]
    assert (r.id, r.status, r.error_code, r.transaction_id) == expect
    assert (r.certificate is not None) == (name == "success")


@pytest.mark.parametrize("status", W.ADHOC_STATUSES)
def test_every_adhoc_status_value(adhoc, status: str) -> None:  # type: ignore[no-untyped-def]
    msg = (W.DeviceCertificateSigningResponse("r", status, None, b"\x30\x00")
           if status == "SUCCESS" else
           W.DeviceCertificateSigningResponse("r", status, W.ERROR_PREFIX[status] + ":1", None,
                                              "3", "why"))
    _valid(adhoc, msg.build())
    assert W.DeviceCertificateSigningResponse.parse(msg.build()).status == status


def test_answers_that_break_the_choice_are_refused() -> None:
    both = (b'<CSRBatchResult><Version>1.0</Version><Build>b</Build><BatchStatus>COMPLETED'
            b'</BatchStatus><BatchId>1</BatchId><DeviceCertificate ID="a"><Status>SUCCESS'
            b'</Status><Certificate>QUJD</Certificate><Error><ErrorCode>CR:1</ErrorCode>'
            b'<ErrorText>x</ErrorText></Error></DeviceCertificate></CSRBatchResult>')
    with pytest.raises(W.XmlMessageError, match="both a Certificate and an Error"):
        W.CSRBatchResult.parse(both)
    with pytest.raises(W.XmlMessageError, match="Version '2.0'"):
        W.CSRBatchResult.parse(b"<CSRBatchResult><Version>2.0</Version><Build>b</Build>"
                               b"<BatchStatus>PENDING</BatchStatus></CSRBatchResult>")


def test_more_than_50000_csrs_is_its_own_error() -> None:
    body = b"".join(b'<DeviceCSR ID="i%d">QUJD</DeviceCSR>' % i for i in range(50_001))
    data = b'<SubmitCSRBatch ID="b"><Version>1.0</Version>' + body + b"</SubmitCSRBatch>"
    with pytest.raises(W.BatchTooLarge, match="50,001"):
        W.SubmitCSRBatch.parse(data)


# ------------------------------------------------------------------------------ repository
# As the DCC Boxed client's tests show them (blank lines before the declaration, Base64
# wrapped and indented inside CertificateBody, children in two different orders).
ORG_B64 = "\n  MIIBkjCCATigAwIBAgIQRpr+wufAyq7IpAB2m3Ar\n  yDAKBggqhkjOPQQDAjAaMQsw\n"
REPO_DATA_ORG = f"""
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <CertificateDataResponse>
              <ResponseCode>200</ResponseCode>
              <ResponseMessage>Success</ResponseMessage>
              <AuditReference>1234567890-abc123456</AuditReference>
              <CertificateResponse>
                <CertificateSubjectName>90-B3-D5-1F-30-00-00-01</CertificateSubjectName>
                <CertificateSerial>469AFEC2E7C0CAAEC8A400769B702BC8</CertificateSerial>
                <CertificateStatus>I</CertificateStatus>
                <CertificateBody>{ORG_B64}</CertificateBody>
                <CertificateRole>1</CertificateRole>
                <CertificateUsage>DS</CertificateUsage>
                <ManufacturingFlag>false</ManufacturingFlag>
              </CertificateResponse>
            </CertificateDataResponse>""".encode()
REPO_SEARCH_DEVICE = b"""
          <?xml version="1.0" encoding="utf-8"?>
          <CertificateSearchResponse>
            <ResponseCode>200</ResponseCode>
            <ResponseMessage>Success</ResponseMessage>
            <AuditReference>1234567890-abc123456</AuditReference>
            <Result>
              <CertificateSerial>12345</CertificateSerial>
              <CertificateSubjectAltName>00-DB-12-34-56-78-90-A4</CertificateSubjectAltName>
              <CertificateStatus>I</CertificateStatus>
              <CertificateUsage>DS</CertificateUsage>
              <ManufacturingFlag>false</ManufacturingFlag>
            </Result>
          </CertificateSearchResponse>"""
REPO_SEARCH_EMPTY = b"""
          <?xml version="1.0" encoding="utf-8"?>
          <CertificateSearchResponse>
            <ResponseCode>200</ResponseCode>
            <ResponseMessage>Success</ResponseMessage>
            <AuditReference>1234567890-abc123456</AuditReference>
          </CertificateSearchResponse>"""


def test_repository_answers_as_the_dcc_client_sees_them(repo) -> None:  # type: ignore[no-untyped-def]
    for data in (REPO_DATA_ORG, REPO_SEARCH_DEVICE, REPO_SEARCH_EMPTY):
        _valid(repo, data)
    org = W.CertificateDataResponse.parse(REPO_DATA_ORG).result
    assert org is not None and org.subject_name == "90-B3-D5-1F-30-00-00-01"
    assert (org.serial, org.status, org.role, org.usage, org.manufacturing_flag) == (
        "469AFEC2E7C0CAAEC8A400769B702BC8", "I", "1", "DS", False)
    assert org.body == base64.b64decode("".join(ORG_B64.split()))
    assert W.role_from_repo(org.role or "") == "01"
    dev = W.CertificateSearchResponse.parse(REPO_SEARCH_DEVICE).results
    assert [(d.serial, d.subject_alt_name, d.status, d.role) for d in dev] == [
        ("12345", "00-DB-12-34-56-78-90-A4", "I", None)]
    assert W.CertificateSearchResponse.parse(REPO_SEARCH_EMPTY).results == ()


@pytest.mark.parametrize("status", W.REPO_STATUSES)
@pytest.mark.parametrize("role", W.REPO_ROLES)
def test_every_repository_status_and_role(repo, status: str, role: str) -> None:  # type: ignore[no-untyped-def]
    rec = W.RepositoryRecord("0A", status, "KA", "90-B3-D5-1F-30-01-00-00", None, role, True)
    data = W.CertificateSearchResponse((rec,)).build()
    _valid(repo, data)
    assert W.CertificateSearchResponse.parse(data).results == (rec,)
    assert W.role_to_repo(W.role_from_repo(role)) == role


def test_unknown_encoding_is_a_clear_error_not_a_lookup_error() -> None:
    data = b'<?xml version="1.0" encoding="x-no-such-codec"?><CSRBatchResult/>'
    with pytest.raises(W.XmlMessageError, match="encoding"):
        W.CSRBatchResult.parse(data)


def test_schemas_are_the_resources_shipped() -> None:
    names = sorted(p.name for p in Path(SCHEMAS).glob("*.xsd"))
    assert names == ["adhoc-device-csr-1.0.xsd", "batched-device-csr-1.0.xsd",
                     "repository-1.0.xsd"]


def test_requests_queued_before_issue_17_are_still_read() -> None:
    from smki_desktop.services.portal import _read_items, batch_csrs

    old_batch = (b'<?xml version="1.0" encoding="UTF-8"?><SubmitCSRBatch><ID>device-batch-1</ID>'
                 b'<DeviceCSR ID="d1">QUJD</DeviceCSR></SubmitCSRBatch>')
    assert batch_csrs(old_batch) == [("d1", b"ABC")]
    old_result = (b'<?xml version="1.0" encoding="UTF-8"?><CSRBatchResult><BatchId>0</BatchId>'
                  b'<ID>r</ID><Status>COMPLETED</Status><CSRResult ID="d1"><Status>SUCCESS'
                  b'</Status><Certificate>QUJD</Certificate></CSRResult><CSRResult ID="d2">'
                  b'<Status>CSR_ERROR</Status><ErrorCode>CS:BadSig</ErrorCode></CSRResult>'
                  b'</CSRBatchResult>')
    got = _read_items(old_result, "r")
    assert [(i.item_id, i.status, i.error_code, i.certificate_der) for i in got] == [
        ("d1", "SUCCESS", None, b"ABC"), ("d2", "CSR_ERROR", "CS:BadSig", None)]


XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


def _adhoc_nil(status: str, nil: str = "true", text: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<DeviceCertificateSigningResponse ID="c1" '
            f'{XSI}>\n<Version>1.0</Version>\n<Build>1.1.4</Build>\n<TransactionId>12345'
            f'</TransactionId>\n<Status>{status}</Status>\n<Certificate xsi:nil="{nil}">{text}'
            f'</Certificate>\n</DeviceCertificateSigningResponse>').encode()


def test_a_nil_certificate_appendix_b_allows_is_read(adhoc) -> None:  # type: ignore[no-untyped-def]
    """AppM Appendix B: `Certificate` is nillable="true" in the ad hoc answer: an answer with
    `<Certificate xsi:nil="true"/>` is valid and read as "no certificate" (a failure status
    without an Error); SUCCESS with a nil certificate is still refused, clearly."""
    data = _adhoc_nil("CA_ERROR")
    _valid(adhoc, data)
    r = W.DeviceCertificateSigningResponse.parse(data)
    assert (r.id, r.status, r.certificate, r.error_code) == ("c1", "CA_ERROR", None, None)
    one = W.DeviceCertificateSigningResponse.parse(_adhoc_nil("CSR_ERROR", nil="1"))
    assert one.certificate is None
    nil_success = _adhoc_nil("SUCCESS")
    _valid(adhoc, nil_success)  # the schema allows it; the app cannot use it
    with pytest.raises(W.XmlMessageError, match="SUCCESS without a Certificate"):
        W.DeviceCertificateSigningResponse.parse(nil_success)
    # nil="false" is an ordinary certificate
    kept = W.DeviceCertificateSigningResponse.parse(_adhoc_nil("SUCCESS", "false", CERT_B64))
    assert kept.certificate == base64.b64decode(CERT_B64)


def test_a_nil_certificate_that_is_not_empty_or_not_allowed_is_refused(adhoc, batched) -> None:  # type: ignore[no-untyped-def]
    with_text = _adhoc_nil("SUCCESS", "true", CERT_B64)
    assert not adhoc.is_valid(with_text.decode())
    with pytest.raises(W.XmlMessageError, match="nil"):
        W.DeviceCertificateSigningResponse.parse(with_text)
    with pytest.raises(W.XmlMessageError, match="nil"):
        W.DeviceCertificateSigningResponse.parse(_adhoc_nil("CA_ERROR", "maybe"))
    # Appendix E: the batch result's Certificate is nillable="false"
    batch = (f'<CSRBatchResult {XSI}><Version>1.0</Version><Build>2.0.8</Build><BatchStatus>'
             'COMPLETED</BatchStatus><BatchId>1</BatchId><DeviceCertificate ID="ID0"><Status>'
             'CA_ERROR</Status><Certificate xsi:nil="true"/></DeviceCertificate>'
             '</CSRBatchResult>')
    assert not batched.is_valid(batch)
    with pytest.raises(W.XmlMessageError, match="nil"):
        W.CSRBatchResult.parse(batch.encode())
    # another attribute of the XSI namespace stays refused
    other = _adhoc_nil("CA_ERROR").replace(b'xsi:nil="true"', b'xsi:type="xsd:string"')
    with pytest.raises(W.XmlMessageError, match="unexpected attribute"):
        W.DeviceCertificateSigningResponse.parse(other)


def test_an_absurdly_long_error_text_is_cut_to_a_readable_length() -> None:
    """ErrorText is free text (xs:string): a reply may carry megabytes of it, which would go
    into the outbox's last error and the audit log. It is kept to MAX_ERROR_TEXT characters."""
    text = "x" * 2_000_000
    data = (b'<CSRBatchResult><Version>1.0</Version><Build>2.0.8</Build><BatchStatus>'
            b'WORKFLOW_ERROR</BatchStatus><Error><ErrorCode>WF:BB1</ErrorCode><ErrorText>'
            + text.encode() + b"</ErrorText></Error></CSRBatchResult>")
    r = W.CSRBatchResult.parse(data)
    assert r.error_text is not None and len(r.error_text) <= W.MAX_ERROR_TEXT + 1
    assert r.error_text.endswith("…")
    short = W.CSRBatchResult.parse(data.replace(text.encode(), b"An Internal Error"))
    assert short.error_text == "An Internal Error"
