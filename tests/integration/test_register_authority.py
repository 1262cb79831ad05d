"""Register changes carry authority: the register is a log of canonical signed changes replayed
on read. An ARO's activation, a suspension or a revocation needs an active SRO's signature, no
one changes their own standing, an SRO is first activated from the verification record and the
nominating form, and editing a database row (or forging an unsigned log entry) changes no one's
standing. The ADT confirmation follows the register's role, not a self-edited profile."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from smki_desktop.core.canonical import canonical_bytes
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import Refusal
from smki_desktop.core.register import change_body
from smki_desktop.services import adt as adt_service
from smki_desktop.services import officers as officer_service
from tests.integration.adt_support import (
    active_aro,
    make_aro,
    officer_signing_key,
    set_profiles,
    signing_sro,
)
from tests.integration.test_officer_cli import EVIDENCE, make_active_sro, nominate


def _status(cli_run, oid: str) -> str:  # type: ignore[no-untyped-def]
    return str(cli_run("--json", "officer", "show", oid).json()["status"])


def test_aro_activation_needs_an_active_sros_signature(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sro = make_active_sro(cli_run, tmp_path, "Alice Example")
    sro_key = officer_signing_key(ctx, cli_run, sro)
    res = nominate(cli_run, tmp_path, "aro", "Bob Aro", nominator__officer_id=sro)
    aro = res.json()["officer"]["officer_id"]
    assert cli_run("officer", "verify", aro, "--date", "2026-11-21", "--verifier", "Vera",
                   "--evidence", EVIDENCE).code == 0
    # no signer at all: bad input naming --as/--key
    r = cli_run("officer", "activate", aro)
    assert r.code == 2 and "--as" in r.err, r.err
    # an ARO signing: refused, naming the rule
    other = active_aro(cli_run, tmp_path, sro, name="Carol Aro", sro_name="Alice Example",
                       sro_key=sro_key)
    carol_key = officer_signing_key(ctx, cli_run, other)
    r = cli_run("officer", "activate", aro, "--as", other, "--key", carol_key)
    assert r.code == 1 and "Rule: activating an ARO needs an SRO's signature" in r.err, r.err
    assert _status(cli_run, aro) == "verified"
    r = cli_run("officer", "activate", aro, "--as", sro, "--key", sro_key)
    assert r.code == 0, r.err
    assert _status(cli_run, aro) == "active"
    # the log holds the signed change, and the audit log says who signed
    row = ctx.db.conn().execute("SELECT signer, signature FROM officer_log WHERE officer_id=? "
                                "AND action='activate'", (aro,)).fetchone()
    assert row["signer"] == sro and row["signature"]
    entry = next(e for e in ctx.audit.entries() if e.action == "officer.activate"
                 and e.details["officer_id"] == aro)
    assert entry.details["signed_by"] == sro


def test_no_one_changes_their_own_standing(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sro, sro_key = signing_sro(ctx, cli_run, tmp_path, "Alice Example")
    r = cli_run("officer", "suspend", sro, "--reason", "holiday", "--as", sro, "--key", sro_key)
    assert r.code == 1 and "Rule: no one changes their own standing" in r.err, r.err
    r = cli_run("officer", "revoke", sro, "--reason", "leaver", "--as", sro, "--key", sro_key)
    assert r.code == 1 and "no one changes their own standing" in r.err, r.err
    assert _status(cli_run, sro) == "active"
    # a suspended SRO is reinstated by another SRO, never by themselves
    other, other_key = signing_sro(ctx, cli_run, tmp_path, "Sid Signer")
    assert cli_run("officer", "suspend", sro, "--reason", "holiday", "--as", other, "--key",
                   other_key).code == 0
    r = cli_run("officer", "activate", sro, "--as", sro, "--key", sro_key)
    assert r.code == 1, r.err
    assert _status(cli_run, sro) == "suspended"
    assert cli_run("officer", "activate", sro, "--as", other, "--key", other_key).code == 0
    assert _status(cli_run, sro) == "active"
    # revoking an officer flags their keys and offers their credentials for revocation
    r = cli_run("--json", "officer", "revoke", sro, "--reason", "leaver", "--as", other,
                "--key", other_key)
    assert r.code == 0, r.err
    assert r.json()["status"] == "revoked" and len(r.json()["credentials_to_revoke"]) == 1
    shown = cli_run("--json", "officer", "show", sro).json()
    assert shown["credentials"][0]["flagged"] == "revoked: leaver"


def test_editing_a_row_or_forging_a_log_entry_changes_no_ones_standing(
        ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sro = make_active_sro(cli_run, tmp_path, "Alice Example")
    res = nominate(cli_run, tmp_path, "aro", "Bob Aro", nominator__officer_id=sro)
    aro = res.json()["officer"]["officer_id"]
    with ctx.db.transaction() as c:  # someone edits the register's rows directly
        c.execute("UPDATE officers SET status='active', role='sro' WHERE officer_id=?", (aro,))
    shown = cli_run("--json", "officer", "show", aro).json()
    assert shown["status"] == "nominated" and shown["role"] == "aro"
    # a forged, unsigned activation appended to the log is ignored when the log is read
    body = canonical_bytes(change_body(env=Environment.TEST, officer_id=aro, action="activate",
                                       at=ctx.clock.now().isoformat()))
    with ctx.db.transaction() as c:
        c.execute("INSERT INTO officer_log(environment, officer_id, action, status, body, "
                  "signer, signature, at) VALUES ('test', ?, 'activate', 'active', ?, '', NULL,"
                  " ?)", (aro, body, ctx.clock.now().isoformat()))
    assert _status(cli_run, aro) == "nominated"
    _st, problems = officer_service.replay(ctx)
    assert any(aro in p and "no completed verification meeting" in p for p in problems), problems
    # and a forged change naming a signer but carrying no signature is ignored too
    body = canonical_bytes(change_body(env=Environment.TEST, officer_id=sro, action="suspend",
                                       at=ctx.clock.now().isoformat(), signer="SRO-0099"))
    with ctx.db.transaction() as c:
        c.execute("INSERT INTO officer_log(environment, officer_id, action, status, body, "
                  "signer, signature, at) VALUES ('test', ?, 'suspend', 'suspended', ?, "
                  "'SRO-0099', NULL, ?)", (sro, body, ctx.clock.now().isoformat()))
    assert _status(cli_run, sro) == "active"


def test_sro_first_activation_rests_on_the_verification_and_the_form(
        ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    res = nominate(cli_run, tmp_path, "sro", "Alice Example")
    sro = res.json()["officer"]["officer_id"]
    r = cli_run("officer", "activate", sro)
    assert r.code == 1 and "no completed verification meeting" in r.err, r.err
    assert cli_run("officer", "verify", sro, "--date", "2026-11-21", "--verifier", "Vera",
                   "--evidence", EVIDENCE).code == 0
    assert cli_run("officer", "activate", sro).code == 0
    row = ctx.db.conn().execute("SELECT body FROM officer_log WHERE officer_id=? AND "
                                "action='activate'", (sro,)).fetchone()
    import json

    details = json.loads(bytes(row["body"]))["details"]
    assert details["verification"]["verifier"] == "Vera" and details["nomination_form"]
    assert details["nominator_capacity"] in ("director", "company-secretary")


def test_adt_confirmation_follows_the_register_not_a_self_edited_profile(
        ctx, live_ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    aro = make_aro(ctx, tmp_path, register_id="ARO-0001")  # its credential names the entry
    f = tmp_path / "adt.csv"
    assert cli_run("adt", "template", "--out", str(f)).code == 0
    adt_service.sign_file(ctx, f, aro.key.key_id)
    sro, sro_key = signing_sro(ctx, cli_run, tmp_path, "Sam Sro")
    aro_id = active_aro(cli_run, tmp_path, sro, sro_key=sro_key)
    assert aro_id == "ARO-0001"
    assert cli_run("officer", "link-key", aro_id, aro.key.key_id).code == 0
    # the ARO edits their own profile to claim the SRO role, and confirms their own file:
    # the register (resolve_actor) says the key's holder is an ARO
    set_profiles(ctx)
    assert cli_run("profile", "set", "--name", "Ada Aro", "--role", "sro").code == 0
    rule = rf"Rule: confirming submitted ADTs is done by an SRO; {aro_id} \(Ada Aro\) is an ARO"
    with pytest.raises(Refusal, match=rule + r" in the register \(a profile's claimed role "
                                             r"grants nothing\)"):
        adt_service.confirm(ctx, f, aro.key.key_id)
    r = cli_run("adt", "confirm", str(f), "--key", aro.key.key_id)
    assert r.code == 1 and re.search(rule, r.err), r.err
    assert not list(tmp_path.glob("adt.csv.confirmation-*"))
    # in Live, a confirming key linked to no register entry is refused outright
    live_aro = make_aro(live_ctx, tmp_path / "l")
    lf = tmp_path / "l" / "adt.csv"
    assert cli_run("adt", "template", "--out", str(lf), env="live").code == 0
    set_profiles(live_ctx)
    assert cli_run("profile", "set", "--name", "Sam Sro", "--role", "sro",
                   env="live").code == 0
    with pytest.raises(Refusal, match="in Live a file is signed only with a file-signing "
                                      "credential linked to an officer register entry"):
        adt_service.confirm(live_ctx, lf, live_aro.key.key_id)


def test_adt_sign_as_an_officer_through_their_own_key(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    aro = make_aro(ctx, tmp_path, register_id="ARO-0001")  # its credential names the entry
    sro, sro_key = signing_sro(ctx, cli_run, tmp_path, "Sam Sro")
    aro_id = active_aro(cli_run, tmp_path, sro, sro_key=sro_key)
    assert aro_id == "ARO-0001"
    assert cli_run("officer", "link-key", aro_id, aro.key.key_id).code == 0
    f = tmp_path / "adt.csv"
    assert cli_run("adt", "template", "--out", str(f)).code == 0
    # two officers at one machine: --as names who signs, and the key must be theirs
    r = cli_run("adt", "sign", str(f), "--key", aro.key.key_id, "--as", sro)
    # (resolve_actor's rule, the one every officer action names)
    assert r.code == 1 and "Rule: an officer acts only through a key linked to their own " \
        "register entry" in r.err and f"linked to {aro_id}, not to {sro}" in r.err, r.err
    assert not Path(str(f) + ".p7s").exists()
    r = cli_run("--json", "adt", "sign", str(f), "--key", aro.key.key_id, "--as", aro_id)
    assert r.code == 0, r.err
    assert r.json()["warnings"] == []  # linked: no training warning


def test_expired_credential_or_unchained_one_cannot_act(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from smki_desktop.core.ports import FixedClock
    from smki_desktop.services import register as register_service

    sro, sro_key = signing_sro(ctx, cli_run, tmp_path, "Alice Example")
    other, _other_key = signing_sro(ctx, cli_run, tmp_path, "Sid Signer")
    real = ctx.clock
    ctx.clock = FixedClock(real.now() + timedelta(days=400))  # the credential ran out
    try:
        with pytest.raises(Refusal, match="valid IKI file-signing credential; key .* has none "
                                          "valid now"):
            register_service.suspend(ctx, other, "audit", as_ref=sro, key_ref=sro_key)
    finally:
        ctx.clock = real
    # a credential whose CA is no longer a trust anchor does not chain: refused
    with ctx.db.transaction() as c:
        c.execute("DELETE FROM trust_anchors WHERE environment='test' AND subject LIKE ?",
                  (f"%IKI test CA {sro}%",))
    with pytest.raises(Refusal, match="chains to the Test IKI trust anchor"):
        register_service.suspend(ctx, other, "audit", as_ref=sro, key_ref=sro_key)
    assert _status(cli_run, other) == "active"
