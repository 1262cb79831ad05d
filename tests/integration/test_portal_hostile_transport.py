"""The portal client against a hostile HTTPS server on loopback (the review's modes, played by
`tests.fuzz.hostile_server`): the total deadline holds on a reused keep-alive connection, a
submission is never sent again at once after the server read it, a plain 4xx leaves the
request queued naming its status, TLS failures quote their cause, a redirect is not followed
nor retried."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from smki_desktop.core import ws_xml as W
from smki_desktop.core.portal_ports import (
    AnswerLost,
    AuthenticationFailed,
    HttpStatusFault,
    MalformedAnswer,
    ProtocolFault,
    Rejected,
    Unreachable,
)
from smki_desktop.portal.ws_client import Endpoint, WsPortal, WsRepository
from smki_desktop.services import portal
from tests.fuzz.hostile_server import HostileServer, Reply, chained, hostile_server, self_signed
from tests.integration.portal_helpers import device_csrs

EUI = "90B3D51F30010000"


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[HostileServer]:
    with hostile_server(tmp_path) as s:
        yield s


def _search_body() -> bytes:
    return W.CertificateSearchResponse((W.RepositoryRecord(
        "0A1B", "I", "DS", subject_name=W.eui_text(EUI), role="2"),)).build()


def test_deadline_holds_while_headers_drip_on_a_reused_keepalive_connection(
        srv: HostileServer) -> None:
    """Mode `keepalive-drip`: the search is answered on a keep-alive connection, the retrieval
    sent on that same connection gets its headers one byte at a time. Before, the deadline
    never learnt the pooled socket (no connect trace event) and the call lasted as long as the
    drip (34.9 s with a 3 s deadline)."""
    srv.script = [Reply(200, _search_body(), keep_alive=True),
                  Reply(200, b"x" * 10, {"X-Pad": "a" * 400}, keep_alive=True, drip=0.1,
                        drip_limit=150)]  # bounded: 15 s at most
    repo = WsRepository(Endpoint(srv.url, srv.url, srv.anchor_pem), "ka-key-123456",
                        deadline=2.0, timeout=30.0, retries=0)
    t0 = time.monotonic()
    try:
        with pytest.raises(Unreachable, match="timed out") as err:
            repo.search(subject_eui=EUI)
    finally:
        repo.close()
    took = time.monotonic() - t0
    assert srv.requests == 2 and srv.connections == 1  # the retrieval reused the connection
    assert took < 6.0, took
    assert "deadline of 2 s" in err.value.message


def _portal(srv: HostileServer) -> WsPortal:
    # retries and pauses as configured for real use, but no time spent pausing
    return WsPortal(Endpoint(srv.url, srv.url, srv.anchor_pem), None, retries=2, backoff=0.0,
                    deadline=10.0)


CSR = device_csrs(1, 0x00DB123456710000)


def test_a_batch_the_server_read_and_dropped_is_not_sent_again_at_once(
        srv: HostileServer) -> None:
    """Mode `reset-after-read`: the server reads the submission and drops the connection.
    Before, the batch was sent three times within one command; it may have been taken, so
    it is left to the outbox (same client reference), saying so."""
    srv.reply = Reply(drop=True)
    p = _portal(srv)
    try:
        with pytest.raises(AnswerLost) as err:
            p.submit_device_batch("B-ref-1", CSR)
    finally:
        p.close()
    assert srv.requests == 1
    assert "SubmitCSRBatch" in srv.seen[0][0]
    msg = err.value.message
    assert "was sent to" in msg and "no answer was received" in msg
    assert "same client reference" in msg and "outbox" in msg
    assert err.value.retryable  # the outbox keeps it queued


def test_a_dropped_read_only_download_is_still_asked_again_at_once(srv: HostileServer) -> None:
    """A GET changes nothing at the DCC: a lost answer may be asked for again at once."""
    srv.script = [Reply(drop=True), Reply(drop=True)]
    srv.reply = Reply(200, b"\x30\x00")
    p = _portal(srv)
    try:
        assert p.fetch_org_crl() == b"\x30\x00"
    finally:
        p.close()
    assert srv.requests == 3


def test_nothing_listening_is_tried_again_as_it_was_never_sent(tmp_path: Path) -> None:
    """A refused connection proves the request was not sent: plain `Unreachable`."""
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    p = WsPortal(Endpoint(f"https://127.0.0.1:{port}", f"https://127.0.0.1:{port}",
                          self_signed(tmp_path)[2]), None, retries=2, backoff=0.0)
    try:
        with pytest.raises(Unreachable) as err:
            p.submit_device_batch("B-ref-2", CSR)
    finally:
        p.close()
    assert not isinstance(err.value, AnswerLost)
    assert "Cannot reach" in err.value.message


@pytest.mark.parametrize("status", [408, 421, 425, 404])
def test_a_plain_4xx_leaves_the_request_queued_naming_the_status(
        srv: HostileServer, status: int) -> None:
    """Mode `status-408`: a proxy's 408 with an empty body is not the DCC refusing: before,
    the batch's CSRs were filed as errors "XX:Unknown" without the status."""
    srv.reply = Reply(status, b"")
    p = _portal(srv)
    try:
        with pytest.raises(HttpStatusFault) as err:
            p.submit_device_batch("B-ref-3", CSR)
    finally:
        p.close()
    assert not isinstance(err.value, Rejected) and err.value.retryable
    assert f"HTTP {status}" in err.value.message and "XX:Unknown" not in err.value.message
    assert "stays queued" in err.value.message
    assert srv.requests == 1


