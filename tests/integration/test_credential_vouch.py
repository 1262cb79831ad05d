"""A credential is used only with the certificate its proven `credential.import` audit record
holds (services/credential_vouch.py): someone who can write the store but not sign audit
records (the threat of services/audit.py) must not swap in another certificate under a
recorded issuer and serial (a later expiry, another key), nor add a credential row of their
own. On SQLite and on a PostgreSQL team store."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import Refusal
from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.crypto.demo_pki import issue, make_root
from smki_desktop.services import adt as adt_service
from smki_desktop.services.context import open_context
from smki_desktop.services.credential_store import (
    find_credential,
    record_credential,
    require_credential,
)
from tests.integration.adt_support import set_profiles
from tests.support.postgres import PostgresServer, team_after_move
from tests.support.raw_store import raw_sql

BOTH = pytest.mark.both_backends  # SQLite and a PostgreSQL team store
DER = serialization.Encoding.DER


def _sql(ctx, sql: str, params: tuple) -> None:  # type: ignore[no-untyped-def,type-arg]
    """What someone who can write the store does, outside the app."""
    raw_sql(ctx.paths.root, sql, params, ctx.env.value)


def _reissued(root_key: ec.EllipticCurvePrivateKey, root: x509.Certificate,
              cert: x509.Certificate, not_after: datetime) -> x509.Certificate:
    """`cert` again, same issuer, serial, subject and key, with another notAfter: a
    certificate the same CA could have signed (so its chain verifies)."""
    b = (x509.CertificateBuilder().subject_name(cert.subject).issuer_name(root.subject)
         .public_key(cert.public_key()).serial_number(cert.serial_number)
         .not_valid_before(cert.not_valid_before_utc).not_valid_after(not_after))
    for ext in cert.extensions:
        b = b.add_extension(ext.value, ext.critical)
    return b.sign(root_key, hashes.SHA256())


def _aro(ctx, *, days: int, start: datetime):  # type: ignore[no-untyped-def]
    """A file-signing key whose credential (from a throwaway CA made a trust anchor) is valid
    from `start` for `days` days."""
    set_profiles(ctx)
    root_key, root = make_root(ctx.env, start - timedelta(days=1))
    adt_service.add_trust_anchor(ctx, root.public_bytes(serialization.Encoding.PEM))
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.FILE_SIGNING, "ARO file signing")
    cert = issue(root_key, root, info.public_key_der, ctx.env, start, cn="Ada Aro", days=days)
    record_credential(ctx, cert, "file-signing", info.key_id, source="test")
    return info, cert, root, root_key


def _template(ctx, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    out = tmp_path / "adt.csv"
    adt_service.write_template(ctx, out)
    return out


def _import_seq(ctx, cert: x509.Certificate) -> int:  # type: ignore[no-untyped-def]
    sha = hashlib.sha256(cert.public_bytes(DER)).hexdigest()
    (e,) = [e for e in ctx.audit.vouched(("credential.import",))
            if e.artifacts.get("certificate") == sha]
    return e.seq


@BOTH
def test_the_recorded_credential_signs(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    info, cert, _root, _key = _aro(ctx, days=365, start=datetime.now(UTC))
    found = find_credential(ctx, "file-signing")
    assert found is not None and found.certificate == cert
    assert require_credential(ctx, "file-signing", info.key_id).serial == f"{cert.serial_number:X}"
    f = _template(ctx, tmp_path)
    res = adt_service.sign_file(ctx, f, info.key_id[:12])
    assert res.verified.trusted and res.verified.signer_certificate == cert
    # recording the same certificate again is idempotent, and checked
    again = record_credential(ctx, cert, "file-signing", info.key_id, source="test")
    assert again.certificate == cert


@BOTH
def test_a_swapped_certificate_with_a_later_expiry_is_refused_for_signing(
        ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The genuine credential expired; a certificate with its issuer and serial and a later
    notAfter (even one its CA signed) is put in its row: signing refuses it, naming it and the
    audit record of its import, and signs nothing."""
    now = datetime.now(UTC)
    info, cert, root, root_key = _aro(ctx, days=10, start=now - timedelta(days=30))
    assert find_credential(ctx, "file-signing") is None  # expired
    seq = _import_seq(ctx, cert)
    swapped = _reissued(root_key, root, cert, now + timedelta(days=700))
    _sql(ctx, "UPDATE portal_credentials SET certificate=?, not_after=? WHERE key_id=?",
         (swapped.public_bytes(DER), swapped.not_valid_after_utc.isoformat(), info.key_id))
    serial = f"{cert.serial_number:X}"
    with pytest.raises(Refusal) as caught:
        find_credential(ctx, "file-signing")
    msg = caught.value.message
    assert serial in msg and root.subject.rfc4514_string() in msg
    assert (f"its certificate differs from the one recorded when it was imported (audit "
            f"record {seq})") in msg
    f = _template(ctx, tmp_path)
    with pytest.raises(Refusal, match=f"serial {serial} cannot be used: its certificate "
                                      "differs"):
        adt_service.sign_file(ctx, f, info.key_id[:12])
    assert not Path(str(f) + ".p7s").exists()
    # the genuine certificate arriving again does not make the swapped row count
    with pytest.raises(Refusal, match=f"audit record {seq}"):
        record_credential(ctx, cert, "file-signing", info.key_id, source="test")


