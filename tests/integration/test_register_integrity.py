"""The officer register and officers' signatures against someone who can read and write the
database but can neither use the OS keyring nor holds an officer's private key (a stolen key
whose credential the DCC has since revoked, at most): copying an old signed change to the end
of the log, signing under a CA of their own put in the `trust_anchors` table, or signing with a
revoked credential changes no one's standing, and each is reported, naming why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from smki_desktop.core.canonical import canonical_bytes
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import Refusal
from smki_desktop.core.register import change_body
from smki_desktop.crypto.cms import sign_detached
from smki_desktop.crypto.memory_signer import MemorySigner
from smki_desktop.services import identity, simulator_control
from smki_desktop.services.credentials import find_credential
from smki_desktop.services.keys import get_key
from smki_desktop.services.officers import get_officer
from smki_desktop.services.revocation_state import get_view
from smki_desktop.services.trust import add_trust_anchor, officer_anchors
from tests.integration.identity_helpers import Team, issue_org, make_team, serial_of

UNVOUCHED = "trust anchor that was not added through SMKI Desktop"


@pytest.fixture
def team(ctx, cli_run, tmp_path: Path):  # type: ignore[no-untyped-def]
    t = make_team(ctx, cli_run, tmp_path)
    yield t
    simulator_control.stop(ctx)


def _show(cli_run, oid: str) -> dict:  # type: ignore[no-untyped-def]
    r = cli_run("--json", "officer", "show", oid)
    assert r.code == 0, r.err
    return dict(r.json())


def _append(ctx, oid: str, action: str, body: bytes, signer: str, sig: bytes,  # type: ignore[no-untyped-def]
            at: str) -> None:
    with ctx.db.transaction() as c:
        c.execute("INSERT INTO officer_log(environment, officer_id, action, status, body, signer,"
                  " signature, at) VALUES ('test',?,?,?,?,?,?,?)",
                  (oid, action, "active", body, signer, sig, at))


def test_a_copied_old_activation_does_not_reinstate_a_suspended_officer(
        ctx, cli_run, team: Team) -> None:  # type: ignore[no-untyped-def]
    r = cli_run("officer", "suspend", team.aro, "--reason", "left the company", "--as",
                team.sro, "--key", team.sro_key)
    assert r.code == 0, r.err
    # the SRO-signed activation of the ARO, copied to the end of the log
    with ctx.db.transaction() as c:
        c.execute("INSERT INTO officer_log(environment, officer_id, action, status, body, "
                  "signer, signature, at) SELECT environment, officer_id, action, 'active', "
                  "body, signer, signature, at FROM officer_log WHERE officer_id=? AND "
                  "action='activate'", (team.aro,))
        # and the key's suspension flag cleared, as the ARO could
        c.execute("UPDATE keys SET flags='' WHERE key_id=?", (team.aro_key,))
    shown = _show(cli_run, team.aro)
    assert shown["status"] == "suspended"
    assert any("repeats register log entry" in p for p in shown["ignored_changes"]), shown
    warnings = cli_run("--json", "officer", "list").json()["warnings"]
    assert any(w["code"] == "ignored-change" and team.aro in w["message"] for w in warnings)
    # the suspended ARO cannot ask for a revocation
    cert = issue_org(ctx, "90-B3-D5-1F-30-01-00-71")
    r = cli_run("revoke", "request", serial_of(cert), "--reason", "keyCompromise",
                "--justification", "key compromised", "--as", team.aro, "--key", team.aro_key)
    assert r.code == 1 and "suspended" in r.err, r.err


def test_the_suspension_flag_on_a_key_stops_a_request_on_its_own(
        ctx, cli_run, team: Team) -> None:  # type: ignore[no-untyped-def]
    """Defence in depth: a key flagged `officer-suspended` signs nothing through the identity
    path, even if the standing read were somehow wrong."""
    with ctx.db.transaction() as c:
        c.execute("UPDATE keys SET flags='officer-suspended' WHERE key_id=?", (team.aro_key,))
    cert = issue_org(ctx, "90-B3-D5-1F-30-01-00-72")
    r = cli_run("revoke", "request", serial_of(cert), "--reason", "keyCompromise",
                "--justification", "key compromised", "--as", team.aro, "--key", team.aro_key)
    assert r.code == 1 and "carries the flag officer-suspended" in r.err, r.err


def _forged(rid: str) -> tuple[x509.Certificate, x509.Certificate, MemorySigner]:
    """A CA of the attacker's own making and a credential under it naming `rid`."""
    now = datetime.now(UTC)
    cak = ec.generate_private_key(ec.SECP256R1())
    caname = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Totally IKI CA")])
    ca = (x509.CertificateBuilder().subject_name(caname).issuer_name(caname)
          .public_key(cak.public_key()).serial_number(1)
          .not_valid_before(now - timedelta(days=30)).not_valid_after(now + timedelta(days=365))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(cak, hashes.SHA256()))
    k = ec.generate_private_key(ec.SECP256R1())
    subj = x509.Name([x509.NameAttribute(NameOID.SERIAL_NUMBER, rid),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Alice Example"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Energy Ltd")])
    leaf = (x509.CertificateBuilder().subject_name(subj).issuer_name(caname)
            .public_key(k.public_key()).serial_number(2)
            .not_valid_before(now - timedelta(days=30)).not_valid_after(now + timedelta(days=365))
            .sign(cak, hashes.SHA256()))
    return ca, leaf, MemorySigner(k)


