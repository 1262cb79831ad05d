"""The repositories behind trust anchors, certificate imports, credentials, the portal
endpoint and nomination drafts: typed rows in and out of a real SQLite database on disk."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from smki_desktop.store.db import Database
from smki_desktop.store.repos import cert_records, credentials, nomination, portal, trust


@pytest.fixture
def db(open_db: Callable[[], Database]) -> Database:
    return open_db()


def test_trust_anchor_rows(db: Database, tmp_path: Path) -> None:
    assert trust.add_anchor(db, "test", "ab" * 32, "CN=Root", "user", b"\x30\x01", "2026-01-02")
    # the same fingerprint again changes nothing (idempotent, whatever the environment)
    assert not trust.add_anchor(db, "live", "ab" * 32, "CN=Other", "user", b"\x30", "2026-01-03")
    assert trust.has_anchor(db, "ab" * 32) and not trust.has_anchor(db, "cd" * 32)
    assert trust.anchor_ders(db, "test") == [b"\x30\x01"] and trust.anchor_ders(db, "live") == []
    assert trust.list_anchors(db, "test") == [
        trust.AnchorRow("ab" * 32, "CN=Root", "user", "2026-01-02")]
    # the other environment's database is read read-only; a missing one has no anchors
    assert trust.other_environment_anchor_ders(db.path, "test") == [b"\x30\x01"]
    assert trust.other_environment_anchor_ders(tmp_path / "none.sqlite", "test") == []
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"not a database at all" * 100)
    assert trust.other_environment_anchor_ders(bad, "test") == []


def _cert(serial: str, status: str = "accepted") -> cert_records.NewCertificate:
    return cert_records.NewCertificate(
        "test", "CN=Z1", "issuer-key", serial, "organisation", "02", "90-B3", None, None,
        "keyAgreement", "k1", None, status, ["r1"], ["w1"], "2026-01-01", "2036-01-01",
        "2026-06-01", b"\x30\x02", "2026-06-01")


def test_certificate_rows(db: Database) -> None:
    with db.transaction() as tx:
        first = cert_records.insert(tx, _cert("0A"))
        second = cert_records.insert(tx, _cert("0B", "unverified"))
    assert second > first
    row = cert_records.find_by_issuer_serial(db, "issuer-key", "0B")
    assert row is not None and row.cert_id == second and row.reasons == ["r1"]
    assert isinstance(row.der, bytes)
    with db.transaction() as tx:
        cert_records.update_check(tx, second, "accepted", [], ["w2"], "2026-07-01")
    again = cert_records.find_by_issuer_serial(db, "issuer-key", "0B")
    assert again is not None and (again.status, again.warnings) == ("accepted", ["w2"])
    assert [r.serial for r in cert_records.list_certificates(db, "test")] == ["0A", "0B"]
    latest = cert_records.latest_for_key(db, "test", "k1")
    assert latest == cert_records.CertificateForKey(b"\x30\x02", "accepted")
    assert cert_records.latest_for_key(db, "live", "k1") is None
    assert cert_records.csr_for_key(db, "k1") is None and cert_records.key_for_cert(db, "k1") \
        is None
    # issuer + serial identify a certificate: a second insert is refused by the database
    with pytest.raises(sqlite3.IntegrityError), db.transaction() as tx:
        cert_records.insert(tx, _cert("0A"))


def test_credential_rows(db: Database) -> None:
    row = credentials.CredentialRow("test", "web-service", "k1", b"\x30\x03", "CN=IKI", "01",
                                    "CN=me", "2026-01-01T00:00:00+00:00",
                                    "2027-01-01T00:00:00+00:00")
    assert credentials.add(db, row, "2026-01-02") is None
    # recorded once: the second add returns the row already there and writes nothing
    assert credentials.add(db, row, "2026-01-03") == row
    assert credentials.get(db, "test", "CN=IKI", "01") == row
    assert credentials.list_credentials(db, "test", "web-service") == [row]
    assert credentials.list_credentials(db, "test", "file-signing") == []
    assert credentials.list_credentials(db, "live") == []


def test_portal_rows(db: Database) -> None:
    assert portal.get_endpoint(db, "test") is None
    portal.set_configured_endpoint(db, "test", "https://p", "https://r", b"PEM1", "t1")
    portal.set_configured_endpoint(db, "test", "https://p2", "https://r2", b"PEM2", "t2")
    assert portal.get_endpoint(db, "test") == portal.EndpointRow(
        "test", "configured", "https://p2", "https://r2", b"PEM2", None)
    assert portal.rate_last_at(db, "test", "poll") is None
    portal.set_rate_last_at(db, "test", "poll", "2026-01-01T00:00:00")
    portal.set_rate_last_at(db, "test", "poll", "2026-01-02T00:00:00")
    assert portal.rate_last_at(db, "test", "poll") == "2026-01-02T00:00:00"


def test_nomination_draft_rows(db: Database, tmp_path: Path) -> None:
    nomination.save_draft(db, "d1", "test", "F1", 1, '{"a": 1}', "2026-01-01")
    nomination.save_draft(db, "d1", "test", "F1", 1, '{"a": 2}', "2026-01-02")
    assert nomination.get_draft(db, "test", "d1") == nomination.DraftRow(
        "d1", "F1", 1, '{"a": 2}', "2026-01-02")
    assert nomination.get_draft(db, "live", "d1") is None
    assert [d.draft_id for d in nomination.list_drafts(db, "test")] == ["d1"]
    with db.transaction() as c:
        nomination.delete_draft(c, "d1")
    assert nomination.list_drafts(db, "test") == []
    assert nomination.key_of_environment(db, "test", "00" * 32) is None
    assert nomination.other_environment_officer(tmp_path / "none.sqlite", "SRO-1") is None
