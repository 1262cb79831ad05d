"""Hostile or inconsistent answers from a repository, against the real adapter over a real
loopback HTTP server (plain HTTP, as a DCC Boxed on a Test network listens): each ends in a
clear `MalformedAnswer` (exit 2) that names the cause, never a traceback, and never shows the
API key."""

from __future__ import annotations

import base64
import gzip
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop.core.portal_ports import MalformedAnswer, PortalError
from smki_desktop.portal.ws_client import Endpoint, WsRepository

PKI = Path(__file__).parents[1] / "fixtures" / "dcc-test-pki"
ORG = x509.load_pem_x509_certificate((PKI / "organisation" / "90b3d51f30000001-ds.pem")
                                     .read_bytes())
DEV = x509.load_pem_x509_certificate((PKI / "device" / "00db123456789001-ds.pem").read_bytes())
KEY = "sEcReT-api-key-0123"


def _der(c: x509.Certificate) -> bytes:
    return c.public_bytes(serialization.Encoding.DER)


def _b64(c: x509.Certificate) -> str:
    return base64.b64encode(_der(c)).decode()


ORG_SERIAL = f"{ORG.serial_number:X}"
DEV_SERIAL = f"{DEV.serial_number:X}"


class _Handler(BaseHTTPRequestHandler):
    answers: ClassVar[dict[str, tuple[int, dict[str, str], bytes]]] = {}
    delay: ClassVar[float] = 0.0  # seconds before each retrieval's answer

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/services/retrievecertificate"):
            time.sleep(_Handler.delay)
        code, headers, body = _Handler.answers.get(self.path.split("?")[0], (404, {}, b""))
        self.send_response(code)
        headers = {"Content-Type": "application/xml", **headers}
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def repo() -> Iterator[WsRepository]:
    _Handler.answers = {}
    _Handler.delay = 0.0
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}"
    r = WsRepository(Endpoint(url, url, ORG.public_bytes(serialization.Encoding.PEM)), KEY,
                     retries=0, backoff=0.0, deadline=1.5)
    yield r
    r.close()
    srv.shutdown()
    srv.server_close()


def _record(serial: str, body: str | None, *, alt: str | None = None,
            name: str | None = "90-B3-D5-1F-30-00-00-01") -> str:
    who = (f"<CertificateSubjectAltName>{alt}</CertificateSubjectAltName>" if alt else
           f"<CertificateSubjectName>{name}</CertificateSubjectName>"
           "<CertificateRole>1</CertificateRole>")
    return (f"<CertificateSerial>{serial}</CertificateSerial>{who}<CertificateStatus>I"
            "</CertificateStatus><CertificateUsage>DS</CertificateUsage>"
            + (f"<CertificateBody>{body}</CertificateBody>" if body is not None else ""))


def _data(rec: str) -> bytes:
    return ("<CertificateDataResponse><ResponseCode>200</ResponseCode><CertificateResponse>"
            f"{rec}</CertificateResponse></CertificateDataResponse>").encode()


def _search(*recs: str) -> bytes:
    return ("<CertificateSearchResponse><ResponseCode>200</ResponseCode>"
            + "".join(f"<Result>{r}</Result>" for r in recs)
            + "</CertificateSearchResponse>").encode()


def _expect_malformed(call, match: str) -> MalformedAnswer:  # type: ignore[no-untyped-def]
    with pytest.raises(PortalError) as got:
        call()
    assert isinstance(got.value, MalformedAnswer), repr(got.value)
    assert got.value.exit_code == 2
    assert KEY not in got.value.message
    assert match in got.value.message, got.value.message
    return got.value


def test_the_honest_answer_is_read(repo: WsRepository) -> None:
    _Handler.answers["/services/retrievecertificate"] = (200, {}, _data(_record(
        ORG_SERIAL, _b64(ORG))))
    got = repo.fetch(ORG_SERIAL)
    assert got is not None and got.certificate_der == _der(ORG)


def test_a_body_that_is_not_a_certificate(repo: WsRepository) -> None:
    _Handler.answers["/services/retrievecertificate"] = (200, {}, _data(_record(
        ORG_SERIAL, base64.b64encode(b"\x30\x03\x02\x01\x01").decode())))
    _expect_malformed(lambda: repo.fetch(ORG_SERIAL), "not an X.509 certificate")


