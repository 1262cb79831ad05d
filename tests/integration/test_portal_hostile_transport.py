"""The portal client against a hostile HTTPS server on loopback (the review's modes, played by
`tests.fuzz.hostile_server`): the total deadline holds on a reused keep-alive connection, a
submission is never sent again at once after the server read it, a plain 4xx leaves the
request queued naming its status, TLS failures quote their cause, a redirect is not followed
nor retried."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from smki_desktop.core import ws_xml as W
from smki_desktop.core.portal_ports import Unreachable
from smki_desktop.portal.ws_client import Endpoint, WsRepository
from tests.fuzz.hostile_server import HostileServer, Reply, hostile_server

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
