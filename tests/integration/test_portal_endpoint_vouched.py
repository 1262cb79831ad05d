"""The portal endpoint in the store is used only while it matches its last audit record: someone
who can write the store (a team store's password, a workstation's data folder) but not sign a
record cannot point the DCC traffic at a server of their own, nor add its CA to the file-signing
trust anchors. The rewrite is refused before any connection, naming what differs; an endpoint set
through the service works, and so does the Test simulator. Real HTTPS loopback servers, the
real adapter and service, on SQLite and on a PostgreSQL team store."""

from __future__ import annotations

import base64
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from smki_desktop.core.errors import Refusal
from smki_desktop.services import portal, repository, simulator_control
from smki_desktop.services.adt.anchors import trust_anchors
from tests.integration.test_repository_environment import DATA, EUI, KEY, SEARCH
from tests.support.postgres import PostgresServer, team_after_move


@dataclass
class Server:
    url: str
    anchor: bytes  # PEM of its self-signed CA certificate
    hits: list[str] = field(default_factory=list)


def _serve(tmp: Path, name: str) -> tuple[Server, ThreadingHTTPServer]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp / f"{name}.pem").write_bytes(pem)
    (tmp / f"{name}.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    server = Server("", pem)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            server.hits.append(self.path)
            body = SEARCH if self.path.startswith("/services/certificatesearch") else DATA
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(tmp / f"{name}.pem", tmp / f"{name}.key")
    srv.socket = tls.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    server.url = f"https://127.0.0.1:{srv.server_address[1]}"
    return server, srv


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    """The DCC's server (set through the service) and the attacker's."""
    dcc, a = _serve(tmp_path, "dcc")
    attacker, b = _serve(tmp_path, "attacker")
    yield dcc, attacker
    for srv in (a, b):
        srv.shutdown()
        srv.server_close()


def _rewrite(ctx, portal_url: str, repository_url: str, anchor: bytes) -> None:  # type: ignore[no-untyped-def]
    """What the attacker does: one UPDATE of the store's row, no audit record."""
    with ctx.db.transaction() as c:
        c.execute("UPDATE portal_endpoints SET source='configured', portal_url=?, "
                  "repository_url=?, trust_anchor=?, state_dir=NULL, pid=NULL "
                  "WHERE environment='test'", (portal_url, repository_url, anchor))


def _search(ctx) -> int:  # type: ignore[no-untyped-def]
    return len(repository.search(ctx, subject_eui=EUI).entries)


@pytest.mark.both_backends
def test_a_rewritten_endpoint_is_refused_before_any_connection(ctx, servers, cli_run) -> None:  # type: ignore[no-untyped-def]
    dcc, attacker = servers
    entry = portal.set_endpoint(ctx, dcc.url, dcc.url, dcc.anchor)
    portal.set_api_key(ctx, KEY)
    assert _search(ctx) == 1 and dcc.hits  # set through the service: used
    _rewrite(ctx, attacker.url, attacker.url, attacker.anchor)
    with pytest.raises(Refusal) as got:
        _search(ctx)
    msg = got.value.message
    assert f"audit record {entry.seq}" in msg and "differs" in msg, msg
    assert attacker.url in msg and "portal URL" in msg and "trust anchor" in msg, msg
    assert "set it again" in msg, msg
    with pytest.raises(Refusal):
        portal.endpoint(ctx)
    assert attacker.hits == []
    # shown with why it is refused, not as if in use
    shown = cli_run("--json", "portal", "endpoint", "show")
    assert shown.code == 0 and "differs" in shown.json()["refused"], shown.out
    from smki_desktop.gui.settings.portal import read_portal_settings

    assert "differs" in read_portal_settings(ctx).warning
    # the attacker's CA is not a file-signing trust anchor either
    attacker_cert = x509.load_pem_x509_certificate(attacker.anchor)
    assert attacker_cert not in trust_anchors(ctx)
    # only the trust anchor swapped (the URLs kept): refused, naming the anchor
    _rewrite(ctx, dcc.url, dcc.url, attacker.anchor)
    with pytest.raises(Refusal) as got:
        portal.endpoint(ctx)
    assert "trust anchor" in got.value.message and "CN=attacker" in got.value.message
    assert "portal URL" not in got.value.message, got.value.message
    # set again through the service: used again, and its anchor trusted again
    portal.set_endpoint(ctx, attacker.url, attacker.url, attacker.anchor)
    assert _search(ctx) == 1 and attacker.hits
    assert cli_run("--json", "portal", "endpoint", "show").json()["refused"] is None
    assert attacker_cert in trust_anchors(ctx)


@pytest.mark.both_backends
def test_an_endpoint_with_no_record_is_refused(ctx, servers) -> None:  # type: ignore[no-untyped-def]
    _, attacker = servers
    with ctx.db.transaction() as c:
        c.execute("INSERT INTO portal_endpoints(environment, source, portal_url, repository_url,"
                  " trust_anchor, state_dir, pid, updated) VALUES ('test','configured',?,?,?,"
                  "NULL,NULL,'2026-01-01')", (attacker.url, attacker.url, attacker.anchor))
    portal.set_api_key(ctx, KEY)
    with pytest.raises(Refusal) as got:
        _search(ctx)
    assert "no audit record" in got.value.message and "set it again" in got.value.message
    assert attacker.hits == []


@pytest.mark.both_backends
def test_a_record_signed_by_a_key_of_the_attackers_is_not_trusted(ctx, servers) -> None:  # type: ignore[no-untyped-def]
    """The attacker also appends a matching endpoint record, chained and signed by a key pair
    of their own, registered in the writer table with a registration record it signs (on a
    team store no endorsed writer vouches for it; a workstation's own log trusts its own key
    only)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from smki_desktop.core.audit import artifact_digest, entry_hash, signing_payload
    from smki_desktop.services.audit import REGISTER_ACTION, writer_id_of

    dcc, attacker = servers
    portal.set_endpoint(ctx, dcc.url, dcc.url, dcc.anchor)
    portal.set_api_key(ctx, KEY)
    _rewrite(ctx, attacker.url, attacker.url, attacker.anchor)
    key = Ed25519PrivateKey.generate()
    pub = key.public_key().public_bytes_raw()
    wid = writer_id_of(pub)
    ts = "2026-01-02T00:00:00.000000+00:00"
    with ctx.db.transaction() as c:
        seq, prev = (lambda r: (int(r["seq"]), str(r["hash"])))(c.execute(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone())
        c.execute("INSERT INTO audit_writers(writer_id, public_key, installation_id, "
                  "environment, registered) VALUES (?,?,?,?,?)",
                  (wid, pub, "intruder", "test", ts))
        for action, details, arts in (
                (REGISTER_ACTION, {"writer": wid, "public_key": base64.b64encode(pub).decode(),
                                   "installation_id": "intruder", "environment": "test"}, {}),
                ("portal.endpoint.set", {"portal_url": attacker.url,
                                         "repository_url": attacker.url, "anchor": "CN=x"},
                 {"trust_anchor": artifact_digest(attacker.anchor)})):
            seq += 1
            text, art = json.dumps(details, sort_keys=True), json.dumps(arts, sort_keys=True)
            h = entry_hash(prev, seq, ts, "test", "intruder", action, text, art)
            sig = base64.b64encode(key.sign(signing_payload(h, wid))).decode()
            c.execute("INSERT INTO audit_log(seq,ts,environment,actor,action,details,artifacts,"
                      "prev_hash,hash,writer,sig) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                      (seq, ts, "test", "intruder", action, text, art, prev, h, wid, sig))
            prev = h
    with pytest.raises(Refusal) as got:
        _search(ctx)
    msg = got.value.message
    assert f"audit record {seq}" in msg and wid[:16] in msg and "endorsed" in msg, msg
    assert attacker.hits == []


@pytest.mark.both_backends
def test_the_simulator_works_and_its_rewritten_anchor_is_not_trusted(ctx, servers) -> None:  # type: ignore[no-untyped-def]
    """Test with no endpoint configured: the simulator (started by the app, recorded in the
    same table) is used, and its anchor is a file-signing anchor; the row rewritten to another
    CA (still marked as the simulator's) adds nothing."""
    _, attacker = servers
    try:
        info = simulator_control.start(ctx)
        rec = portal.endpoint(ctx)
        assert rec.source == "simulator" and rec.endpoint.portal_url == info.portal_url
        sim_root = x509.load_pem_x509_certificate(info.trust_anchor_pem)
        assert sim_root in trust_anchors(ctx)
        with ctx.db.transaction() as c:
            c.execute("UPDATE portal_endpoints SET trust_anchor=? WHERE environment='test'",
                      (attacker.anchor,))
        assert x509.load_pem_x509_certificate(attacker.anchor) not in trust_anchors(ctx)
        assert portal.endpoint(ctx).endpoint.portal_url == info.portal_url
    finally:
        simulator_control.stop(ctx)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # starts as a workstation's own
def test_an_endpoint_set_before_moving_into_a_team_store_is_used_there(  # type: ignore[no-untyped-def]
        cli_run, data_root: Path, postgres_server: PostgresServer, servers) -> None:
    """The move copies the endpoint's row but not the local log that vouches for it: the move
    records it again in the team's log, so it is used there (and a rewrite is still refused)."""
    from smki_desktop.core.environment import Environment
    from smki_desktop.services.context import open_context

    dcc, attacker = servers
    local = open_context(Environment.TEST, data_root)
    try:
        portal.set_endpoint(local, dcc.url, dcc.url, dcc.anchor)
        portal.set_api_key(local, KEY)
    finally:
        local.close()
    with team_after_move(cli_run, postgres_server, data_root) as team:
        assert _search(team) == 1 and dcc.hits
        _rewrite(team, attacker.url, attacker.url, attacker.anchor)
        with pytest.raises(Refusal) as got:
            _search(team)
        assert "differs" in got.value.message and attacker.hits == []
