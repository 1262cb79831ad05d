"""Revocation under dual control, end to end with two officers and their own credentials: the
ARO's signed request, the SRO's approval, submission to the simulator over mutual TLS, the new
Organisation CRL, and the certificate shown as revoked; then each refusal, named by its rule,
by the app and independently by the simulator."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from smki_desktop.core.canonical import canonical_bytes
from smki_desktop.core.ports import FixedClock
from smki_desktop.services import simulator_control
from tests.integration.identity_helpers import (
    Team,
    issue_org,
    make_team,
    officer_key,
    payload,
    post_to_simulator,
    serial_of,
    stored,
)
from tests.integration.test_officer_cli import make_active_sro
from tests.support.raw_store import raw_sql


@pytest.fixture
def team(ctx, cli_run, tmp_path: Path):  # type: ignore[no-untyped-def]
    t = make_team(ctx, cli_run, tmp_path)
    yield t
    simulator_control.stop(ctx)


def _request(cli_run, team: Team, serial: str) -> str:  # type: ignore[no-untyped-def]
    r = cli_run("--json", "revoke", "request", serial, "--reason", "keyCompromise",
                "--justification", "laptop stolen", "--as", team.aro, "--key", team.aro_key)
    assert r.code == 0, r.err
    return str(r.json()["id"])


def _state(cli_run, rid: str) -> str:  # type: ignore[no-untyped-def]
    r = cli_run("--json", "revoke", "status", rid)
    assert r.code == 0, r.err
    return str(r.json()["state"])


def test_aro_request_sro_approval_submission_crl_and_revoked_status(
        ctx, cli_run, team: Team) -> None:  # type: ignore[no-untyped-def]
    cert = issue_org(ctx, "90-B3-D5-1F-30-01-00-71")
    keep = issue_org(ctx, "90-B3-D5-1F-30-01-00-72")
    rid = _request(cli_run, team, serial_of(cert))
    assert rid.startswith("RV-") and _state(cli_run, rid) == "waiting"
    # a plain-text request prints the id alone
    r = cli_run("revoke", "approve", rid, "--as", team.sro, "--key", team.sro_key)
    assert r.code == 0, r.err
    assert _state(cli_run, rid) == "approved"
    r = cli_run("revoke", "submit", rid)
    assert r.code == 0, r.err
    assert _state(cli_run, rid) == "submitted"
    r = cli_run("--json", "portal", "poll")
    assert r.code == 0, r.err
    assert rid in r.json()["revoked"]
    assert _state(cli_run, rid) == "revoked"
    listed = {c["serial"].lstrip("0"): c["status"]
              for c in cli_run("--json", "cert", "list").json()["certificates"]}
    assert listed[serial_of(cert)] == "revoked" and listed[serial_of(keep)] == "accepted"
    only = cli_run("--json", "cert", "list", "--status", "revoked").json()["certificates"]
    assert [c["serial"].lstrip("0") for c in only] == [serial_of(cert)]
    # the audit log shows who did what
    actions = [(e.action, e.details.get("by")) for e in ctx.audit.entries()
               if e.action.startswith("revoke.")]
    assert ("revoke.request", team.aro) in actions and ("revoke.approve", team.sro) in actions
    assert any(a == "revoke.submit" for a, _ in actions)


def test_status_json_and_export_import_round_trip(ctx, cli_run, team: Team, tmp_path: Path
                                                  ) -> None:  # type: ignore[no-untyped-def]
    cert = issue_org(ctx, "90-B3-D5-1F-30-01-00-73")
    rid = _request(cli_run, team, serial_of(cert))
    out = tmp_path / "request.json"
    assert cli_run("revoke", "export", rid, "--out", str(out)).code == 0
    doc = json.loads(out.read_text())
    assert doc["format"] == "smki-desktop/revocation-bundle" and doc["id"] == rid
    # importing it again is idempotent; a tampered copy is refused
    assert cli_run("revoke", "import", str(out)).code == 0
    import base64

    body = json.loads(base64.b64decode(doc["request"]))
    body["justification"] = "changed"
    doc["request"] = base64.b64encode(canonical_bytes(body)).decode()
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(doc))
    r = cli_run("revoke", "import", str(bad))
    assert r.code == 1 and "changed after signing" in r.err, r.err
    all_ = cli_run("--json", "revoke", "status").json()["requests"]
    assert [x["state"] for x in all_] == ["waiting"]


def test_self_approval_refused_by_app_and_by_simulator(ctx, cli_run, team: Team
                                                       ) -> None:  # type: ignore[no-untyped-def]
    cert = issue_org(ctx, "90-B3-D5-1F-30-01-00-74")
    rid = _request(cli_run, team, serial_of(cert))
    r = cli_run("revoke", "approve", rid, "--as", team.aro, "--key", team.aro_key)
    assert r.code == 1 and "Rule: no self-approval" in r.err, r.err
    # the simulator: the ARO's own signature presented as the approval
    body, sigs = stored(ctx, rid)
    ans = post_to_simulator(ctx, payload(body, [("request", sigs["request"]),
                                                ("approval", sigs["request"])]))
    assert ans["status"] == "REJECTED" and ans["code"] == "RV:SelfAppr", ans
    assert "no self-approval" in ans["rule"]


def test_aro_approving_and_self_edited_profile_role_refused(ctx, cli_run, team: Team,
                                                            tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cert = issue_org(ctx, "90-B3-D5-1F-30-01-00-75")
    rid = _request(cli_run, team, serial_of(cert))
    from tests.integration.adt_support import active_aro

    carol = active_aro(cli_run, tmp_path, team.sro, name="Carol Aro", sro_name="Alice Example",
                       sro_key=team.sro_key)
    carol_key = officer_key(ctx, cli_run, carol)
    r = cli_run("revoke", "approve", rid, "--as", carol, "--key", carol_key)
    assert r.code == 1 and "is approved by an SRO" in r.err and "is an ARO" in r.err, r.err
    # Carol links her profile, then edits its role to SRO: the register's role still rules
    assert cli_run("profile", "set", "--name", "Carol Aro", "--role", "aro", "--email",
                   "carol.aro@example-energy.co.uk").code == 0
    assert cli_run("officer", "link-profile", carol).code == 0, "link"
    assert cli_run("profile", "set", "--name", "Carol Aro", "--role", "sro", "--email",
                   "carol.aro@example-energy.co.uk").code == 0
    r = cli_run("revoke", "approve", rid)  # --as/--key from the linked profile
    assert r.code == 1 and "is an ARO in the register" in r.err, r.err
    # the simulator: Carol's signature as the approval
    body, sigs = stored(ctx, rid)
    from smki_desktop.core.officers import OfficerRole
    from smki_desktop.services import identity

    actor = identity.resolve_actor(ctx, carol, carol_key, roles=(OfficerRole.ARO,), what="t")
    forged = identity.sign(ctx, actor, body, ctx.clock.now())
    ans = post_to_simulator(ctx, payload(body, [("request", sigs["request"]),
                                                ("approval", forged)]))
    assert ans["code"] == "RV:Approver" and "is an ARO" in ans["rule"], ans


def test_expired_request_refused_by_app_and_by_simulator(ctx, cli_run, team: Team
                                                         ) -> None:  # type: ignore[no-untyped-def]
    cert = issue_org(ctx, "90-B3-D5-1F-30-01-00-76")
    rid = _request(cli_run, team, serial_of(cert))
    assert cli_run("revoke", "approve", rid, "--as", team.sro, "--key", team.sro_key).code == 0
    body, sigs = stored(ctx, rid)
    later = ctx.clock.now() + timedelta(hours=73)
    real = ctx.clock
    ctx.clock = FixedClock(later)
    from smki_desktop.core.errors import Refusal
    from smki_desktop.services import revocation

    with pytest.raises(Refusal, match="only a fully approved request.*expired"):
        revocation.submit(ctx, rid)
    ctx.clock = real
    simulator_control.control(team.sim, "/_control/config", {"clock_offset": 73 * 3600})
    try:
        ans = post_to_simulator(ctx, payload(body, [("request", sigs["request"]),
                                                    ("approval", sigs["approval"])]))
    finally:
        simulator_control.control(team.sim, "/_control/config", {"clock_offset": 0})
    assert ans["code"] == "RV:Expired" and "expired request goes nowhere" in ans["rule"], ans


def test_request_changed_after_signing_refused_by_app_and_by_simulator(
        ctx, cli_run, team: Team) -> None:  # type: ignore[no-untyped-def]
    cert = issue_org(ctx, "90-B3-D5-1F-30-01-00-77")
    other = issue_org(ctx, "90-B3-D5-1F-30-01-00-78")
    rid = _request(cli_run, team, serial_of(cert))
    body, sigs = stored(ctx, rid)
    doc = json.loads(body)
    doc["certificates"][0]["serial"] = other.serial_number and f"{other.serial_number:032X}"
    changed = canonical_bytes(doc)
    with ctx.db.transaction() as c:  # someone edits the stored request
        c.execute("UPDATE approval_requests SET body=? WHERE request_id=?", (changed, rid))
    r = cli_run("revoke", "approve", rid, "--as", team.sro, "--key", team.sro_key)
    assert r.code == 1 and "not changed after signing" in r.err, r.err
    ans = post_to_simulator(ctx, payload(changed, [("request", sigs["request"])]))
    assert ans["code"] == "RV:BadSig" and "changed after signing" in ans["rule"], ans


def test_test_sro_approving_a_live_request_refused(ctx, cli_run, team: Team, tmp_path: Path
                                                   ) -> None:  # type: ignore[no-untyped-def]
    cert = issue_org(ctx, "90-B3-D5-1F-30-01-00-79")
    rid = _request(cli_run, team, serial_of(cert))
    body, _sigs = stored(ctx, rid)
    doc = json.loads(body)
    doc["environment"] = "live"
    live = canonical_bytes(doc)
    from smki_desktop.core.officers import OfficerRole
    from smki_desktop.services import identity

    aro = identity.resolve_actor(ctx, team.aro, team.aro_key, roles=(OfficerRole.ARO,),
                                 what="t")
    sro = identity.resolve_actor(ctx, team.sro, team.sro_key, roles=(OfficerRole.SRO,),
                                 what="t")
    now = ctx.clock.now()
    sig_a, sig_s = identity.sign(ctx, aro, live, now), identity.sign(ctx, sro, live, now)
    import base64

    bundle = {"format": "smki-desktop/revocation-bundle", "version": 1, "id": doc["id"],
              "environment": "live", "request": base64.b64encode(live).decode(),
              "signatures": [{"kind": "request", "officer_id": team.aro,
                              "signed_at": now.isoformat(),
                              "body": base64.b64encode(live).decode(),
                              "signature": base64.b64encode(sig_a).decode()}]}
    f = tmp_path / "live.json"
    f.write_text(json.dumps(bundle))
    r = cli_run("revoke", "import", str(f))
    assert r.code == 1 and "Live request is handled only in the Live environment" in r.err, r.err
    ans = post_to_simulator(ctx, payload(live, [("request", sig_a), ("approval", sig_s)]))
    assert ans["code"] == "RV:Env", ans


def test_suspended_sro_refused_by_app_and_by_simulator(ctx, cli_run, team: Team,
                                                       tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cert = issue_org(ctx, "90-B3-D5-1F-30-01-00-7A")
    rid = _request(cli_run, team, serial_of(cert))
    dave = make_active_sro(cli_run, tmp_path, "Dave Sro")
    dave_key = officer_key(ctx, cli_run, dave)
    assert cli_run("revoke", "approve", rid, "--as", dave, "--key", dave_key).code == 0
    body, sigs = stored(ctx, rid)
    assert cli_run("officer", "suspend", dave, "--reason", "secondment", "--as", team.sro,
                   "--key", team.sro_key).code == 0
    # the app: submission re-checks the approver's standing
    r = cli_run("revoke", "submit", rid)
    assert (r.code == 1 and "active officer" in r.err) or "is suspended" in r.err, r.err
    ans = post_to_simulator(ctx, payload(body, [("request", sigs["request"]),
                                                ("approval", sigs["approval"])]))
    assert ans["code"] == "RV:Approver" and "suspended" in ans["rule"], ans
    # and a suspended SRO cannot approve a new request at all
    rid2 = _request(cli_run, team, serial_of(issue_org(ctx, "90-B3-D5-1F-30-01-00-7B")))
    r = cli_run("revoke", "approve", rid2, "--as", dave, "--key", dave_key)
    assert r.code == 1 and "suspended" in r.err, r.err


def test_key_linked_to_another_officers_entry_refused(ctx, cli_run, team: Team
                                                      ) -> None:  # type: ignore[no-untyped-def]
    r = cli_run("officer", "link-key", team.aro, team.sro_key)
    assert r.code == 1 and f"this credential names {team.sro}, not {team.aro}" in r.err, r.err
    cert = issue_org(ctx, "90-B3-D5-1F-30-01-00-7C")
    r = cli_run("revoke", "request", serial_of(cert), "--reason", "superseded",
                "--justification", "key compromised", "--as", team.aro, "--key", team.sro_key)
    assert r.code == 1 and f"is linked to {team.sro}, not to {team.aro}" in r.err, r.err
    # the simulator: a request naming the ARO but signed with the SRO's credential
    rid = _request(cli_run, team, serial_of(cert))
    body, _sigs = stored(ctx, rid)
    from smki_desktop.core.officers import OfficerRole
    from smki_desktop.services import identity

    sro = identity.resolve_actor(ctx, team.sro, team.sro_key, roles=(OfficerRole.SRO,),
                                 what="t")
    wrong = identity.sign(ctx, sro, body, ctx.clock.now())
    ans = post_to_simulator(ctx, payload(body, [("request", wrong), ("approval", wrong)]))
    assert ans["code"] == "RV:Requester", ans


def test_unsigned_single_person_revocation_is_gone(ctx, cli_run, team: Team) -> None:  # type: ignore[no-untyped-def]
    cert = issue_org(ctx, "90-B3-D5-1F-30-01-00-7D")
    # `portal revoke` is an alias that files a request, nothing more
    r = cli_run("--json", "portal", "revoke", serial_of(cert), "--reason", "superseded",
                "--justification", "replaced by a new key", "--as", team.aro, "--key", team.aro_key)
    assert r.code == 0, r.err
    assert _state(cli_run, r.json()["id"]) == "waiting"
    # and the simulator's old unsigned route revokes nothing
    from smki_desktop.services import portal

    p = portal.open_portal(ctx)
    try:
        from smki_desktop.core.portal_ports import Rejected

        with pytest.raises(Rejected, match="RV:Unsigned"):
            p.request_revocation("old-1", serial_of(cert), "superseded")
    finally:
        p.close()


def test_request_by_eui_from_the_repository(ctx, cli_run, team: Team) -> None:  # type: ignore[no-untyped-def]
    cert = issue_org(ctx, "90-B3-D5-1F-30-01-00-7E")
    r = cli_run("--json", "revoke", "request", "--eui", "90-B3-D5-1F-30-01-00-7E", "--role",
                "supplier", "--reason", "cessationOfOperation", "--justification", "site closed",
                "--as", team.aro, "--key", team.aro_key)
    assert r.code == 0, r.err
    rid = r.json()["id"]
    st = cli_run("--json", "revoke", "status", rid).json()
    assert [c["serial"] for c in st["certificates"]] == [serial_of(cert)]
    assert st["certificates"][0]["eui"] == "90-B3-D5-1F-30-01-00-7E"
    assert cli_run("revoke", "approve", rid, "--as", team.sro, "--key", team.sro_key).code == 0
    assert cli_run("revoke", "submit", rid).code == 0
    r = cli_run("revoke", "request", "--eui", "90-B3-D5-1F-30-01-00-7F", "--reason",
                "superseded", "--justification", "key compromised",
                "--as", team.aro, "--key", team.aro_key)
    # the service's message is face-neutral (issue 13); the CLI appends its option's name
    assert r.code == 1 and "EUI 90-B3-D5-1F-30-01-00-7F" in r.err \
        and "(option --eui)" in r.err, r.err
    r = cli_run("revoke", "request", "--reason", "superseded", "--justification", "key compromised")
    assert r.code == 2 and "SERIAL" in r.err, r.err


def test_revoked_credential_refused_by_simulator_and_after_the_crl_by_app(
        ctx, cli_run, team: Team) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.services.credentials import find_credential

    cert = issue_org(ctx, "90-B3-D5-1F-30-01-00-80")
    rid = _request(cli_run, team, serial_of(cert))
    assert cli_run("revoke", "approve", rid, "--as", team.sro, "--key", team.sro_key).code == 0
    cred = find_credential(ctx, "file-signing", team.sro_key)
    assert cred is not None
    # the DCC revokes the SRO's credential (Test: the simulator's control channel)
    assert simulator_control.control(team.sim, "/_control/revoke-credential",
                                     {"serial": cred.serial})["revoked"] is True
    # the app has not fetched the IKI CRL yet: the simulator refuses on its own
    r = cli_run("revoke", "submit", rid)
    assert r.code == 1 and "RV:CredRev" in r.err and "revoked" in r.err, r.err
    assert _state(cli_run, rid) == "approved"
    # after `repo crl` the app refuses the credential itself, naming the rule
    assert cli_run("repo", "crl").code == 0
    r = cli_run("revoke", "submit", rid)
    assert r.code == 1 and "credential that is not revoked" in r.err, r.err
    rid2 = _request(cli_run, team, serial_of(issue_org(ctx, "90-B3-D5-1F-30-01-00-81")))
    r = cli_run("revoke", "approve", rid2, "--as", team.sro, "--key", team.sro_key)
    assert r.code == 1 and f"credential {cred.serial} " in r.err and "was revoked" in r.err, \
        r.err
    # the revocation's row deleted from the store: the proven record of the CRL still says it
    raw_sql(ctx.paths.root, "DELETE FROM revoked_credentials WHERE environment=?",
            (ctx.env.value,), ctx.env.value)
    r = cli_run("revoke", "approve", rid2, "--as", team.sro, "--key", team.sro_key)
    assert r.code == 1 and f"credential {cred.serial} " in r.err, r.err
    assert "was revoked by" in r.err and "the CRL of audit record" in r.err, r.err


def test_deferred_by_the_pma_and_lapsed_approval(ctx, cli_run, team: Team) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.core.errors import Refusal
    from smki_desktop.services import revocation
    from smki_desktop.services.revocation_state import get_view

    a = _request(cli_run, team, serial_of(issue_org(ctx, "90-B3-D5-1F-30-01-00-82")))
    r = cli_run("--json", "revoke", "defer", a, "--reason", "PMA decision 2026-14 (MP134A)")
    assert r.code == 0 and r.json()["state"] == "deferred", r.err
    r = cli_run("revoke", "approve", a, "--as", team.sro, "--key", team.sro_key)
    assert r.code == 1 and "only a waiting request" in r.err and "deferred" in r.err, r.err
    b = _request(cli_run, team, serial_of(issue_org(ctx, "90-B3-D5-1F-30-01-00-83")))
    assert cli_run("revoke", "approve", b, "--as", team.sro, "--key", team.sro_key).code == 0
    real = ctx.clock
    ctx.clock = FixedClock(real.now() + timedelta(hours=25))  # the approval is good for 24 h
    try:
        assert get_view(ctx, b).state == "waiting"
        with pytest.raises(Refusal, match="only a fully approved request.*waiting"):
            revocation.submit(ctx, b)
    finally:
        ctx.clock = real


def test_forged_self_reinstatement_changes_nothing_in_app_or_simulator(
        ctx, cli_run, team: Team) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.core.register import change_body
    from smki_desktop.services import identity
    from smki_desktop.services import officers as officer_service
    from smki_desktop.services.credentials import find_credential
    from smki_desktop.services.keys import get_key

    rid = _request(cli_run, team, serial_of(issue_org(ctx, "90-B3-D5-1F-30-01-00-84")))
    assert cli_run("revoke", "approve", rid, "--as", team.sro, "--key", team.sro_key).code == 0
    body, sigs = stored(ctx, rid)
    assert cli_run("officer", "suspend", team.aro, "--reason", "investigation", "--as",
                   team.sro, "--key", team.sro_key).code == 0
    # the suspended ARO signs their own reinstatement and writes it into the log directly
    aro = officer_service.get_officer(ctx, team.aro)
    key = get_key(ctx, team.aro_key)
    cred = find_credential(ctx, "file-signing", key.key_id)
    assert cred is not None
    actor = identity.Actor(aro, key, cred, identity.chain_of(ctx, cred.certificate,
                                                             ctx.clock.now()))
    now = ctx.clock.now().replace(microsecond=0)
    change = canonical_bytes(change_body(env=aro.environment, officer_id=team.aro,
                                         action="activate", at=now.isoformat(),
                                         signer=team.aro))
    forged = identity.sign(ctx, actor, change, now)
    with ctx.db.transaction() as c:
        c.execute("INSERT INTO officer_log(environment, officer_id, action, status, body, "
                  "signer, signature, at) VALUES ('test', ?, 'activate', 'active', ?, ?, ?, ?)",
                  (team.aro, change, team.aro, forged, now.isoformat()))
        c.execute("UPDATE officers SET status='active' WHERE officer_id=?", (team.aro,))
    # the app: still suspended; the request's ARO no longer stands, so it is not submitted
    assert _status_of(cli_run, team.aro) == "suspended"
    r = cli_run("revoke", "submit", rid)
    assert r.code == 1 and "requested by an active ARO" in r.err and "suspended" in r.err, r.err
    # the simulator replays the signed log itself: the self-signed change is ignored there too
    ans = post_to_simulator(ctx, payload(body, [("request", sigs["request"]),
                                                ("approval", sigs["approval"])]))
    assert ans["code"] == "RV:Requester" and "suspended" in ans["rule"], ans


def _status_of(cli_run, oid: str) -> str:  # type: ignore[no-untyped-def]
    return str(cli_run("--json", "officer", "show", oid).json()["status"])