@BOTH
def test_a_credential_row_without_an_import_record_is_refused(ctx, tmp_path: Path
                                                              ) -> None:  # type: ignore[no-untyped-def]
    """A row put in the store directly, for a key here and with a certificate that chains to
    a trust anchor: no audit record of its import, so it is refused, never used."""
    now = datetime.now(UTC)
    _aro(ctx, days=365, start=now - timedelta(days=1))  # a genuine one, older
    root_key, root = make_root(ctx.env, now - timedelta(days=1), cn="Another CA")
    adt_service.add_trust_anchor(ctx, root.public_bytes(serialization.Encoding.PEM))
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.FILE_SIGNING, "planted")
    cert = issue(root_key, root, info.public_key_der, ctx.env, now, cn="Ada Aro", days=900)
    issuer, serial = cert.issuer.rfc4514_string(), f"{cert.serial_number:X}"
    _sql(ctx, "INSERT INTO portal_credentials(environment, purpose, key_id, certificate, "
              "issuer, serial, subject, not_before, not_after, imported) "
              "VALUES (?,?,?,?,?,?,?,?,?,?)",
         (ctx.env.value, "file-signing", info.key_id, cert.public_bytes(DER), issuer, serial,
          cert.subject.rfc4514_string(), cert.not_valid_before_utc.isoformat(),
          cert.not_valid_after_utc.isoformat(), now.isoformat()))
    # the newest is the planted one: refused, not passed over for the older genuine one
    with pytest.raises(Refusal) as caught:
        find_credential(ctx, "file-signing")
    assert caught.value.message == (
        f"The file-signing credential {issuer} serial {serial} cannot be used: there is no "
        "audit record of its import (its certificate was put in the store without SMKI "
        "Desktop, or its record was altered).")
    f = _template(ctx, tmp_path)
    with pytest.raises(Refusal, match="no audit record of its import"):
        adt_service.sign_file(ctx, f, info.key_id[:12])
    assert not Path(str(f) + ".p7s").exists()


@BOTH
def test_the_credential_lists_say_which_would_be_refused(ctx, cli_run) -> None:  # type: ignore[no-untyped-def]
    """`credential list` and Settings > Portal show a planted row with why it is refused when
    used, beside the genuine one (they listed it as if usable)."""
    from smki_desktop.gui.settings.portal import read_portal_settings

    now = datetime.now(UTC)
    genuine, _cert, root, root_key = _aro(ctx, days=365, start=now - timedelta(days=1))
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.FILE_SIGNING, "planted")
    cert = issue(root_key, root, info.public_key_der, ctx.env, now, cn="Ada Aro", days=900)
    serial = f"{cert.serial_number:X}"
    _sql(ctx, "INSERT INTO portal_credentials(environment, purpose, key_id, certificate, "
              "issuer, serial, subject, not_before, not_after, imported) "
              "VALUES (?,?,?,?,?,?,?,?,?,?)",
         (ctx.env.value, "file-signing", info.key_id, cert.public_bytes(DER),
          cert.issuer.rfc4514_string(), serial, cert.subject.rfc4514_string(),
          cert.not_valid_before_utc.isoformat(), cert.not_valid_after_utc.isoformat(),
          now.isoformat()))
    r = cli_run("--json", "credential", "list")
    assert r.code == 0, r.err
    listed = {c["key_id"]: c["problem"] for c in r.json()["credentials"]}
    assert listed[genuine.key_id] is None
    assert "no audit record of its import" in str(listed[info.key_id])
    text = cli_run("credential", "list").out
    assert text.count("REFUSED: ") == 1 and serial in text
    lines = read_portal_settings(ctx).credentials
    refused = [line for line in lines if "REFUSED" in line]
    assert len(refused) == 1 and serial in refused[0], lines


