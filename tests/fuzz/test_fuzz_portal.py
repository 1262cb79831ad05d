"""Portal and repository replies of every malformed kind, from a hostile HTTPS server on
loopback that the test starts: each call of the web-service client ends in a typed
`PortalError` (a clear message; the outbox keeps the request), never a traceback or a hang.
Slow drip and total deadlines are tested with the portal layer (issue 17)."""

from __future__ import annotations

import base64
import gzip
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smki_desktop.core import ws_forms as WF
from smki_desktop.portal import ws_http
from smki_desktop.portal.ws_client import Endpoint, WsPortal, WsRepository, enrol
from tests.fuzz.corpus import XML_LABELS, xml_case
from tests.fuzz.harness import FUZZ, clean_end
from tests.fuzz.hostile_server import HostileServer, Reply, hostile_server

LIMIT = 64 * 1024  # the client's answer cap in these tests (the real one is 16 MiB)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileServer]:
    # `enrol` retries twice with 0.3 s / 0.6 s pauses: no pauses here (the replies are fixed)
    with pytest.MonkeyPatch.context() as mp, \
            hostile_server(tmp_path_factory.mktemp("hostile")) as srv:
        mp.setattr(ws_http.time, "sleep", lambda s: None)
        yield srv


_CALLS: dict[int, dict[str, Callable[[Any], Any]]] = {}


def _calls(srv: HostileServer) -> dict[str, Callable[[Any], Any]]:
    """Every client call, on clients made once per server."""
    if srv.port not in _CALLS:
        _CALLS[srv.port] = _make_calls(srv)
    return _CALLS[srv.port]


def _make_calls(srv: HostileServer) -> dict[str, Callable[[Any], Any]]:
    ep = Endpoint(srv.url, srv.url, srv.anchor_pem)
    portal = WsPortal(ep, None, timeout=5, retries=0, max_response=LIMIT)
    repo = WsRepository(ep, "api-key", timeout=5, retries=0, max_response=LIMIT)
    csr = b"\x30\x03\x02\x01\x01"
    return {
        "submit_org_csr": lambda _: portal.submit_org_csr("ref-1", csr),
        "fetch_org_result": lambda _: portal.fetch_org_result("ref-1", "17"),
        "submit_device_csr": lambda _: portal.submit_device_csr("ref-2", csr),
        "submit_device_batch": lambda _: portal.submit_device_batch("ref-3", [("c1", csr)]),
        "poll_batch": lambda _: portal.poll_batch("12"),
        "request_revocation": lambda _: portal.request_revocation("ref-4", "0A1B"),
        "fetch_org_crl": lambda _: portal.fetch_org_crl(),
        "upload_batch_zip": lambda _: portal.upload_batch_zip("ref-5", b"PK\x05\x06" + b"\0" * 18),
        "upload_adt_package": lambda _: portal.upload_adt_package("a.zip", b"PK"),
        "repository.search": lambda _: repo.search(subject_eui="90B3D51F30010000"),
        "repository.fetch": lambda _: repo.fetch("0A1B"),
        "repository.download_crl": lambda _: repo.download_crl(),
        "enrol": lambda _: enrol(ep, "token", WF.CredentialRequest("ref-6", "web-service", csr),
                                 timeout=5),
    }


def _gzip_bomb(size: int) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    return c.compress(b"\0" * size) + c.flush()


