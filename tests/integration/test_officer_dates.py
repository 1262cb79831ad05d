"""The verification meeting's date against the nomination's and the app's clock, end to end:
a meeting dated before the nomination or in the future is refused (naming the field and both
dates), and an entry an older version recorded with such dates is not activated."""

from __future__ import annotations

from datetime import timedelta

import pytest

from smki_desktop.core import officers as officer_rules
from smki_desktop.core.errors import Refusal
from smki_desktop.services import officers as svc
from smki_desktop.services import register
from tests.integration.test_officer_cli import EVIDENCE, nominate


def _nominated_sro(cli_run, tmp_path, name="Alice Example") -> str:  # type: ignore[no-untyped-def]
    res = nominate(cli_run, tmp_path, "sro", name, nominator__date="2026-11-20")
    assert res.code == 0, res.err
    return str(res.json()["officer"]["officer_id"])


def test_meeting_before_the_nomination_or_in_the_future_is_refused(cli_run, tmp_path, ctx):  # type: ignore[no-untyped-def]
    oid = _nominated_sro(cli_run, tmp_path)
    r = cli_run("officer", "verify", oid, "--date", "2026-11-19", "--verifier", "Vera",
                "--evidence", EVIDENCE)
    assert r.code != 0
    assert "verification date" in r.err and "2026-11-19" in r.err and "2026-11-20" in r.err
    tomorrow = (ctx.clock.now().date() + timedelta(days=1)).isoformat()
    r = cli_run("officer", "verify", oid, "--date", tomorrow, "--verifier", "Vera",
                "--evidence", EVIDENCE)
    assert r.code != 0 and "in the future" in r.err and tomorrow in r.err
    assert svc.get_officer(ctx, oid).status.value == "nominated"
    r = cli_run("officer", "activate", oid)
    assert r.code != 0  # still not verified
    # the nomination day itself is fine, and so is today
    today = ctx.clock.now().date().isoformat()
    for day in ("2026-11-20", today):
        r = cli_run("officer", "verify", oid, "--date", day, "--verifier", "Vera",
                    "--evidence", EVIDENCE)
        assert r.code == 0, r.err
    assert cli_run("officer", "activate", oid).code == 0


def test_an_entry_recorded_with_a_meeting_before_its_nomination_is_not_activated(
        cli_run, tmp_path, ctx, monkeypatch):  # type: ignore[no-untyped-def]
    oid = _nominated_sro(cli_run, tmp_path)
    # a register an older version wrote: the meeting's date was not checked then
    with monkeypatch.context() as m:
        m.setattr(officer_rules, "check_verification_dates", lambda *a, **k: None)
        svc.verify_officer(ctx, oid, svc.parse_verification(
            "2026-11-01", "Vera", [EVIDENCE], "passed"))
    assert svc.get_officer(ctx, oid).status.value == "verified"
    with pytest.raises(Refusal) as exc:
        register.activate(ctx, oid)
    msg = exc.value.message
    assert "cannot be activated" in msg and "2026-11-01" in msg and "2026-11-20" in msg
    assert "Record the verification meeting again" in msg
    r = cli_run("officer", "activate", oid)
    assert r.code != 0 and "Record the verification meeting again" in r.err
    assert svc.get_officer(ctx, oid).status.value == "verified"
    # corrected: the meeting recorded again with its true date
    r = cli_run("officer", "verify", oid, "--date", "2026-11-21", "--verifier", "Vera",
                "--evidence", EVIDENCE)
    assert r.code == 0, r.err
    assert cli_run("officer", "activate", oid).code == 0
