"""The Device CSR batch repository (`store/repos/devices.py`) on a real SQLite file: every
function writes or reads what the devices services rely on, per environment."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

import pytest

from smki_desktop.store.db import Database
from smki_desktop.store.repos import devices as repo

T0 = "2026-12-04T10:00:00+00:00"
T1 = "2026-12-04T11:00:00+00:00"


def _csr(n: int, eui: str = "00DB123456000001", usage: str = "signing") -> repo.NewCsr:
    return repo.NewCsr(f"k{n:03d}", f"f{n:03d}.csr", eui, usage, bytes([n]) * 5, "src.zip",
                       f"member {n}")


def _batch(batch_id: str, env: str = "test", *, channel: str = "portal-zip",
           state: str = "packaged", total: int = 2, created: str = T0,
           deadline: str | None = "2027-01-03T10:00:00+00:00") -> repo.NewBatch:
    return repo.NewBatch(batch_id, env, f"name-{batch_id}", channel, state, total, created,
                         created if state == "pending" else None, deadline, None, "/out",
                         json.dumps(["/out/a.zip"]))


@pytest.fixture()
def db(open_db: Callable[[], Database]) -> Database:
    return open_db()  # closed by open_db


def _add(db: Database, b: repo.NewBatch, csrs: list[repo.NewCsr], status: str = "packaged") -> None:
    with db.transaction() as c:
        repo.insert_batch(c, b, status, csrs)


def test_insert_batch_and_read_it_back(db: Database) -> None:
    _add(db, _batch("B1"), [_csr(1), _csr(2, usage="key-agreement")])
    [b] = repo.list_batches(db, "test")
    assert b == repo.BatchRow("B1", "name-B1", "portal-zip", "packaged", 2, T0,
                              "2027-01-03T10:00:00+00:00")
    rows = repo.list_rows(db, "test")
    assert [(r.file_name, r.usage, r.status, r.batch_id) for r in rows] == [
        ("f001.csr", "signing", "packaged", "B1"), ("f002.csr", "key-agreement", "packaged", "B1")]
    assert rows[0].error_code is None and rows[0].detail is None
    assert repo.list_batches(db, "live") == [] and repo.list_rows(db, "live") == []


def test_a_duplicate_key_fails_the_whole_batch(db: Database) -> None:
    _add(db, _batch("B1"), [_csr(1)])
    with pytest.raises(sqlite3.IntegrityError):
        _add(db, _batch("B2"), [_csr(2), _csr(1)])
    assert [b.batch_id for b in repo.list_batches(db, "test")] == ["B1"]
    assert len(repo.list_rows(db, "test")) == 1


def test_list_rows_of_one_batch_in_file_order(db: Database) -> None:
    _add(db, _batch("B1"), [_csr(3), _csr(1)])
    _add(db, _batch("B2"), [_csr(2)])
    assert [r.file_name for r in repo.list_rows(db, "test", "B1")] == ["f001.csr", "f003.csr"]
    assert [r.batch_id for r in repo.list_rows(db, "test")] == ["B1", "B1", "B2"]


def test_delete_batch_removes_its_rows(db: Database) -> None:
    _add(db, _batch("B1"), [_csr(1)])
    _add(db, _batch("B2"), [_csr(2)])
    with db.transaction() as c:
        repo.delete_batch(c, "B1")
    assert [b.batch_id for b in repo.list_batches(db, "test")] == ["B2"]
    assert [r.key_id for r in repo.list_rows(db, "test")] == ["k002"]


def test_set_outbox_ref_and_open_web_batches(db: Database) -> None:
    _add(db, _batch("W1", channel="web-service", state="pending"), [_csr(1)], "pending")
    _add(db, _batch("W2", channel="web-service", state="pending"), [_csr(2)], "pending")
    _add(db, _batch("P1"), [_csr(3)])
    assert repo.open_web_batches(db, "test") == []  # no outbox request yet
    with db.transaction() as c:
        repo.set_outbox_ref(c, "W1", "B000001", T1)
        repo.set_outbox_ref(c, "W2", "B000002", T1)
        repo.set_batch_completed(c, "W2", T1)
    assert repo.open_web_batches(db, "test") == [("W1", "B000001")]
    assert repo.open_web_batches(db, "live") == []
    states = {b.batch_id: b.state for b in repo.list_batches(db, "test")}
    assert states == {"W1": "pending", "W2": "completed", "P1": "packaged"}


def test_fail_waiting_counts_only_waiting_rows(db: Database) -> None:
    _add(db, _batch("W1", channel="web-service", state="pending", total=3),
         [_csr(1), _csr(2), _csr(3)], "pending")
    with db.transaction() as c:
        repo.file_results(c, [repo.ResultUpdate("issued", None, "ok", b"cert", "0a", "CA",
                                                "[]", T1, "test", "k001")])
    with db.transaction() as c:
        n = repo.fail_waiting(c, "W1", "the batch failed at the DCC: boom", T1)
    assert n == 2
    statuses = {r.key_id: (r.status, r.detail) for r in repo.list_rows(db, "test")}
    assert statuses == {"k001": ("issued", "ok"),
                        "k002": ("error", "the batch failed at the DCC: boom"),
                        "k003": ("error", "the batch failed at the DCC: boom")}


def test_file_results_and_find_by_key(db: Database) -> None:
    _add(db, _batch("B1"), [_csr(1)])
    with db.transaction() as c:
        repo.file_results(c, [repo.ResultUpdate("mismatch", "E1", "bad key", b"\x30\x00",
                                                "1f", "CN=CA", '[["key", "bad"]]', T1, "test",
                                                "k001"),
                              repo.ResultUpdate("issued", None, "x", None, None, None, None, T1,
                                                "live", "k001")])  # other env: untouched
    got = repo.find_by_key(db, "k001", "test")
    assert got == repo.StoredCsr("test", "k001", "B1", "f001.csr", "00DB123456000001", "signing",
                                 "mismatch", bytes([1]) * 5, b"\x30\x00", "1f")
    [row] = repo.list_rows(db, "test")
    assert (row.error_code, row.detail, row.cert_serial) == ("E1", "bad key", "1f")
    assert repo.find_by_key(db, "nope", "test") is None


def test_find_by_key_prefers_this_environment(db: Database) -> None:
    _add(db, _batch("L1", "live"), [_csr(1, eui="00DB123456000009")])
    assert repo.find_by_key(db, "k001", "test").environment == "live"  # type: ignore[union-attr]
    _add(db, _batch("T1"), [_csr(1)])
    assert repo.find_by_key(db, "k001", "test").environment == "test"  # type: ignore[union-attr]
    assert repo.find_by_key(db, "k001", "live").environment == "live"  # type: ignore[union-attr]


def test_settle_batches_and_waiting_count(db: Database) -> None:
    _add(db, _batch("B1"), [_csr(1), _csr(2)])
    with db.transaction() as c:
        repo.file_results(c, [repo.ResultUpdate("issued", None, "ok", b"c", "01", "CA", "[]",
                                                T1, "test", "k001")])
        repo.settle_batches(c, ["B1"], T1)
    assert repo.waiting_count(db, ["B1"]) == 1
    [b] = repo.list_batches(db, "test")
    assert b.state == "submitted"
    assert {r.key_id: r.status for r in repo.list_rows(db, "test")} == {
        "k001": "issued", "k002": "pending"}  # packaged -> pending: the DCC answered
    with db.transaction() as c:
        repo.file_results(c, [repo.ResultUpdate("error", "E", "no", None, None, None, None,
                                                T1, "test", "k002")])
        repo.settle_batches(c, ["B1"], T1)
    assert repo.waiting_count(db, ["B1"]) == 0
    assert repo.list_batches(db, "test")[0].state == "completed"
    submitted = db.conn().execute("SELECT submitted FROM device_batches WHERE id='B1'")
    assert submitted.fetchone()[0] == T1


def test_known_csrs_and_rows_for_filing(db: Database) -> None:
    _add(db, _batch("B1"), [_csr(1), _csr(2, eui="00DB123456000002")])
    _add(db, _batch("L1", "live"), [_csr(3)])
    known = repo.known_csrs(db, "test")
    assert {k.key_id for k in known} == {"k001", "k002"}
    assert known[0] == repo.KnownCsr("k001", "00DB123456000001", "signing", "packaged", "B1",
                                     "f001.csr")
    filing = repo.rows_for_filing(db, "test", "B1")
    assert [f.file_name for f in filing] == ["f001.csr", "f002.csr"]
    assert repo.rows_for_filing(db, "test", "nope") == []
    assert [f.key_id for f in repo.rows_for_filing(db, "live")] == ["k003"]


def test_imported_device_certs(db: Database) -> None:
    with db.transaction() as c:
        for i, (env, family, eui) in enumerate([("test", "device", "00-DB-12-34-56-00-00-07"),
                                                ("test", "device", None),
                                                ("test", "organisation", "x"),
                                                ("live", "device", "00DB123456000008")]):
            c.execute("INSERT INTO certificates(environment, issuer, issuer_key, serial, family,"
                      " device_eui, key_id, status, reasons, warnings, checked_at, der, imported)"
                      " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
                      (env, "CA", "ik", str(i), family, eui, f"c{i}", "accepted", "[]", "[]",
                       T0, b"d", T0))
    assert repo.imported_device_certs(db, "test") == [("00-DB-12-34-56-00-00-07", "c0")]


def test_status_counts(db: Database) -> None:
    _add(db, _batch("B1", total=3), [_csr(1), _csr(2), _csr(3)])
    _add(db, _batch("B2", total=1), [_csr(4)], "pending")
    with db.transaction() as c:
        repo.file_results(c, [repo.ResultUpdate("error", "E", "no", None, None, None, None, T1,
                                                "test", "k002")])
    assert repo.status_counts(db, "test") == {"B1": {"packaged": 2, "error": 1},
                                              "B2": {"pending": 1}}
    assert repo.status_counts(db, "live") == {}


def test_batch_csrs(db: Database) -> None:
    _add(db, _batch("B1"), [_csr(2), _csr(1)])
    assert repo.batch_csrs(db, "test", "B1") == [("f001.csr", bytes([1]) * 5),
                                                 ("f002.csr", bytes([2]) * 5)]
    assert repo.batch_csrs(db, "live", "B1") == []


def test_max_eui_between(db: Database) -> None:
    assert repo.max_eui_between(db, "test", "00DB123456000000", "00DB123456FFFFFF") is None
    _add(db, _batch("B1"), [_csr(1, eui="00DB123456000005"), _csr(2, eui="00DB123456000003"),
                            _csr(3, eui="00DB123457000000")])
    _add(db, _batch("L1", "live"), [_csr(4, eui="00DB123456000099")])
    assert repo.max_eui_between(db, "test", "00DB123456000000", "00DB123456FFFFFF") \
        == "00DB123456000005"


@pytest.mark.both_backends
def test_list_page_walks_a_status_in_eui_order_without_gaps_or_repeats(db: Database) -> None:
    # two rows share an EUI (signing + key-agreement): the key breaks the tie
    csrs = [_csr(n, eui=f"00DB1234560000{n // 2:02X}",
                 usage="signing" if n % 2 else "key-agreement") for n in range(1, 12)]
    _add(db, _batch("B1", total=len(csrs)), csrs)
    with db.transaction() as c:
        repo.file_results(c, [repo.ResultUpdate("issued", None, "", None, None, None, None, T1,
                                                "test", f"k{n:03d}") for n in (2, 3, 5, 8, 9)])
    seen: list[str] = []
    after: tuple[str, str] | None = None
    while page := repo.list_page(db, "test", status="issued", after=after, limit=2):
        seen += [r.key_id for r in page]
        after = (page[-1].device_eui, page[-1].key_id)
    assert seen == ["k002", "k003", "k005", "k008", "k009"]
    everything = [r.key_id for r in repo.list_page(db, "test", limit=100)]
    assert everything == sorted(everything, key=lambda k: (csrs[int(k[1:]) - 1].device_eui, k))
    assert len(everything) == 11 and repo.list_page(db, "live") == []
