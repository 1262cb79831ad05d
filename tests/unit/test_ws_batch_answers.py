"""A DCC answer to a batch poll or an ad hoc CSR is checked against what we sent, over a real
loopback HTTP server and the real adapter: a DeviceCertificate ID we never sent, a certificate
whose key is not the key of the CSR sent with that ID, a COMPLETED batch that leaves CSRs
unanswered, a CSRBatchResult ID that is not our batch's: each a clear `MalformedAnswer`
(exit 2) naming the ID, before anything is filed."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop.core.portal_ports import MalformedAnswer, PortalError
from smki_desktop.crypto.device_csr import generate_one
from smki_desktop.portal.ws_client import Endpoint, WsPortal
from smki_desktop.simulator import ca as CA

NOW = datetime.now(UTC)
HIER = CA.Hierarchy.generate(NOW)


def _csr(i: int) -> bytes:
    return generate_one((0x00DB123456780000 + i).to_bytes(8, "big"), "signing",
                        keep_key=False)[2]


CSRS = {"dA0": _csr(0), "dA1": _csr(1)}


def _cert(csr_der: bytes) -> str:
    c = CA.issue_device(HIER.device_ca, x509.load_der_x509_csr(csr_der), NOW)
    return base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()


class _Handler(BaseHTTPRequestHandler):
    answer: ClassVar[bytes] = b""

    def _send(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/xml;charset=UTF-8")
        self.send_header("Content-Length", str(len(_Handler.answer)))
        self.end_headers()
        self.wfile.write(_Handler.answer)

    def do_GET(self) -> None:
        self._send()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._send()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def p() -> Iterator[WsPortal]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}"
    anchor = HIER.root.certificate.public_bytes(serialization.Encoding.PEM)
    w = WsPortal(Endpoint(url, url, anchor), None, retries=0, backoff=0.0, deadline=10)
    yield w
    w.close()
    srv.shutdown()
    srv.server_close()


def _result(entries: list[tuple[str, str]], ref: str = "batch-1") -> bytes:
    body = "".join(f'<DeviceCertificate ID="{i}"><Status>SUCCESS</Status><Certificate>{c}'
                   "</Certificate></DeviceCertificate>" for i, c in entries)
    return (f'<?xml version="1.0" encoding="UTF-8"?><CSRBatchResult ID="{ref}"><Version>1.0'
            "</Version><Build>2.0.8</Build><BatchStatus>COMPLETED</BatchStatus><BatchId>7"
            f"</BatchId>{body}</CSRBatchResult>").encode()


def _malformed(call, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PortalError) as got:
        call()
    assert isinstance(got.value, MalformedAnswer), repr(got.value)
    assert got.value.exit_code == 2 and match in got.value.message, got.value.message


def test_an_honest_result_is_read(p: WsPortal) -> None:
    _Handler.answer = _result([(i, _cert(d)) for i, d in CSRS.items()])
    state = p.poll_batch("7", sent=CSRS, client_ref="batch-1")
    assert [i.item_id for i in state.items] == ["dA0", "dA1"]


def test_an_id_we_never_sent(p: WsPortal) -> None:
    _Handler.answer = _result([("dA0", _cert(CSRS["dA0"])), ("dA1", _cert(CSRS["dA1"])),
                               ("dZZ", _cert(_csr(9)))])
    _malformed(lambda: p.poll_batch("7", sent=CSRS, client_ref="batch-1"), "dZZ")


def test_a_certificate_for_the_csr_of_another_id(p: WsPortal) -> None:
    _Handler.answer = _result([("dA0", _cert(CSRS["dA1"])), ("dA1", _cert(CSRS["dA0"]))])
    _malformed(lambda: p.poll_batch("7", sent=CSRS, client_ref="batch-1"), "dA0")


def test_a_certificate_that_is_not_one(p: WsPortal) -> None:
    _Handler.answer = _result([("dA0", "MAMCAQE="), ("dA1", _cert(CSRS["dA1"]))])
    _malformed(lambda: p.poll_batch("7", sent=CSRS, client_ref="batch-1"), "dA0")


def test_a_completed_batch_that_leaves_a_csr_unanswered(p: WsPortal) -> None:
    _Handler.answer = _result([("dA0", _cert(CSRS["dA0"]))])
    _malformed(lambda: p.poll_batch("7", sent=CSRS, client_ref="batch-1"), "dA1")


def test_a_result_for_another_batch_reference(p: WsPortal) -> None:
    _Handler.answer = _result([(i, _cert(d)) for i, d in CSRS.items()], ref="batch-2")
    _malformed(lambda: p.poll_batch("7", sent=CSRS, client_ref="batch-1"), "batch-2")


def _adhoc(cert_b64: str) -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?><DeviceCertificateSigningResponse ID="c1">'
            "<Version>1.0</Version><Build>1.1.4</Build><TransactionId>12345</TransactionId>"
            f"<Status>SUCCESS</Status><Certificate>{cert_b64}</Certificate>"
            "</DeviceCertificateSigningResponse>").encode()


def test_an_adhoc_certificate_for_another_key(p: WsPortal) -> None:
    _Handler.answer = _adhoc(_cert(CSRS["dA1"]))
    _malformed(lambda: p.submit_device_csr("c1", CSRS["dA0"]), "ad hoc request c1")
    _Handler.answer = _adhoc(_cert(CSRS["dA0"]))
    assert p.submit_device_csr("c1", CSRS["dA0"]).status == "SUCCESS"


def test_a_result_for_another_batch_id(p: WsPortal) -> None:
    _Handler.answer = _result([(i, _cert(d)) for i, d in CSRS.items()])  # BatchId 7
    _malformed(lambda: p.poll_batch("8", sent=CSRS, client_ref="batch-1"), "batch 7")


def test_a_submission_answered_for_another_batch_reference(p: WsPortal) -> None:
    _Handler.answer = (b'<?xml version="1.0" encoding="utf-8"?><SubmitCSRBatchStatus ID="b2">'
                       b"<Version>1.0</Version><Build>2.0.8</Build><BatchStatus>PENDING"
                       b"</BatchStatus><BatchId>1234</BatchId></SubmitCSRBatchStatus>")
    _malformed(lambda: p.submit_device_batch("b1", list(CSRS.items())), "b2")


def test_an_adhoc_answer_for_another_request(p: WsPortal) -> None:
    _Handler.answer = _adhoc(_cert(CSRS["dA0"])).replace(b'ID="c1"', b'ID="c9"')
    _malformed(lambda: p.submit_device_csr("c1", CSRS["dA0"]), "c9")
