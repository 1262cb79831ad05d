"""The store's surface and the repositories with portable SQL, on both backends (SQLite and a
real PostgreSQL team store): rows by column name, BLOBs, RETURNING ids, upserts, all-or-nothing
transactions, the append-only audit table, and errors mapped to StoreError with the cause."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest

from smki_desktop.store.db import Database, StoreError
from smki_desktop.store.repos import renewals
from smki_desktop.store.repos.approvals import ApprovalsRepo, RequestRow, SignatureRow
from smki_desktop.store.repos.audit import AuditRepo, WriterRow
from smki_desktop.store.repos.credential_status import RevokedCredentialsRepo

pytestmark = pytest.mark.both_backends

Open = Callable[[], Database]


def test_rows_by_name_blobs_and_reopen(open_db: Open, backend: str) -> None:
    db = open_db()
    assert db.backend == ("sqlite" if backend == "sqlite" else "postgresql")
    blob = bytes(range(256)) + b"\x00?%'"
    db.conn().execute("INSERT INTO trust_anchors(fingerprint, environment, subject, source, der,"
                      " added) VALUES(?,?,?,?,?,?)", ("fp?%", "test", "it's 50% ?", "t", blob,
                                                      "2026-01-01"))
    r = db.conn().execute("SELECT der, subject AS Subj, COUNT(*) AS n FROM trust_anchors "
                          "WHERE subject LIKE '%50!%%' ESCAPE '!' GROUP BY der, subject") \
        .fetchone()
    assert r is not None and bytes(r["der"]) == blob and r["subj"] == "it's 50% ?"
    assert r["n"] == 1 and r[2] == 1 and tuple(r)[1] == r["SUBJ"]
    db.close()
    again = open_db()  # what was written outside a transaction was committed
    assert again.conn().execute("SELECT fingerprint FROM trust_anchors").fetchall()[0][0] == "fp?%"
    assert again.migrate()["base"] == 1  # migrating again changes nothing


def test_transaction_is_all_or_nothing(open_db: Open) -> None:
    db = open_db()
    with pytest.raises(RuntimeError), db.transaction() as c:
        c.execute("INSERT INTO settings(name, value) VALUES('a', '1')")
        raise RuntimeError("stop half-way")
    assert db.conn().execute("SELECT COUNT(*) FROM settings WHERE name='a'").fetchone()[0] == 0
    with pytest.raises(sqlite3.IntegrityError) as err, db.transaction() as c:
        c.execute("INSERT INTO settings(name, value) VALUES('b', '1')")
        c.execute("INSERT INTO settings(name, value) VALUES('b', '2')")
    assert "settings" in str(err.value) or "UNIQUE" in str(err.value)
    assert db.conn().execute("SELECT COUNT(*) FROM settings WHERE name='b'").fetchone()[0] == 0


def test_returning_ids_and_upserts_in_the_repositories(open_db: Open) -> None:
    db = open_db()
    first = renewals.add(db, "test", "01", "CN=i", "old", "new1", 7, "2026-01-01")
    second = renewals.add(db, "test", "01", "CN=i", "old", "new2", 8, "2026-01-02")
    assert second > first > 0
    assert [r.renewal_id for r in renewals.for_certificate(db, "test", "01")] == [first, second]

    revoked = RevokedCredentialsRepo(db, "test")
    assert revoked.add("CN=iki", [("0A", "2026-01-01"), ("0B", "2026-01-01")], "h") == 2
    assert revoked.add("CN=iki", [("0A", "2026-02-02"), ("0C", "2026-01-03")], "h") == 1
    assert revoked.revoked_at("CN=iki", "0A") == "2026-01-01"  # DO NOTHING kept the first

    repo = ApprovalsRepo(db, "test")
    req = RequestRow("R1", "test", "revocation", b"body", "sha", "aro", "2026-01-01",
                     "2026-02-01")
    repo.add(req, SignatureRow("R1", "test", "request", "ARO-1", "t1", b"body", b"s1"))
    repo.add_signature(SignatureRow("R1", "test", "approval", "SRO-1", "t2", b"body", b"s2"))
    repo.add_signature(SignatureRow("R1", "test", "approval", "SRO-1", "t3", b"body", b"s3"))
    sigs = repo.signatures("R1")
    assert [(s.kind, s.officer_id, s.signature) for s in sigs] == \
        [("request", "ARO-1", b"s1"), ("approval", "SRO-1", b"s3")]  # one approval counted

    audit = AuditRepo(db)
    w = WriterRow("w1", b"\x01" * 32, "inst", "test", "2026-01-01")
    with audit.writing() as tx:
        tx.add_writer(w)
        tx.add_writer(WriterRow("w1", b"\x02" * 32, "other", "test", "2026-01-02"))
    got = audit.writer("w1")
    assert got is not None and bytes(got.public_key) == b"\x01" * 32


def test_audit_table_is_append_only_and_errors_name_the_cause(open_db: Open) -> None:
    db = open_db()
    db.conn().execute("INSERT INTO audit_log(seq, ts, environment, actor, action, details, "
                      "artifacts, prev_hash, hash) VALUES(1,'t','test','a','x','{}','{}','0',"
                      "'1')")
    for sql in ("UPDATE audit_log SET actor='b'", "DELETE FROM audit_log"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.conn().execute(sql)
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        db.conn().execute("SELECT * FROM not_a_table")
    if db.backend == "postgresql":
        with pytest.raises(StoreError, match="team store"):
            db.conn().execute("SELECT * FROM not_a_table")


def test_a_decision_after_a_stale_read_is_refused_and_counted_once(open_db: Open) -> None:
    """Two officers read a waiting request; the first approval is added, the second (read
    before it) is not: `add_decision` names the decision that came in between."""
    db = open_db()
    repo = ApprovalsRepo(db, "test")
    repo.add(RequestRow("R2", "test", "revocation", b"body", "sha", "aro", "2026-01-01",
                        "2026-02-01"),
             SignatureRow("R2", "test", "request", "ARO-1", "t1", b"body", b"s1"))
    seen = repo.signatures("R2")  # both officers saw only the request
    first = SignatureRow("R2", "test", "approval", "SRO-1", "t2", b"body", b"s2")
    assert repo.add_decision(first, seen) is None
    late = repo.add_decision(SignatureRow("R2", "test", "approval", "SRO-2", "t3", b"body",
                                          b"s3"), seen)
    assert late is not None and (late.kind, late.officer_id) == ("approval", "SRO-1")
    assert [(s.kind, s.officer_id) for s in repo.signatures("R2")] == \
        [("request", "ARO-1"), ("approval", "SRO-1")]
    # read again, the same officer may renew their own approval (an expired one): allowed
    renewed = SignatureRow("R2", "test", "approval", "SRO-1", "t4", b"body", b"s4")
    assert repo.add_decision(renewed, repo.signatures("R2")) is None


def test_connections_of_ended_threads_are_released(open_db: Open, backend: str) -> None:
    """The GUI runs each job on a thread of its own: many more threads than the team store's
    pool holds (5 + 20) each read once, and the store still answers at once (a connection kept
    for an ended thread drained the pool, and the 26th waited 30 s and failed)."""
    import threading
    import time

    db = open_db()
    answers: list[int] = []

    def read() -> None:
        answers.append(int(db.conn().execute("SELECT 1").fetchone()[0]))

    started = time.monotonic()
    for _ in range(60):
        t = threading.Thread(target=read)
        t.start()
        t.join(60)
    assert answers == [1] * 60
    assert time.monotonic() - started < 25  # no wait for a pool timeout (30 s)


def test_connections_of_jobs_on_a_qt_thread_pool_are_released(open_db: Open) -> None:
    """The GUI's jobs run on a Qt thread pool: Python keeps a dummy Thread for such a thread
    that never ends (the next thread reuses its ident) while the thread's local storage is
    dropped after each job, so every job took a connection of its own and after 25 jobs the
    next waited for the pool's timeout (a window on a team store stopped answering after a
    couple of minutes of its banner's probes). Many more jobs than the pool holds each read
    once, a few at a time, and the store still answers at once."""
    import time

    from PySide6.QtCore import QRunnable, QThreadPool

    db = open_db()
    answers: list[int] = []

    class Read(QRunnable):
        def run(self) -> None:
            answers.append(int(db.conn().execute("SELECT 1").fetchone()[0]))

    pool = QThreadPool()
    pool.setMaxThreadCount(3)
    jobs = [Read() for _ in range(80)]
    started = time.monotonic()
    for job in jobs:
        job.setAutoDelete(False)
        pool.start(job)
    assert pool.waitForDone(60000)
    assert answers == [1] * 80
    assert time.monotonic() - started < 25  # no wait for a pool timeout (30 s)
    import threading

    later = threading.Thread(target=db.conn)  # the next connection made closes (SQLite) or
    later.start()                             # returns (PostgreSQL) those of the jobs
    later.join(30)
    assert db.open_connections <= 5  # this thread's, the later one's, at most the pool's three
