"""The ADT and quarantine repositories on a real SQLite database (all migrations applied) in
tmp_path: typed rows in and out, ids from RETURNING, environment kept apart, and the look-ups
the signing rules use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from smki_desktop.store.db import Database
from smki_desktop.store.repos import adt as adt_repo
from smki_desktop.store.repos import quarantine as q_repo

SHA = "ab" * 32


@pytest.fixture
def db(open_db: Callable[[], Database]) -> Database:
    return open_db()


def _file(env: str = "test", kind: str = "adt-file", sha: str = SHA, seq: int = 7
          ) -> adt_repo.SignedFileRow:
    return adt_repo.SignedFileRow(
        environment=env, kind=kind, name="adt.csv", path="/x/adt.csv", sha256=sha, size=123,
        profile="adt-file/1", smsr_reference="SMSR-1", key_id="k" * 64,
        signer_subject="CN=Ada", signer_issuer="CN=CA", signer_serial="1F",
        signed_at="2026-12-04T10:00:00+00:00", signature_path="/x/adt.csv.p7s",
        signature_sha256="cd" * 32, manifest_path="/x/adt.csv.manifest.json",
        manifest_sha256="ef" * 32, audit_seq=seq)


def test_signed_files_round_trip_newest_first_per_environment(db: Database) -> None:
    first = adt_repo.add_signed_file(db, _file())
    second = adt_repo.add_signed_file(db, _file(kind="quarantine-action", seq=8))
    adt_repo.add_signed_file(db, _file(env="live"))
    assert second > first > 0
    rows = adt_repo.signed_files(db, "test")
    assert [r.file_id for r in rows] == [second, first]
    assert rows[1] == replace(_file(), file_id=first)  # every column back, typed
    assert [r.file_id for r in adt_repo.signed_files(db, "test", "adt-file")] == [first]
    assert [r.environment for r in adt_repo.signed_files(db, "live")] == ["live"]
    d = rows[1].as_dict()
    assert d["id"] == first and "file_id" not in d and d["sha256"] == SHA
    assert [r.file_id for r in adt_repo.files_with_sha(db, "test", SHA)] == [first, second]
    assert adt_repo.files_with_sha(db, "test", "00" * 32) == []


def test_confirmations_and_deliveries(db: Database) -> None:
    conf = adt_repo.ConfirmationRow(
        environment="test", adt_sha256=SHA, decision="resubmit", resubmitter="Ada Aro",
        sro="Sam Sro (SRO)", confirmed_at="2026-12-04T11:00:00+00:00", document_path="/x/c.json",
        document_sha256="01" * 32, signature_path="/x/c.json.p7s", signature_sha256="02" * 32,
        key_id="s" * 64, audit_seq=9)
    assert adt_repo.add_confirmation(db, conf) > 0
    assert adt_repo.confirmations_of(db, "test", SHA) == [conf]
    assert adt_repo.confirmations_of(db, "live", SHA) == []

    row = adt_repo.DeliveryRow(environment="test", file_sha256=SHA, package_path="/x/p.zip",
                               package_sha256="03" * 32, created="2026-12-04T12:00:00+00:00",
                               audit_seq=10)
    did = adt_repo.add_delivery(db, row)
    assert adt_repo.deliveries_of(db, "test", SHA) == [replace(row, delivery_id=did)]
    adt_repo.set_delivery_sent(db, did, "https://sim/portal/adt-upload", "REF-1")
    (sent,) = adt_repo.deliveries_of(db, "test", SHA)
    assert (sent.sent_to, sent.remote_ref) == ("https://sim/portal/adt-upload", "REF-1")


def test_organisation_use_and_endpoint_anchors(db: Database, tmp_path: Path) -> None:
    key = "a" * 64
    assert adt_repo.organisation_use(db, key) == ""
    with db.transaction() as c:
        c.execute("INSERT INTO csr_requests(environment, key_id, family, usage, der, created) "
                  "VALUES ('test', ?, 'organisation', 'signing', ?, '2026-12-04')",
                  (key, b"\x30\x00"))
        c.execute("INSERT INTO certificates(environment, issuer, issuer_key, serial, family, "
                  "key_id, status, reasons, warnings, checked_at, der, imported) VALUES "
                  "('test', 'CN=CA', 'ik', '01', 'organisation', ?, 'accepted', '', '', "
                  "'2026-12-04', ?, '2026-12-04')", ("b" * 64, b"\x30\x00"))
        c.execute("INSERT INTO portal_endpoints(environment, source, portal_url, "
                  "repository_url, trust_anchor, updated) VALUES ('test', 'simulator', 'u', "
                  "'r', ?, '2026-12-04')", (b"PEM BYTES",))
    assert adt_repo.organisation_use(db, key) == "an Organisation CSR"
    assert adt_repo.organisation_use(db, "b" * 64) == "an Organisation Certificate"
    assert adt_repo.organisation_use(db, "c" * 64) == ""
    assert adt_repo.endpoint_anchor_blobs(db, "test") == [b"PEM BYTES"]
    assert adt_repo.endpoint_anchor_blobs(db, "live") == []

    # read-only in another environment's database: its anchors, and the endpoint's marked
    # as "CA certificates only"; nothing when that database is absent
    with db.transaction() as c:
        c.execute("INSERT INTO trust_anchors(fingerprint, environment, subject, source, der, "
                  "added) VALUES ('fp', 'test', 'CN=Root', 'user', ?, '2026-12-04')",
                  (b"DER",))
    assert sorted(adt_repo.anchor_blobs_elsewhere(db.path, "test")) == [
        (b"DER", False), (b"PEM BYTES", True)]
    assert adt_repo.anchor_blobs_elsewhere(tmp_path / "none.sqlite", "test") == []


def test_quarantine_reports_items_and_decisions(db: Database) -> None:
    items = [("Q-1", '{"quarantine_id": "Q-1"}'), ("Q-2", '{"quarantine_id": "Q-2"}')]
    rid = q_repo.add_report(db, "test", "report.csv", SHA, "quarantine-report/1",
                            "2026-12-04T09:00:00+00:00", items)
    assert rid > 0
    got = q_repo.report_with_sha(db, "test", SHA)
    assert got == q_repo.ReportRow(rid, "test", "report.csv", SHA, "quarantine-report/1",
                                   "2026-12-04T09:00:00+00:00", 2, "")
    assert q_repo.report_with_sha(db, "live", SHA) is None
    assert q_repo.get_report(db, "test", rid) == got
    assert q_repo.get_report(db, "live", rid) is None
    assert q_repo.decisions(db, rid) == {}
    assert q_repo.set_decisions(db, rid, {"Q-1": "PROCESS", "Q-2": "DELETE", "Q-9": "DELETE"}) \
        == 2
    assert q_repo.decisions(db, rid) == {"Q-1": "PROCESS", "Q-2": "DELETE"}
    q_repo.set_decisions(db, rid, {"Q-2": ""})
    assert q_repo.decisions(db, rid) == {"Q-1": "PROCESS"}
    q_repo.set_action_sha(db, rid, "99" * 32)
    (listed,) = q_repo.list_reports(db, "test")
    assert listed.action_sha256 == "99" * 32 and listed.as_dict()["id"] == rid
    # the same report again violates the (environment, sha256) key: nothing half-written
    with pytest.raises(Exception, match="UNIQUE"):
        q_repo.add_report(db, "test", "again.csv", SHA, "p", "t", [("Q-3", "{}")])
    assert q_repo.list_reports(db, "test") == [listed]
    assert q_repo.list_reports(db, "live") == []