REPLIES: dict[str, Reply] = {
    "empty-200": Reply(200, b""),
    "html-200": Reply(200, b"<html><body>Welcome to nginx</body></html>"),
    "json-200": Reply(200, b'{"request_id": {"nested": [1, 2]}}'),
    "json-scalar-200": Reply(200, b"0"),
    "json-list-200": Reply(200, b'["request_id"]'),
    "json-deep-200": Reply(200, b"[" * 50_000 + b"]" * 50_000),
    "error-in-200": Reply(200, b"<ErrorResponse><ErrorCode>E1:X</ErrorCode></ErrorResponse>"),
    "error-garbage": Reply(200, b"<ErrorResponse>" + b"<a>" * 5000),
    "wrong-root": Reply(200, b"<RevocationResponse><ID>x</ID><Status>COMPLETED</Status>"
                             b"</RevocationResponse>"),
    "500-html": Reply(500, b"<html>Internal Server Error</html>"),
    "502-empty": Reply(502, b""),
    "503-xml-bomb": Reply(503, xml_case("billion-laughs", "ErrorResponse")),
    "400-garbage": Reply(400, bytes(range(256))),
    "400-error-deep": Reply(400, xml_case("deep", "ErrorResponse")),
    "401": Reply(401, b"no"), "403": Reply(403, b""), "404": Reply(404, b"<html/>"),
    "302-redirect": Reply(302, b"", {"Location": "http://127.0.0.1:9/elsewhere"}),
    "429-no-header": Reply(429, b""),
    "429-negative": Reply(429, b"", {"Retry-After": "-5"}),
    "429-date": Reply(429, b"", {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
    "429-huge": Reply(429, b"", {"Retry-After": "9" * 40}),
    "418": Reply(418, b"teapot"),
    "declared-too-long": Reply(200, b"", {}, content_length=LIMIT * 10),
    "body-too-long": Reply(200, b"<a>" * LIMIT),
    "cut-short": Reply(200, b"<CSRBatchResult>", content_length=1000),
    "gzip-bomb": Reply(200, _gzip_bomb(50 * 1024 * 1024), {"Content-Encoding": "gzip"}),
    "gzip-garbage": Reply(200, b"not gzip at all", {"Content-Encoding": "gzip"}),
    "unknown-encoding": Reply(200, b"x", {"Content-Encoding": "x-evil"}),
    "chunked-broken": Reply(raw=b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                            b"zz\r\nxx\r\n"),
    "not-http": Reply(raw=b"SSH-2.0-OpenSSH_9.2\r\n"),
    "http-0.9": Reply(raw=b"<CSRBatchResult/>"),
    "bad-status-line": Reply(raw=b"HTTP/1.1 2000000 OK\r\n\r\n"),
    "header-flood": Reply(raw=b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 20_000 + b"\r\n"),
    "nul-header": Reply(raw=b"HTTP/1.1 200 OK\r\nX-\x00: y\r\nContent-Length: 0\r\n\r\n"),
    "dropped": Reply(raw=b""),
    "base64-garbage": Reply(200, b"<CSRBatchResult><BatchId>1</BatchId><Status>COMPLETED"
                                 b"</Status><CSRResult ID='c1'><Status>ISSUED</Status>"
                                 b"<Certificate>!!!notbase64</Certificate></CSRResult>"
                                 b"</CSRBatchResult>"),
    "cert-not-der": Reply(200, b"<DeviceCertificateSigningResponse><ID>ref-2</ID><Status>"
                               b"ISSUED</Status><Certificate>" + base64.b64encode(b"hello")
                          + b"</Certificate></DeviceCertificateSigningResponse>"),
    "gzip-xml": Reply(200, gzip.compress(b"<SubmitCSRBatchResponse><BatchId>x</BatchId>"
                                         b"</SubmitCSRBatchResponse>"),
                      {"Content-Encoding": "gzip"}),
}
for _label in XML_LABELS:
    if _label != "size-over":
        for _root in ("CSRBatchResult", "OrganisationCSRResponse", "CertificateSearchResponse"):
            REPLIES[f"xml-{_label}-{_root}"] = Reply(200, xml_case(_label, _root))


@pytest.mark.parametrize("label", REPLIES)
def test_hostile_reply(server: HostileServer, label: str) -> None:
    server.reply = REPLIES[label]
    for name, call in _calls(server).items():
        clean_end(f"portal reply ({name})", call, label)


@FUZZ
@given(status=st.sampled_from([200, 200, 200, 201, 400, 409, 500]),
       body=st.binary(max_size=512) | st.sampled_from([r.body for r in REPLIES.values()
                                                        if len(r.body) < 20_000]),
       header=st.sampled_from([{}, {"Retry-After": "1"}, {"Content-Type": "text/html"}]))
def test_hostile_reply_property(server: HostileServer, status: int, body: bytes,
                                header: dict[str, str]) -> None:
    server.reply = Reply(status if status != 500 else 429, body, header)
    for name, call in _calls(server).items():
        clean_end(f"portal reply ({name})", call, body)


def test_server_is_reached(server: HostileServer) -> None:
    """The harness really talks to the hostile server (not a refused connection each time):
    every client call arrives there."""
    server.reply = Reply(500, b"<html>no</html>")
    calls = _calls(server)
    before = server.requests
    for name, call in calls.items():
        clean_end(f"portal reply ({name})", call, "reach")
    assert server.requests >= before + len(calls)
