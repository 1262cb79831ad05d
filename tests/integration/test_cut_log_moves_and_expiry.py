"""A cut audit log (a record deleted in the middle) is said, not passed over, by the last two
readers of vouched records: the move into a team store, which would carry none of the
workstation's proven records (every genuine certificate and nomination unvouched afterwards),
and the expiry report, whose per-certificate lines would otherwise blame each certificate."""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.core.errors import Refusal
from smki_desktop.services import move_records
from smki_desktop.services.expiry import CERT_ACTIONS, expiry_report
from tests.integration.test_audit_vouched_holes import _Raw

pytestmark = pytest.mark.both_backends


def _cut_middle(ctx, data_root: Path) -> int:  # type: ignore[no-untyped-def]
    middle = ctx.audit.record("party.update", {"n": 1})
    ctx.audit.record("party.update", {"n": 2})
    with _Raw(data_root) as c:
        c.execute("DELETE FROM audit_log WHERE seq=?", (middle.seq,))
    return middle.seq


def test_a_cut_log_is_not_carried_into_a_team_store_as_if_it_proved_nothing(  # type: ignore[no-untyped-def]
        ctx, data_root: Path) -> None:
    ctx.audit.record("officer.nominate", {"officer_id": "ARO-0001"})
    assert [r[0] for r in move_records.vouched_records(ctx.audit, "here")] == [
        "officer.nominate"]
    seq = _cut_middle(ctx, data_root)
    with pytest.raises(Refusal) as got:
        move_records.vouched_records(ctx.audit, "the workstation's own audit log")
    message = got.value.message
    assert message.startswith("The records of the workstation's own audit log cannot be "
                              "carried into the team store: the audit log was cut"), message
    assert f"row {seq + 1}" in message and "the move is not made" in message


def test_the_expiry_report_says_the_log_was_cut(ctx, data_root: Path) -> None:  # type: ignore[no-untyped-def]
    # a certificate's import record before the cut (its certificate is not stored: one line)
    ctx.audit.record(CERT_ACTIONS[0], {"cert_id": 1, "serial": "01"})
    assert not any("cut" in p for p in expiry_report(ctx).problems)
    seq = _cut_middle(ctx, data_root)
    problems = expiry_report(ctx).problems
    assert problems and problems[0].startswith(
        "The certificates' audit records cannot be proven: the audit log was cut"), problems
    assert f"row {seq + 1}" in problems[0]
