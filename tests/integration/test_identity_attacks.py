"""A colleague at the same workstation who can write the database but holds neither the other
officer's keys nor the keyring: what they can forge, replay or stretch, and what the app (and
the simulator, which replays the same log through the same rules) still refuses."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path

import pytest

from smki_desktop.core.canonical import canonical_bytes
from smki_desktop.core.errors import Refusal
from smki_desktop.core.ports import FixedClock
from smki_desktop.services import revocation, simulator_control
from smki_desktop.services.revocation_state import get_view
from tests.integration.identity_helpers import Team, issue_org, make_team, serial_of


@pytest.fixture
def team(ctx, cli_run, tmp_path: Path):  # type: ignore[no-untyped-def]
    t = make_team(ctx, cli_run, tmp_path)
    yield t
    simulator_control.stop(ctx)


def test_rewriting_an_aros_unsigned_nomination_as_sro_grants_no_sro_standing(
        ctx, cli_run, team: Team) -> None:  # type: ignore[no-untyped-def]
    """The nomination is the one change no officer signs: rewriting Bob's to say "sro" must not
    turn the ARO (whose credential names ARO-…) into an SRO who can suspend the real SRO."""
    with ctx.db.transaction() as c:
        row = c.execute("SELECT seq, body FROM officer_log WHERE officer_id=? AND "
                        "action='nominate'", (team.aro,)).fetchone()
        change = json.loads(bytes(row["body"]))
        change["details"]["role"] = "sro"
        c.execute("UPDATE officer_log SET body=? WHERE seq=?",
                  (canonical_bytes(change), row["seq"]))
        c.execute("UPDATE officers SET role='sro' WHERE officer_id=?", (team.aro,))
    r = cli_run("officer", "suspend", team.sro, "--reason", "coup", "--as", team.aro,
                "--key", team.aro_key)
    assert r.code == 1, r.out
    # the keyring anchor notices the altered log first; the register id's role holds anyway
    assert "only ever appended to" in r.err, r.err
    from smki_desktop.core.register import apply_change

    with pytest.raises(Refusal, match="register id carries their role"):
        apply_change({}, change)


def test_an_imported_approval_keeps_the_signing_time_it_carries(
        ctx, cli_run, team: Team, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A lapsed approval is not revived by editing `signed_at` in an exported bundle."""
    rid = cli_run("--json", "revoke", "request",
                  serial_of(issue_org(ctx, "90-B3-D5-1F-30-01-00-90")), "--reason",
                  "superseded", "--justification", "replaced by a new key",
                  "--as", team.aro, "--key",
                  team.aro_key).json()["id"]
    assert cli_run("revoke", "approve", rid, "--as", team.sro, "--key", team.sro_key).code == 0
    out = tmp_path / "bundle.json"
    assert cli_run("revoke", "export", rid, "--out", str(out)).code == 0
    real = ctx.clock
    ctx.clock = FixedClock(real.now() + timedelta(hours=25))  # the approval has lapsed
    try:
        assert get_view(ctx, rid).state == "waiting"
        doc = json.loads(out.read_text())
        for s in doc["signatures"]:
            if s["kind"] == "approval":
                s["signed_at"] = ctx.clock.now().replace(microsecond=0).isoformat()
        with pytest.raises(Refusal, match="signing time"):
            revocation.import_bundle(ctx, json.dumps(doc).encode())
        assert get_view(ctx, rid).state == "waiting"
        with pytest.raises(Refusal, match="only a fully approved request"):
            revocation.submit(ctx, rid)
    finally:
        ctx.clock = real


