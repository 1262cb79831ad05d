"""A revocation request's state counts only decisions whose signatures verify. Someone who can
write the store (but holds no officer's key) must not be able to reject, approve or revive an
approval by writing rows: an unverifiable row is listed as a problem, never counted, and never
crashes the status (attack review: test_e_state)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from smki_desktop.core.ports import FixedClock
from smki_desktop.services import simulator_control
from smki_desktop.services.revocation_state import get_view
from tests.integration.identity_helpers import Team, issue_org, make_team, serial_of, stored

INSERT = ("INSERT INTO approval_signatures(request_id, environment, kind, officer_id, signed_at,"
          " body, signature) VALUES (?,?,?,?,?,?,?)")


@pytest.fixture
def team(ctx, cli_run, tmp_path: Path):  # type: ignore[no-untyped-def]
    t = make_team(ctx, cli_run, tmp_path)
    yield t
    simulator_control.stop(ctx)


def _urgent(ctx, cli_run, team: Team, eui: str) -> str:  # type: ignore[no-untyped-def]
    r = cli_run("--json", "revoke", "request", serial_of(issue_org(ctx, eui)), "--reason",
                "keyCompromise", "--urgency", "urgent", "--justification", "signing key stolen",
                "--as", team.aro, "--key", team.aro_key)
    assert r.code == 0, r.err
    return str(r.json()["id"])


def test_junk_decision_rows_are_problems_not_decisions(ctx, cli_run, team: Team
                                                       ) -> None:  # type: ignore[no-untyped-def]
    rid = _urgent(ctx, cli_run, team, "90-B3-D5-1F-30-01-00-91")
    body, sigs = stored(ctx, rid)
    with ctx.db.transaction() as c:  # written straight into the store, no key
        c.execute(INSERT, (rid, "test", "rejection", team.sro, "2026-01-01T00:00:00+00:00",
                           b"junk", b"junk"))
        # the ARO's own request signature copied in as an "approval": it verifies, but an
        # ARO approving their own request is no approval
        c.execute(INSERT, (rid, "test", "approval", team.aro, "2026-01-01T00:00:00+00:00",
                           body, sigs["request"]))
    r = cli_run("--json", "revoke", "status", rid)
    assert r.code == 0, r.err
    doc = r.json()
    assert doc["state"] == "waiting" and doc["rejected_by"] is None, doc
    assert doc["approved_by"] == [], doc
    problems = " | ".join(doc["problems"])
    assert f"the rejection by {team.sro} does not count" in problems, problems
    assert f"the approval by {team.aro} does not count" in problems, problems
    assert "no self-approval" in problems, problems
    r = cli_run("--json", "revoke", "status")  # every request: no crash either
    assert r.code == 0, r.err
    r = cli_run("revoke", "status", rid)  # the text form names the problems too
    assert r.code == 0 and "problem: the rejection by" in r.out, (r.out, r.err)
    r = cli_run("revoke", "approve", rid, "--as", team.sro, "--key", team.sro_key)
    assert r.code == 0, r.err
    v = get_view(ctx, rid)
    assert v.state == "approved" and [s.officer_id for s in v.approvals()] == [team.sro]
    assert v.rejection() is None


def test_junk_approval_and_edited_signing_time_do_not_approve(
        ctx, cli_run, team: Team) -> None:  # type: ignore[no-untyped-def]
    a = _urgent(ctx, cli_run, team, "90-B3-D5-1F-30-01-00-92")
    with ctx.db.transaction() as c:
        c.execute(INSERT, (a, "test", "approval", team.sro, "2099-01-01T00:00:00+00:00",
                           b"junk", b"junk"))
    v = get_view(ctx, a)
    assert v.state == "waiting" and v.approvals() == [], v.as_dict()
    assert any(f"the approval by {team.sro} does not count" in p for p in v.problems), v.problems

    b = _urgent(ctx, cli_run, team, "90-B3-D5-1F-30-01-00-93")
    r = cli_run("revoke", "approve", b, "--as", team.sro, "--key", team.sro_key)
    assert r.code == 0, r.err
    real = ctx.clock
    later = real.now() + timedelta(hours=25)  # an approval is good for 24 hours
    with ctx.db.transaction() as c:  # move the stored signing time forward to revive it
        c.execute("UPDATE approval_signatures SET signed_at=? WHERE request_id=? AND "
                  "kind='approval'", (later.replace(microsecond=0).isoformat(), b))
    ctx.clock = FixedClock(later)
    try:
        v = get_view(ctx, b)
        assert v.state == "waiting", v.as_dict()
        assert any("the signature's time counts" in p for p in v.problems), v.problems
    finally:
        ctx.clock = real
    assert get_view(ctx, b).state == "approved"  # within its 24 hours it still counts
