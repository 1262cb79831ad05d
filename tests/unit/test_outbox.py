"""The outbox: stored before sending, states, due times, and survival across a reopen; on
SQLite and on a PostgreSQL team store (`open_db`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import Ambiguous, NotFound
from smki_desktop.core.ports import FixedClock
from smki_desktop.portal.outbox import Outbox, new_ref
from smki_desktop.store.db import Database

pytestmark = pytest.mark.both_backends
OpenDb = Callable[[], Database]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 1, 21, 0, tzinfo=UTC))


def test_refs_fit_every_dcc_id_field() -> None:
    from smki_desktop.core import ws_xml as W

    refs = {new_ref("device-batch") for _ in range(1000)}
    assert len(refs) == 1000
    for r in list(refs)[:50]:
        assert W.check_adhoc_id(r) and W.check_csr_id(r) and W.check_batch_id(r)


def test_lifecycle_and_due_times(open_db: OpenDb, clock: FixedClock) -> None:
    ob = Outbox(open_db(), Environment.TEST, clock)
    item = ob.add("device-batch", b"<payload/>", {"count": 2})
    assert item.state == "queued" and item.attempts == 0
    assert [i.ref for i in ob.due("queued")] == [item.ref]
    ob.note_attempt(item.ref)
    ob.defer(item.ref, "Cannot reach the DCC", clock.now() + timedelta(minutes=2))
    assert ob.due("queued") == []
    retry_at = clock.now() + timedelta(minutes=2)
    assert ob.get(item.ref).next_action == (
        f"send to the DCC (retry at {retry_at:%Y-%m-%d %H:%M:%S} UTC; last attempt: Cannot "
        "reach the DCC)")
    clock.advance(minutes=2)
    assert [i.ref for i in ob.due("queued")] == [item.ref]
    ob.mark_submitted(item.ref, "17", "PENDING", clock.now() + timedelta(hours=1))
    got = ob.get(item.ref)
    assert (got.state, got.server_id, got.attempts, got.last_error) == \
        ("submitted", "17", 1, None)
    assert ob.due("submitted") == []
    clock.advance(hours=1)
    ob.mark_polled(item.ref, "QUEUED", clock.now() + timedelta(hours=1))
    assert ob.get(item.ref).last_poll_at == clock.now()
    ob.mark_done(item.ref, "COMPLETED", b"<results/>")
    done = ob.get(item.ref)
    assert done.state == "done" and done.result == b"<results/>"
    assert done.next_action == "nothing: complete"


def test_survives_reopen_and_is_per_environment(open_db: OpenDb, clock: FixedClock) -> None:
    db = open_db()
    ref = Outbox(db, Environment.TEST, clock).add("org-csr", b"csr").ref
    db.close()
    db2 = open_db()
    assert Outbox(db2, Environment.TEST, clock).get(ref).payload == b"csr"
    with pytest.raises(NotFound, match="Live outbox"):
        Outbox(db2, Environment.LIVE, clock).get(ref)


def test_prefix_lookup(open_db: OpenDb, clock: FixedClock) -> None:
    ob = Outbox(open_db(), Environment.TEST, clock)
    a = ob.add("org-csr", b"1", ref="Oaaaa1").ref
    ob.add("org-csr", b"2", ref="Oaaaa2")
    assert ob.get("Oaaaa1").ref == a
    with pytest.raises(Ambiguous):
        ob.get("Oaaaa")
    failed = ob.add("revocation", b"AB", ref="Rzz")
    ob.mark_failed(failed.ref, "RV:NotAuth")
    assert [i.ref for i in ob.items(["failed"])] == ["Rzz"]


def test_prefix_wildcards_are_literal(open_db: OpenDb, clock: FixedClock) -> None:
    ob = Outbox(open_db(), Environment.TEST, clock)
    ob.add("org-csr", b"1", ref="Oabc")
    with pytest.raises(NotFound):
        ob.get("O_b")
    with pytest.raises(NotFound):
        ob.get("%")
    assert ob.get("Oab").ref == "Oabc"