@BOTH
def test_a_web_service_credential_swapped_for_another_key_is_refused(ctx
                                                                      ) -> None:  # type: ignore[no-untyped-def]
    """The client credential used for mutual TLS: a certificate for another key put in its
    row, issuer and serial kept, is refused as well."""
    now = datetime.now(UTC)
    root_key, root = make_root(ctx.env, now - timedelta(days=1))
    info = ctx.keystore.generate(KeyType.RSA_2048, KeyUsage.CLIENT_AUTH, "client")
    cert = issue(root_key, root, info.public_key_der, ctx.env, now, days=365)
    record_credential(ctx, cert, "web-service", info.key_id, source="test")
    assert require_credential(ctx, "web-service").certificate == cert
    other = ec.generate_private_key(ec.SECP256R1())
    planted = (x509.CertificateBuilder().subject_name(cert.subject).issuer_name(root.subject)
               .public_key(other.public_key()).serial_number(cert.serial_number)
               .not_valid_before(now - timedelta(hours=1))
               .not_valid_after(now + timedelta(days=365)).sign(root_key, hashes.SHA256()))
    _sql(ctx, "UPDATE portal_credentials SET certificate=? WHERE key_id=?",
         (planted.public_bytes(DER), info.key_id))
    with pytest.raises(Refusal, match="its certificate differs from the one "
                                                  "recorded when it was imported"):
        require_credential(ctx, "web-service")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # starts as a workstation's own
def test_a_credential_stays_usable_after_a_move_into_a_team_store(  # type: ignore[no-untyped-def]
        cli_run, data_root: Path, postgres_server: PostgresServer) -> None:
    """The move copies the credential rows and carries their proven import records into the
    team's log (services/move_records.py): the credential is still found there."""
    local = open_context(Environment.TEST, data_root)
    try:
        info, cert, _root, _key = _aro(local, days=365, start=datetime.now(UTC))
    finally:
        local.close()
    with team_after_move(cli_run, postgres_server, data_root) as team:
        found = find_credential(team, "file-signing", info.key_id)
        assert found is not None and found.certificate == cert
        (carried,) = team.audit.vouched(("credential.import",))
        assert carried.details["carried_from"] == "the workstation's own audit log"


@BOTH
def test_an_import_record_the_log_cannot_prove_is_named(ctx, data_root: Path) -> None:  # type: ignore[no-untyped-def]
    """A credential whose import record exists but is not proven (altered here; on a team
    store, most often written by a workstation not yet endorsed) is refused naming that record
    and what would make it count, not as if there were none."""
    now = datetime.now(UTC)
    _info, cert, _root, _root_key = _aro(ctx, days=365, start=now - timedelta(days=1))
    seq = _import_seq(ctx, cert)
    from tests.integration.test_audit_vouched_holes import _Raw

    with _Raw(data_root) as c:  # the log's append-only guard dropped, as an attacker would
        c.execute("UPDATE audit_log SET details = replace(details, '\"test\"', "
                  "'\"elsewhere\"') WHERE seq = ?", (seq,))
    fresh = open_context(ctx.env, data_root)  # as the next command would
    try:
        with pytest.raises(Refusal) as caught:
            find_credential(fresh, "file-signing")
    finally:
        fresh.close()
    message = caught.value.message
    assert f"its import is recorded in audit record {seq}" in message, message
    assert "neither this workstation nor a writer the team's log endorses" in message
    assert "there is no audit record" not in message