def test_an_approval_from_a_bundle_must_name_this_request(
        ctx, cli_run, team: Team, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Replaying an old approval (over an earlier request's bytes) on a new request."""
    old = cli_run("--json", "revoke", "request",
                  serial_of(issue_org(ctx, "90-B3-D5-1F-30-01-00-91")), "--reason",
                  "superseded", "--justification", "old key retired", "--as", team.aro, "--key",
                  team.aro_key).json()["id"]
    assert cli_run("revoke", "approve", old, "--as", team.sro, "--key", team.sro_key).code == 0
    new = cli_run("--json", "revoke", "request",
                  serial_of(issue_org(ctx, "90-B3-D5-1F-30-01-00-92")), "--reason",
                  "keyCompromise", "--justification", "new key superseded it",
                  "--as", team.aro, "--key",
                  team.aro_key).json()["id"]
    a, b = tmp_path / "old.json", tmp_path / "new.json"
    assert cli_run("revoke", "export", old, "--out", str(a)).code == 0
    assert cli_run("revoke", "export", new, "--out", str(b)).code == 0
    old_doc, new_doc = json.loads(a.read_text()), json.loads(b.read_text())
    approval = next(s for s in old_doc["signatures"] if s["kind"] == "approval")
    new_doc["signatures"].append(dict(approval, body=new_doc["request"]))
    f = tmp_path / "replayed.json"
    f.write_text(json.dumps(new_doc))
    r = cli_run("revoke", "import", str(f))
    assert r.code == 1, r.out
    assert cli_run("--json", "revoke", "status", new).json()["state"] == "waiting"
    # and with the old bytes kept as the approval's body: refused as other bytes
    new_doc["signatures"][-1] = approval
    f.write_text(json.dumps(new_doc))
    r = cli_run("revoke", "import", str(f))
    assert r.code == 1 and "over other bytes" in r.err, r.err
    assert base64.b64decode(approval["body"]) != base64.b64decode(new_doc["request"])


def test_an_approver_is_not_shown_one_certificate_while_another_is_revoked(
        ctx, cli_run, team: Team, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The ARO signs (with their own key, outside the app) a request whose entry names the serial
    of the Party's live certificate but the description and hash of a spare one; the SRO must
    not approve the spare's description while the live certificate's serial goes to the DCC."""
    from smki_desktop.core.officers import OfficerRole
    from smki_desktop.services import identity

    live = issue_org(ctx, "90-B3-D5-1F-30-01-00-93")
    spare = issue_org(ctx, "90-B3-D5-1F-30-01-00-94")
    rid = cli_run("--json", "revoke", "request", serial_of(spare), "--reason", "superseded",
                  "--justification", "spare key not needed", "--as", team.aro, "--key",
                  team.aro_key).json()["id"]
    out = tmp_path / "honest.json"
    assert cli_run("revoke", "export", rid, "--out", str(out)).code == 0
    doc = json.loads(out.read_text())
    body = json.loads(base64.b64decode(doc["request"]))
    body["id"] = rid + "X"
    body["certificates"][0]["serial"] = serial_of(live)  # everything else describes the spare
    crafted = canonical_bytes(body)
    aro = identity.resolve_actor(ctx, team.aro, team.aro_key, roles=(OfficerRole.ARO,),
                                 what="t")
    now = ctx.clock.now().replace(microsecond=0)
    sig = identity.sign(ctx, aro, crafted, now)
    doc.update(id=body["id"], request=base64.b64encode(crafted).decode(), signatures=[
        {"kind": "request", "officer_id": team.aro, "signed_at": now.isoformat(),
         "body": base64.b64encode(crafted).decode(),
         "signature": base64.b64encode(sig).decode()}])
    f = tmp_path / "crafted.json"
    f.write_text(json.dumps(doc))
    cli_run("revoke", "import", str(f))
    r = cli_run("revoke", "approve", body["id"], "--as", team.sro, "--key", team.sro_key)
    assert r.code == 1 and serial_of(live) in r.err, (r.out, r.err)
    assert cli_run("--json", "revoke", "status", body["id"]).json()["state"] != "approved"
    # the simulator checks the hash against its own copy, whatever the app did
    from smki_desktop.services.revocation_state import get_view as view_of
    from tests.integration.identity_helpers import payload, post_to_simulator

    sro = identity.resolve_actor(ctx, team.sro, team.sro_key, roles=(OfficerRole.SRO,),
                                 what="t")
    approval = identity.sign(ctx, sro, crafted, ctx.clock.now())
    assert view_of(ctx, body["id"]).row.body == crafted
    ans = post_to_simulator(ctx, payload(crafted, [("request", sig), ("approval", approval)]))
    assert ans["status"] == "REJECTED" and ans["code"] == "RV:Mismatch", ans
    listed = {c["serial"].lstrip("0"): c["status"]
              for c in cli_run("--json", "cert", "list").json()["certificates"]}
    assert listed[serial_of(live)] != "revoked"


def test_a_rejection_in_a_bundle_must_be_an_approvers_and_about_this_request(
        ctx, cli_run, team: Team, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An urgent request is not blocked by a "rejection" the requesting ARO signed themselves,
    nor by an SRO's real rejection of another request attached to it."""
    from smki_desktop.core.approvals import REJECTION_TYPE
    from smki_desktop.core.canonical import sha256_hex
    from smki_desktop.core.officers import OfficerRole
    from smki_desktop.services import identity

    def req(eui: str) -> str:
        return str(cli_run("--json", "revoke", "request", serial_of(issue_org(ctx, eui)),
                           "--reason", "keyCompromise", "--justification", "laptop stolen",
                           "--urgency", "urgent", "--as", team.aro, "--key",
                           team.aro_key).json()["id"])

    rid, other = req("90-B3-D5-1F-30-01-00-95"), req("90-B3-D5-1F-30-01-00-96")
    out = tmp_path / "bundle.json"
    assert cli_run("revoke", "export", rid, "--out", str(out)).code == 0
    doc = json.loads(out.read_text())
    aro = identity.resolve_actor(ctx, team.aro, team.aro_key, roles=(OfficerRole.ARO,),
                                 what="t")
    now = ctx.clock.now().replace(microsecond=0)
    req_bytes = base64.b64decode(doc["request"])
    own = canonical_bytes({"type": REJECTION_TYPE, "request_id": rid,
                           "request_sha256": sha256_hex(req_bytes), "reason": "no",
                           "by": team.aro, "at": now.isoformat()})

    def with_rejection(body: bytes, sig: bytes, by: str) -> Path:
        d = dict(doc, signatures=[
            *doc["signatures"],
            {"kind": "rejection", "officer_id": by, "signed_at": now.isoformat(),
             "body": base64.b64encode(body).decode(),
             "signature": base64.b64encode(sig).decode()}])
        f = tmp_path / "with-rejection.json"
        f.write_text(json.dumps(d))
        return f

    r = cli_run("revoke", "import", str(with_rejection(own, identity.sign(ctx, aro, own, now),
                                                       team.aro)))
    assert r.code == 1 and "self-approval" in r.err, r.err
    assert cli_run("--json", "revoke", "status", rid).json()["state"] == "waiting"
    # an SRO's real rejection of the other request, replayed onto this one
    assert cli_run("revoke", "reject", other, "--as", team.sro, "--key", team.sro_key,
                   "--reason", "duplicate").code == 0
    o = tmp_path / "other.json"
    assert cli_run("revoke", "export", other, "--out", str(o)).code == 0
    rej = next(s for s in json.loads(o.read_text())["signatures"] if s["kind"] == "rejection")
    d = dict(doc, signatures=[*doc["signatures"], rej])
    f = tmp_path / "replayed-rejection.json"
    f.write_text(json.dumps(d))
    r = cli_run("revoke", "import", str(f))
    assert r.code == 1 and rid in r.err, r.err
    assert cli_run("--json", "revoke", "status", rid).json()["state"] == "waiting"


def test_simulator_refuses_an_approval_dated_in_the_future(
        ctx, cli_run, team: Team) -> None:  # type: ignore[no-untyped-def]
    """An approval lapses after its lifetime counted from its signing time: one dated a month
    ahead (the signer sets the CMS signing time) would never lapse, so the DCC refuses it."""
    from smki_desktop.core.officers import OfficerRole
    from smki_desktop.services import identity
    from tests.integration.identity_helpers import payload, post_to_simulator, stored

    rid = cli_run("--json", "revoke", "request",
                  serial_of(issue_org(ctx, "90-B3-D5-1F-30-01-00-97")), "--reason",
                  "superseded", "--justification", "replaced by a new key",
                  "--as", team.aro, "--key",
                  team.aro_key).json()["id"]
    body, sigs = stored(ctx, rid)
    sro = identity.resolve_actor(ctx, team.sro, team.sro_key, roles=(OfficerRole.SRO,),
                                 what="t")
    ahead = identity.sign(ctx, sro, body, ctx.clock.now() + timedelta(days=30))
    ans = post_to_simulator(ctx, payload(body, [("request", sigs["request"]),
                                                ("approval", ahead)]))
    assert ans["status"] == "REJECTED" and ans["code"] == "RV:Expired", ans
    assert "signing time" in ans["rule"], ans


@pytest.mark.parametrize("tamper", ["delete", "corrupt"])
def test_removing_a_signed_suspension_from_the_log_reinstates_no_one(
        ctx, cli_run, team: Team, tamper: str) -> None:  # type: ignore[no-untyped-def]
    """The suspended ARO deletes (or spoils the signature of) the SRO-signed suspension in the
    database: the replay would fall back to their earlier standing, so the log is anchored in
    the keyring (which the colleague cannot write) and a log that lost changes is refused."""
    assert cli_run("officer", "suspend", team.aro, "--reason", "investigation", "--as",
                   team.sro, "--key", team.sro_key).code == 0
    with ctx.db.transaction() as c:
        if tamper == "delete":
            c.execute("DELETE FROM officer_log WHERE officer_id=? AND action='suspend'",
                      (team.aro,))
        else:
            c.execute("UPDATE officer_log SET signature=? WHERE officer_id=? AND "
                      "action='suspend'", (b"\x30\x00", team.aro))
        c.execute("UPDATE officers SET status='active' WHERE officer_id=?", (team.aro,))
        c.execute("UPDATE officer_credentials SET flagged='' WHERE officer_id=?", (team.aro,))
    r = cli_run("revoke", "request", serial_of(issue_org(ctx, "90-B3-D5-1F-30-01-00-98")),
                "--reason", "superseded", "--justification", "key compromised",
                "--as", team.aro, "--key",
                team.aro_key)
    assert r.code == 1 and "register log" in r.err and "keyring" in r.err, (r.out, r.err)