def test_a_ca_put_in_the_trust_anchor_table_vouches_for_no_officer(
        ctx, cli_run, team: Team) -> None:  # type: ignore[no-untyped-def]
    cert = issue_org(ctx, "90-B3-D5-1F-30-01-00-73")
    r = cli_run("--json", "revoke", "request", serial_of(cert), "--reason", "keyCompromise",
                "--justification", "key compromised", "--as", team.aro, "--key", team.aro_key)
    assert r.code == 0, r.err
    rid = r.json()["id"]
    assert cli_run("officer", "suspend", team.aro, "--reason", "gone", "--as", team.sro,
                   "--key", team.sro_key).code == 0
    # the anchors the app added (the simulator's, at first contact) still vouch
    assert officer_anchors(ctx)
    ca, leaf, signer = _forged(team.sro)
    now = datetime.now(UTC).replace(microsecond=0)
    with ctx.db.transaction() as c:
        c.execute("INSERT INTO trust_anchors(fingerprint, environment, subject, source, der, "
                  "added) VALUES (?,?,?,?,?,?)",
                  (ca.fingerprint(hashes.SHA256()).hex(), "test", "CN=Totally IKI CA", "user",
                   ca.public_bytes(serialization.Encoding.DER), now.isoformat()))
        c.execute("INSERT INTO officer_credentials(officer_id, key_id, environment, kind, "
                  "label, created) VALUES (?,?,?,?,?,?)",
                  (team.sro, signer.key.key_id, "test", "key", "forged", now.isoformat()))
    # a register change "signed by the SRO" reinstating the ARO
    body = canonical_bytes(change_body(env=Environment.TEST, officer_id=team.aro,
                                       action="activate", at=now.isoformat(), signer=team.sro,
                                       details={"role": "aro"}))
    _append(ctx, team.aro, "activate", body, team.sro, sign_detached(body, signer, leaf, now),
            now.isoformat())
    shown = _show(cli_run, team.aro)
    assert shown["status"] == "suspended"
    assert any(UNVOUCHED in p for p in shown["ignored_changes"]), shown
    # an "SRO approval" of a revocation request: refused where it is checked, naming the anchor
    v = get_view(ctx, rid)
    with pytest.raises(Refusal, match=UNVOUCHED):
        identity.verify(ctx, v.row.body, sign_detached(v.row.body, signer, leaf, now),
                        what="an approval", at=now)
    # an officer who does trust that CA adds it through the app: then, and only then, it counts
    _fp, entry = add_trust_anchor(ctx, ca.public_bytes(serialization.Encoding.PEM))
    assert entry is not None and entry.details.get("vouched_again") is True
    assert any(a.fingerprint(hashes.SHA256()) == ca.fingerprint(hashes.SHA256())
               for a in officer_anchors(ctx))


def test_a_change_signed_with_a_revoked_credential_is_not_applied(
        ctx, cli_run, team: Team) -> None:  # type: ignore[no-untyped-def]
    cred = find_credential(ctx, "file-signing", team.sro_key)
    assert cred is not None
    assert simulator_control.control(team.sim, "/_control/revoke-credential",
                                     {"serial": cred.serial})["revoked"]
    assert cli_run("repo", "crl").code == 0
    # the app refuses to sign with it
    r = cli_run("officer", "suspend", team.aro, "--reason", "x", "--as", team.sro, "--key",
                team.sro_key)
    assert r.code == 1 and "not revoked" in r.err, r.err
    # the thief of the key signs a change directly and appends it
    actor = identity.Actor(get_officer(ctx, team.sro), get_key(ctx, team.sro_key), cred,
                           (cred.certificate,))
    now = datetime.now(UTC).replace(microsecond=0)
    body = canonical_bytes(change_body(env=Environment.TEST, officer_id=team.aro,
                                       action="suspend", at=now.isoformat(), signer=team.sro,
                                       reason="forged"))
    _append(ctx, team.aro, "suspend", body, team.sro, identity.sign(ctx, actor, body, now),
            now.isoformat())
    shown = _show(cli_run, team.aro)
    # not suspended by the thief; and the ARO's activation, which the SRO signed through the
    # app before the revocation, still counts
    assert shown["status"] == "active"
    assert any("revoked" in p and "recorded no such change" in p
               for p in shown["ignored_changes"]), shown