def test_a_dcc_error_answer_with_4xx_is_still_a_rejection(srv: HostileServer) -> None:
    srv.reply = Reply(400, W.ErrorResponse("FE:BadXml", "not a batch").build())
    p = _portal(srv)
    try:
        with pytest.raises(Rejected) as err:
            p.submit_device_batch("B-ref-4", CSR)
    finally:
        p.close()
    assert err.value.dcc_code == "FE:BadXml"


def test_a_408_sends_the_outbox_item_back_to_the_queue(ctx, srv: HostileServer) -> None:  # type: ignore[no-untyped-def]
    """Through the outbox: the batch stays queued with the status named, no CSR is failed."""
    srv.reply = Reply(408, b"")
    item = portal.enqueue_device_batch(ctx, CSR)
    p = _portal(srv)
    try:
        (sent,) = portal.send_pending(ctx, p, [item.ref])
    finally:
        p.close()
    after = portal.outbox(ctx).get(item.ref)
    assert sent.state == after.state == "queued"
    assert "HTTP 408" in (after.last_error or "")


@pytest.mark.parametrize(("kind", "reason"), [
    ("expired", "certificate has expired"), ("wrong-host", "mismatch")])
def test_tls_failures_quote_the_verify_reason(tmp_path: Path, kind: str, reason: str) -> None:
    """An expired server certificate, or one for another host, is not reported as "does not
    chain to this environment's pinned trust anchor": ssl's reason is quoted."""
    tls = chained(tmp_path, expired=kind == "expired",
                  host="evil.example" if kind == "wrong-host" else None)
    with hostile_server(tmp_path, tls) as s:
        repo = WsRepository(Endpoint(s.url, s.url, s.anchor_pem), "k", retries=0)
        try:
            with pytest.raises(AuthenticationFailed) as err:
                repo.fetch("0A1B")
        finally:
            repo.close()
    msg = err.value.message
    assert reason in msg.lower(), msg
    assert "does not chain" not in msg


def test_an_unknown_server_still_does_not_chain(srv: HostileServer, tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    other = self_signed(tmp_path / "other")[2]
    repo = WsRepository(Endpoint(srv.url, srv.url, other), "k", retries=0)
    try:
        with pytest.raises(AuthenticationFailed, match="does not chain"):
            repo.fetch("0A1B")
    finally:
        repo.close()


def test_a_redirect_is_refused_at_once_naming_where_it_led(srv: HostileServer) -> None:
    """Mode `status-302`: before, reported as malformed XML after three tries."""
    srv.reply = Reply(302, b"", {"Location": "http://127.0.0.1:1/x"})
    p = _portal(srv)
    try:
        with pytest.raises(ProtocolFault) as err:
            p.submit_device_batch("B-ref-5", CSR)
    finally:
        p.close()
    assert "redirect to http://127.0.0.1:1/x was not followed" in err.value.message
    assert not isinstance(err.value, MalformedAnswer)
    assert srv.requests == 1
