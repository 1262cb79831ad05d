"""The SRO's confirmation of a compromise counts only as signed: someone who can write the store
(but holds no officer's key) cannot confirm an incident by writing its JSON, turn a signed
"not-compromised" into "confirmed", or change the certificates an SRO confirmed. Such a stored
confirmation shows as not given, with the problem named, and re-keying is refused (attack
review: test_d_incident::test_confirmation_from_db)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from smki_desktop.services import simulator_control
from tests.integration.identity_helpers import Team, issue_org, make_team, serial_of


@pytest.fixture
def team(ctx, cli_run, tmp_path: Path):  # type: ignore[no-untyped-def]
    t = make_team(ctx, cli_run, tmp_path)
    yield t
    simulator_control.stop(ctx)


def _open(ctx, cli_run, eui: str) -> str:  # type: ignore[no-untyped-def]
    r = cli_run("--json", "incident", "open", "--when", "2026-12-03T22:10:00Z",
                "--reported-by", "desk", "--cert", serial_of(issue_org(ctx, eui)))
    assert r.code == 0, r.err
    return str(r.json()["id"])


def _edit(ctx, iid: str, change: Any) -> None:  # type: ignore[no-untyped-def]
    """Change the incident's stored JSON directly, as someone with the database would."""
    with ctx.db.transaction() as c:
        (data,) = c.execute("SELECT data FROM incidents WHERE incident_id=?", (iid,)).fetchone()
        doc = json.loads(data)
        change(doc)
        c.execute("UPDATE incidents SET data=? WHERE incident_id=?", (json.dumps(doc), iid))


def _confirmation_item(cli_run, iid: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = cli_run("--json", "incident", "show", iid)
    assert r.code == 0, r.err
    doc = r.json()
    item = next(i for i in doc["checklist"] if i["code"] == "sro-confirmation")
    return {"done": item["done"], "text": item["text"], "problems": doc.get("problems", []),
            "confirmation": doc.get("confirmation")}


def _rekey(cli_run, team: Team, iid: str, out: Path):  # type: ignore[no-untyped-def]
    return cli_run("--json", "incident", "rekey", iid, "--out", str(out), "--as", team.aro,
                   "--key", team.aro_key)


def test_a_confirmation_written_into_the_store_is_not_given(
        ctx, cli_run, team: Team, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    iid = _open(ctx, cli_run, "90-B3-D5-1F-30-01-00-A1")
    _edit(ctx, iid, lambda d: d.update(confirmation={
        "outcome": "confirmed", "by": team.sro, "at": "2026-12-06T00:00:00+00:00", "note": ""}))
    shown = _confirmation_item(cli_run, iid)
    assert shown["done"] is False and shown["confirmation"] is None, shown
    assert "does not count" in shown["text"] and "carries no signature" in shown["text"], shown
    assert any("carries no signature" in p for p in shown["problems"]), shown
    keys = len(cli_run("--json", "key", "list").json()["keys"])
    r = _rekey(cli_run, team, iid, tmp_path / "out")
    assert r.code == 1 and "signed confirmation" in r.err and "does not count" in r.err, r.err
    assert len(cli_run("--json", "key", "list").json()["keys"]) == keys  # no key was made
    assert not (tmp_path / "out").exists()
    assert cli_run("--json", "revoke", "status").json()["requests"] == []  # no request made
    # the SRO's real confirmation replaces the forged one; re-keying then proceeds
    r = cli_run("incident", "confirm", iid, "--outcome", "confirmed", "--as", team.sro,
                "--key", team.sro_key)
    assert r.code == 0, r.err
    shown = _confirmation_item(cli_run, iid)
    assert shown["done"] is True and shown["problems"] == [], shown
    assert shown["confirmation"]["by"] == team.sro
    r = _rekey(cli_run, team, iid, tmp_path / "out")
    assert r.code == 0, r.err


def test_a_signed_confirmation_edited_in_the_store_does_not_count(
        ctx, cli_run, team: Team, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # a signed "not-compromised" whose plain outcome field is changed to "confirmed"
    a = _open(ctx, cli_run, "90-B3-D5-1F-30-01-00-A2")
    r = cli_run("incident", "confirm", a, "--outcome", "not-compromised", "--as", team.sro,
                "--key", team.sro_key)
    assert r.code == 0, r.err
    _edit(ctx, a, lambda d: d["confirmation"].update(outcome="confirmed"))
    r = _rekey(cli_run, team, a, tmp_path / "a")
    assert r.code == 1 and "not-compromised" in r.err, r.err
    shown = _confirmation_item(cli_run, a)
    assert shown["confirmation"]["outcome"] == "not-compromised", shown  # as signed
    # a signed "confirmed" whose incident then names another certificate to revoke
    b = _open(ctx, cli_run, "90-B3-D5-1F-30-01-00-A3")
    r = cli_run("incident", "confirm", b, "--outcome", "confirmed", "--as", team.sro,
                "--key", team.sro_key)
    assert r.code == 0, r.err
    other = serial_of(issue_org(ctx, "90-B3-D5-1F-30-01-00-A4"))
    _edit(ctx, b, lambda d: d["certificates"][0].update(serial=other))
    shown = _confirmation_item(cli_run, b)
    assert shown["done"] is False, shown
    assert any("differ from those the SRO confirmed" in p for p in shown["problems"]), shown
    r = _rekey(cli_run, team, b, tmp_path / "b")
    assert r.code == 1 and "does not count" in r.err, r.err
    # a signature over other bytes (another incident's confirmation) does not count either
    c = _open(ctx, cli_run, "90-B3-D5-1F-30-01-00-A5")
    with ctx.db.transaction() as cur:
        (data,) = cur.execute("SELECT data FROM incidents WHERE incident_id=?",
                              (a,)).fetchone()
    signed = json.loads(data)["confirmation"]
    _edit(ctx, c, lambda d: d.update(confirmation=dict(signed, outcome="confirmed")))
    shown = _confirmation_item(cli_run, c)
    assert shown["done"] is False and any(f"names {a!r}" in p for p in shown["problems"]), \
        shown
