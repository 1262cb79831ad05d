"""Another workstation's last records deleted from the team store (weakness A): workstation A
cannot see workstation B's keyring head, so the shorter log is a valid chain for A. Someone with
SQL access deletes B's newest `portal.endpoint.set` (or trust-anchor addition) and puts the
older value back in the table: A must not take the older value as vouched once it has seen the
newer record. Each workstation remembers, in its own OS keyring (its store pin), the last
record of every writer it has read (`core/team_pin.py`, `heads`), and a log that no longer holds
one of them, as it was, is a cut log (named: which writer, from which row), kept until an
officer acknowledges the loss.

What no workstation can see is a tail nobody else read before it was deleted: only the
workstation that wrote it (its own keyring head) notices; the last test pins that limit down.

Two workstations in one process on one PostgreSQL team store (each its own installation, so
its own keyring entries); the attacker's edits through a raw connection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes

from smki_desktop.core.errors import Refusal
from smki_desktop.services import portal_endpoint, trust
from tests.integration.test_audit_vouched_holes import (
    _ca,
    _Raw,
    _refused,
    _rewrite_endpoint,
    _second_workstation,
)

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


def _joined(ctx: Any, data_root: Path, tmp_path: Path) -> Any:
    """Workstation B: joins the team log and is endorsed by the first workstation (ctx)."""
    ctx.audit.record("team.hello", {"n": 0})  # A writes first: the log's first writer
    ws2 = _second_workstation(data_root, tmp_path)
    ws2.audit.record("team.hello", {"n": 1})
    ctx.audit.endorse(ws2.audit.installation_id)
    return ws2


def _cut_from(data_root: Path, seq: int) -> None:
    with _Raw(data_root) as c:
        c.execute("DELETE FROM audit_log WHERE seq>=?", (seq,))


def test_another_workstations_endpoint_record_deleted_is_a_cut_where_it_was_seen(  # type: ignore[no-untyped-def]
        ctx, data_root: Path, tmp_path: Path) -> None:
    old = _ca("old-dcc")
    portal_endpoint.set_endpoint(ctx, "https://old.example", "https://old.example", old)
    ws2 = _joined(ctx, data_root, tmp_path)
    try:
        newer = portal_endpoint.set_endpoint(ws2, "https://new.example", "https://new.example",
                                             _ca("new-dcc"))
        # workstation A reads the endpoint: it has seen B's record
        assert portal_endpoint.endpoint(ctx).endpoint.portal_url == "https://new.example"
        _cut_from(data_root, newer.seq)
        _rewrite_endpoint(ctx, "https://old.example", old)
        message = _refused(ctx)
        assert "audit log was cut" in message, message
        assert ws2.audit.installation_id in message and f"row {newer.seq}" in message, message
        # a record written since does not heal it (the keyring remembers the cut)
        ctx.audit.record("party.update", {"n": 1})
        assert "audit log was cut" in _refused(ctx)
        report = ctx.audit.verify()
        assert not report.ok and any(ws2.audit.installation_id in p for p in report.problems)
        # an officer acknowledges the loss (a backup restored, say): the log counts again
        ctx.audit.acknowledge_loss("the store was restored from last night's dump")
        assert portal_endpoint.endpoint(ctx).endpoint.portal_url == "https://old.example"
    finally:
        ws2.close()


def test_another_workstations_trust_anchor_deleted_is_refused_not_dropped(  # type: ignore[no-untyped-def]
        ctx, data_root: Path, tmp_path: Path) -> None:
    ws2 = _joined(ctx, data_root, tmp_path)
    try:
        fp, added = trust.add_trust_anchor(ws2, _ca("team CA"))
        assert added is not None
        assert [c.fingerprint(hashes.SHA256()).hex() for c in trust.officer_anchors(ctx)] == [fp]
        _cut_from(data_root, added.seq)
        with pytest.raises(Refusal) as got:
            trust.officer_anchors(ctx)
        assert "audit log was cut" in got.value.message, got.value.message
        assert ws2.audit.installation_id in got.value.message, got.value.message
    finally:
        ws2.close()


def test_a_workstation_that_only_reads_detects_it_too(  # type: ignore[no-untyped-def]
        ctx, data_root: Path, tmp_path: Path) -> None:
    old = _ca("old-dcc")
    portal_endpoint.set_endpoint(ctx, "https://old.example", "https://old.example", old)
    newer = portal_endpoint.set_endpoint(ctx, "https://new.example", "https://new.example",
                                         _ca("new-dcc"))
    reader = _second_workstation(data_root, tmp_path)  # has written nothing: a reader
    try:
        assert portal_endpoint.endpoint(reader).endpoint.portal_url == "https://new.example"
        _cut_from(data_root, newer.seq)
        _rewrite_endpoint(ctx, "https://old.example", old)
        message = _refused(reader)
        assert "audit log was cut" in message and ctx.audit.installation_id in message, message
    finally:
        reader.close()


def test_a_tail_nobody_else_read_is_seen_only_by_its_writer(  # type: ignore[no-untyped-def]
        ctx, data_root: Path, tmp_path: Path) -> None:
    old = _ca("old-dcc")
    portal_endpoint.set_endpoint(ctx, "https://old.example", "https://old.example", old)
    ws2 = _joined(ctx, data_root, tmp_path)
    try:
        assert portal_endpoint.endpoint(ctx).endpoint.portal_url == "https://old.example"
        newer = portal_endpoint.set_endpoint(ws2, "https://new.example", "https://new.example",
                                             _ca("new-dcc"))
        _cut_from(data_root, newer.seq)  # before A read anything after it
        _rewrite_endpoint(ctx, "https://old.example", old)
        # the limit: A never saw the record, so the older endpoint is what its log vouches for
        assert portal_endpoint.endpoint(ctx).endpoint.portal_url == "https://old.example"
        # B's own keyring head is gone from the log: B refuses
        assert "audit log was cut" in _refused(ws2)
    finally:
        ws2.close()

