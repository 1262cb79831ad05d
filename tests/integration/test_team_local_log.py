"""`smki team migrate-from-local` and the workstation's own audit log (issue 16): the local log
stays in the workstation's own database (anchored in its keyring) and the team log gets, in the
move's own signed record, a reference to it: its installation, writer key, length and head,
and whether it verified. From then on the workstation's verify of the team log checks that the
local log still ends at that head; neither log is reported lost."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.support.postgres import PostgresServer

# each test starts from a workstation's own database (SQLite), then links it to a team store
pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _local_head(db: Path) -> tuple[int, int, str]:
    con = sqlite3.connect(db)
    try:
        n, = con.execute("SELECT COUNT(*) FROM audit_log").fetchone()
        seq, h = con.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1") \
            .fetchone()
        return int(n), int(seq), str(h)
    finally:
        con.close()


def test_migrate_references_the_local_log_and_both_logs_verify(  # type: ignore[no-untyped-def]
        cli_run, data_root: Path, postgres_server: PostgresServer) -> None:
    for label in ("one", "two"):
        assert cli_run("key", "generate", "--usage", "signing", "--label", label).code == 0
    name = postgres_server.create_database()
    local_db = data_root / "test" / "smki.sqlite3"
    try:
        assert cli_run("team", "connect", postgres_server.socket_url(name)).code == 0
        assert cli_run("team", "init").code == 0
        rows, seq, head = _local_head(local_db)
        r = cli_run("team", "migrate-from-local", "--json")
        assert r.code == 0, r.err
        entries = cli_run("audit", "list", "--json").json()["entries"]
        move, = (e for e in entries if e["action"] == "team.migrate_from_local")
        ref = move["details"]["local_log"]
        assert (ref["rows"], ref["head_seq"], ref["head_hash"]) == (rows, seq, head)
        assert ref["verified"] is True and ref["problems"] == []
        assert ref["installation_id"] and len(ref["writer"]) == 64 and ref["public_key"]
        # the team log verifies from this workstation, the local log is not reported lost
        v = cli_run("audit", "verify", "--json")
        assert v.code == 0 and v.json()["ok"], v.out + v.err
        assert any("local audit log" in n and f"row {seq}" in n for n in v.json()["notes"]), \
            v.json()["notes"]

        # the local log changed behind the reference: the team-side verify says so
        con = sqlite3.connect(local_db)
        try:
            con.execute("DROP TRIGGER IF EXISTS audit_no_delete")
            con.execute("DELETE FROM audit_log WHERE seq = ?", (seq,))
            con.commit()
        finally:
            con.close()
        v = cli_run("audit", "verify", "--json")
        assert v.code == 1 and any("local audit log" in p for p in v.json()["problems"]), \
            v.out
    finally:
        postgres_server.drop_database(name)


def test_the_local_log_verifies_again_after_disconnecting(  # type: ignore[no-untyped-def]
        cli_run, data_root: Path, postgres_server: PostgresServer) -> None:
    assert cli_run("key", "generate", "--usage", "signing", "--label", "one").code == 0
    name = postgres_server.create_database()
    try:
        assert cli_run("team", "connect", postgres_server.socket_url(name)).code == 0
        assert cli_run("team", "init").code == 0
        assert cli_run("team", "migrate-from-local").code == 0
        assert cli_run("key", "generate", "--usage", "signing", "--label", "two").code == 0
        assert cli_run("team", "disconnect").code == 0
        v = cli_run("audit", "verify", "--json")  # the workstation's own log, here again
        assert v.code == 0 and v.json()["ok"], v.out + v.err
    finally:
        postgres_server.drop_database(name)


def _ca_pem(name: str) -> bytes:
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)
    k = ec.generate_private_key(ec.SECP256R1())
    n = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(n).issuer_name(n).public_key(k.public_key())
            .serial_number(1).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(k, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def test_migrate_keeps_the_anchors_added_here_vouched_and_no_others(  # type: ignore[no-untyped-def]
        cli_run, data_root: Path, postgres_server: PostgresServer, tmp_path: Path) -> None:
    """The move record lists the anchors the local audit log proves were added through the app,
    so they vouch for officers' signatures in the team store; one only put in the local
    database's table is copied but vouches for no one."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    from smki_desktop.core.environment import Environment
    from smki_desktop.services.context import open_context
    from smki_desktop.services.trust import officer_anchors

    good, bad = tmp_path / "good.pem", _ca_pem("Inserted CA")
    good.write_bytes(_ca_pem("Added CA"))
    assert cli_run("cert", "anchor", "add", str(good)).code == 0
    bad_cert = x509.load_pem_x509_certificate(bad)
    con = sqlite3.connect(data_root / "test" / "smki.sqlite3")
    try:
        con.execute("INSERT INTO trust_anchors(fingerprint, environment, subject, source, der, "
                    "added) VALUES (?,?,?,?,?,?)",
                    (bad_cert.fingerprint(hashes.SHA256()).hex(), "test", "CN=Inserted CA",
                     "user", bad_cert.public_bytes(serialization.Encoding.DER),
                     "2026-12-01T00:00:00+00:00"))
        con.commit()
    finally:
        con.close()
    name = postgres_server.create_database()
    try:
        assert cli_run("team", "connect", postgres_server.socket_url(name)).code == 0
        assert cli_run("team", "init").code == 0
        r = cli_run("team", "migrate-from-local", "--json")
        assert r.code == 0, r.err
        ctx = open_context(Environment.TEST, data_root)
        try:
            names = {a.subject.rfc4514_string() for a in officer_anchors(ctx)}
        finally:
            ctx.close()
        assert names == {"CN=Added CA"}, names
    finally:
        postgres_server.drop_database(name)