def test_an_answer_for_another_serial(repo: WsRepository) -> None:
    _Handler.answers["/services/retrievecertificate"] = (200, {}, _data(_record(
        DEV_SERIAL, _b64(DEV), alt="00-DB-12-34-56-78-90-01")))
    _expect_malformed(lambda: repo.fetch(ORG_SERIAL), f"asked for {ORG_SERIAL}")


def test_a_body_whose_serial_is_not_the_records(repo: WsRepository) -> None:
    _Handler.answers["/services/retrievecertificate"] = (200, {}, _data(_record(
        ORG_SERIAL, _b64(DEV))))
    _expect_malformed(lambda: repo.fetch(ORG_SERIAL), "serial")


def test_a_search_answered_with_another_subject(repo: WsRepository) -> None:
    _Handler.answers["/services/certificatesearch"] = (200, {}, _search(_record(
        ORG_SERIAL, None, name="90-B3-D5-1F-30-00-00-02")))
    _Handler.answers["/services/retrievecertificate"] = (200, {}, _data(_record(
        ORG_SERIAL, _b64(ORG), name="90-B3-D5-1F-30-00-00-02")))
    _expect_malformed(lambda: repo.search(subject_eui="90B3D51F30000001"),
                      "90-B3-D5-1F-30-00-00-02")


def test_a_search_for_a_device_answered_with_an_organisation(repo: WsRepository) -> None:
    _Handler.answers["/services/certificatesearch"] = (200, {}, _search(_record(
        ORG_SERIAL, None)))
    _expect_malformed(lambda: repo.search(device_eui="00DB123456789001"), "device")


def test_a_body_in_an_undecodable_content_encoding(repo: WsRepository) -> None:
    _Handler.answers["/services/retrievecertificate"] = (
        200, {"Content-Encoding": "gzip"}, b"this is not gzip at all")
    _expect_malformed(lambda: repo.fetch(ORG_SERIAL), "cannot be decoded")


def test_a_gzip_body_is_still_read(repo: WsRepository) -> None:
    _Handler.answers["/services/retrievecertificate"] = (
        200, {"Content-Encoding": "gzip"}, gzip.compress(_data(_record(ORG_SERIAL, _b64(ORG)))))
    got = repo.fetch(ORG_SERIAL)
    assert got is not None and got.serial == ORG_SERIAL


@pytest.mark.parametrize("code,body", [
    (403, f"unknown key {KEY}".encode()),
    (403, f"<ErrorResponse><ErrorCode>AU:Key</ErrorCode><Message>key {KEY} unknown</Message>"
          "</ErrorResponse>".encode()),
    (500, f"internal error for key={KEY}".encode()),
    (200, f"<CertificateDataResponse>{KEY}</CertificateDataResponse>".encode()),
    (418, f"teapot {KEY}".encode()),
    (200, _data(_record(ORG_SERIAL, None).replace(">I<", f">{KEY}<"))),
])
def test_a_server_that_echoes_the_api_key_never_gets_it_into_a_message(
        repo: WsRepository, code: int, body: bytes) -> None:
    """The key is redacted wherever the other side puts it, not only after `apikey=`."""
    _Handler.answers["/services/retrievecertificate"] = (code, {}, body)
    with pytest.raises(PortalError) as got:
        repo.fetch(ORG_SERIAL)
    assert KEY not in got.value.message and KEY not in str(got.value)


def test_a_search_as_a_whole_ends_within_the_deadline(repo: WsRepository) -> None:
    """A search is one call to the user: the search and every retrieval it leads to share one
    deadline (1.5 s here), so a repository answering each retrieval just inside it cannot
    stretch a search to many times the deadline."""
    recs = [_record(ORG_SERIAL, None)] * 4
    _Handler.answers["/services/certificatesearch"] = (200, {}, _search(*recs))
    _Handler.answers["/services/retrievecertificate"] = (200, {}, _data(_record(
        ORG_SERIAL, _b64(ORG))))
    _Handler.delay = 0.6
    from smki_desktop.core.portal_ports import Unreachable

    t0 = time.monotonic()
    with pytest.raises(Unreachable, match="timed out"):
        repo.search(subject_eui="90B3D51F30000001")
    assert time.monotonic() - t0 < 1.5 + 0.5
