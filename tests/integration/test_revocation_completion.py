"""When the DCC answers that it revoked a request's certificates, they are marked revoked here
at once (audited), not left "accepted" until a CRL is fetched; and the request is listed among
the requests to the DCC (the Requests page), with the CRL still confirming it later."""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.services import revocation_state, simulator_control
from tests.integration.identity_helpers import Team, issue_org, make_team, serial_of


@pytest.fixture
def team(ctx, cli_run, tmp_path: Path):  # type: ignore[no-untyped-def]
    t = make_team(ctx, cli_run, tmp_path)
    yield t
    simulator_control.stop(ctx)


def _statuses(cli_run) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {c["serial"].lstrip("0"): c["status"]
            for c in cli_run("--json", "cert", "list").json()["certificates"]}


def test_completed_revocation_marks_certificates_and_is_listed(ctx, cli_run, team: Team):  # type: ignore[no-untyped-def]
    cert = issue_org(ctx, "90-B3-D5-1F-30-01-00-81")
    keep = issue_org(ctx, "90-B3-D5-1F-30-01-00-82")
    other = issue_org(ctx, "90-B3-D5-1F-30-01-00-83")
    r = cli_run("--json", "revoke", "request", serial_of(other), "--reason", "superseded",
                "--justification", "replaced by a new key", "--as", team.aro, "--key",
                team.aro_key)
    assert r.code == 0, r.err
    unsent = str(r.json()["id"])
    r = cli_run("--json", "revoke", "request", serial_of(cert), "--reason", "keyCompromise",
                "--justification", "laptop stolen on the train", "--as", team.aro, "--key",
                team.aro_key)
    assert r.code == 0, r.err
    rid = str(r.json()["id"])
    assert cli_run("revoke", "approve", rid, "--as", team.sro, "--key", team.sro_key).code == 0
    r = cli_run("revoke", "submit", rid)
    assert r.code == 0, r.err
    # at once, before any CRL is fetched
    statuses = _statuses(cli_run)
    assert statuses[serial_of(cert)] == "revoked" and statuses[serial_of(keep)] == "accepted"
    record = [e for e in ctx.audit.entries() if e.action == "revoke.submit"][-1]
    assert record.details["outcome"] == "completed"
    assert [s.lstrip("0") for s in record.details["certificates_marked_revoked"]] == \
        [serial_of(cert)]
    sent = {i.ref: i for i in revocation_state.sent_to_dcc(ctx)}
    assert unsent not in sent  # not sent to the DCC: not listed
    assert rid in sent and sent[rid].kind == "revocation" and sent[rid].state == "submitted"
    assert "revoked the certificates" in sent[rid].next_action
    # the CRL then confirms it: the request moves to revoked, still listed (complete)
    r = cli_run("--json", "portal", "poll")
    assert r.code == 0, r.err
    assert rid in r.json()["revoked"]
    sent = {i.ref: i for i in revocation_state.sent_to_dcc(ctx)}
    assert sent[rid].state == "done"
    assert _statuses(cli_run)[serial_of(cert)] == "revoked"