@BOTH
def test_tls_presents_the_checked_certificate_not_a_file_put_beside_it(ctx) -> None:  # type: ignore[no-untyped-def]
    """client_tls hands TLS portal/client-<serial>.pem: it was written only when absent, so a
    certificate put there (same key, reissued with a later expiry) was presented unchecked.
    It is now the checked credential's, written again whenever it is anything else."""
    from smki_desktop.services.portal_endpoint import client_tls

    now = datetime.now(UTC)
    root_key, root = make_root(ctx.env, now - timedelta(days=1))
    info = ctx.keystore.generate(KeyType.RSA_2048, KeyUsage.CLIENT_AUTH, "client")
    cert = issue(root_key, root, info.public_key_der, ctx.env, now, days=30)
    record_credential(ctx, cert, "web-service", info.key_id, source="test")
    planted = _reissued(root_key, root, cert, now + timedelta(days=900))
    path = ctx.paths.feature_dir("portal") / f"client-{cert.serial_number:X}.pem"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(planted.public_bytes(serialization.Encoding.PEM))  # data-folder writer
    tls = client_tls(ctx)
    presented = x509.load_pem_x509_certificate(tls.cert_path.read_bytes())
    assert presented == cert, "TLS would present the planted, unvouched certificate"
    assert client_tls(ctx).cert_path.read_bytes() == cert.public_bytes(serialization.Encoding.PEM)


@BOTH
def test_the_expiry_report_refuses_a_swapped_credential_certificate(ctx) -> None:  # type: ignore[no-untyped-def]
    """The genuine credential expires in 10 days; its row is swapped for a reissue valid 700
    days: the report took the swapped notAfter (no warning, no line). It now says the row
    would be refused and takes no date from it."""
    from smki_desktop.services.expiry import expiry_report

    now = datetime.now(UTC)
    info, cert, root, root_key = _aro(ctx, days=40, start=now - timedelta(days=30))
    swapped = _reissued(root_key, root, cert, now + timedelta(days=700))
    _sql(ctx, "UPDATE portal_credentials SET certificate=? WHERE key_id=?",
         (swapped.public_bytes(DER), info.key_id))
    serial = f"{cert.serial_number:X}"
    with pytest.raises(Refusal):
        find_credential(ctx, "file-signing")  # refused when used
    report = expiry_report(ctx, 30)
    assert not [e for e in report.expiring if e.item.serial == serial]  # no date from it
    (said,) = [p for p in report.problems if serial in p]
    assert "its certificate differs from the one recorded when it was imported" in said


@BOTH
def test_a_credential_row_moved_to_another_key_is_refused(ctx) -> None:  # type: ignore[no-untyped-def]
    """The import record names the key and purpose; a genuine row moved to another key listed
    (and would be left out of revocations) as that key's. It is refused naming both."""
    now = datetime.now(UTC)
    info, _cert, _root, _key = _aro(ctx, days=365, start=now - timedelta(days=1))
    other = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.FILE_SIGNING, "other")
    _sql(ctx, "UPDATE portal_credentials SET key_id=? WHERE key_id=?",
         (other.key_id, info.key_id))
    with pytest.raises(Refusal) as caught:
        find_credential(ctx, "file-signing", other.key_id)
    assert (f"the store files it as the file-signing credential of key {other.key_id[:16]}, "
            f"but it was imported (audit record {_import_seq(ctx, _cert)}) as the file-signing "
            f"credential of key {info.key_id[:16]}") in caught.value.message


@BOTH
def test_a_genuine_row_planted_first_is_recorded_by_the_import(ctx) -> None:  # type: ignore[no-untyped-def]
    """Someone who has the genuine certificate (it is not secret) inserts its row before the
    officer imports it: the import wrote no record, so the credential was refused for good.
    Importing exactly those bytes for that key now records it, once."""
    now = datetime.now(UTC)
    root_key, root = make_root(ctx.env, now - timedelta(days=1))
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.FILE_SIGNING, "aro")
    cert = issue(root_key, root, info.public_key_der, ctx.env, now, cn="Ada Aro", days=365)
    _sql(ctx, "INSERT INTO portal_credentials(environment, purpose, key_id, certificate, "
              "issuer, serial, subject, not_before, not_after, imported) "
              "VALUES (?,?,?,?,?,?,?,?,?,?)",
         (ctx.env.value, "file-signing", info.key_id, cert.public_bytes(DER),
          cert.issuer.rfc4514_string(), f"{cert.serial_number:X}",
          cert.subject.rfc4514_string(), cert.not_valid_before_utc.isoformat(),
          cert.not_valid_after_utc.isoformat(), now.isoformat()))
    cred = record_credential(ctx, cert, "file-signing", info.key_id, source="test")
    assert cred.certificate == cert
    assert find_credential(ctx, "file-signing", info.key_id) == cred
    # recorded once: importing it again writes nothing more
    record_credential(ctx, cert, "file-signing", info.key_id, source="test")
    assert len([e for e in ctx.audit.vouched(("credential.import",))
                if e.details.get("key_id") == info.key_id]) == 1
