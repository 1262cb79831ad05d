"""Acceptance check on import, against the DCC's own test certificates and their published keys
(real OS keyring, real database): accepted, mismatches named, duplicates a no-op."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import Ambiguous, EnvironmentMismatch, Refusal
from smki_desktop.core.eui import Eui64, EuiRange
from smki_desktop.core.keys import KeyUsage
from smki_desktop.core.party import PartyProfile, PartyType
from smki_desktop.core.roles import RemotePartyRole
from smki_desktop.crypto.fields import extract_fields
from smki_desktop.crypto.lint import ski_method2
from smki_desktop.services import certificates as certs
from smki_desktop.services import csr as csr_service
from smki_desktop.services.party import set_party

pytestmark = pytest.mark.both_backends  # SQLite and a PostgreSQL team store

PKI = Path(__file__).resolve().parents[1] / "fixtures" / "dcc-test-pki"
ORG = sorted((PKI / "organisation").glob("*.pem"))
WHEN = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)


def load_key_and_csr(ctx, pem: Path, *, role: str | None = None,  # type: ignore[no-untyped-def]
                     eui: str | None = None) -> int:
    f = extract_fields(pem.read_bytes())
    assert f.usage is not None and f.role is not None and f.eui is not None
    info = ctx.keystore.import_private_key(pem.with_suffix(".key").read_bytes(), f.usage,
                                           pem.stem)
    assert info.key_id == f.key_id
    made = csr_service.create_org_csr(ctx, info.key_id, role or f.role.ou, eui or str(f.eui),
                                      f.cn)
    return made.csr_id


@pytest.mark.parametrize("pem", ORG, ids=lambda p: p.name)
def test_each_fixture_is_accepted_against_its_csr(ctx, pem: Path) -> None:  # type: ignore[no-untyped-def]
    csr_id = load_key_and_csr(ctx, pem)
    result = certs.import_certificate(ctx, pem.read_bytes(), at=WHEN)
    assert result.status == certs.ACCEPTED, result.message
    assert result.csr_id == csr_id and result.reasons == []
    # the ZAZ1 CAs are not in the fixtures: Test accepts with a warning the user sees
    assert any("not in the trust anchors" in w for w in result.warnings)
    assert "trust anchors" in result.message
    assert result.audit is not None and result.audit.action == "cert.import"
    # the key cannot get a second CSR
    assert csr_service.keys_available_for_csr(ctx) == []
    with pytest.raises(Refusal, match=r"already has a CSR"):
        csr_service.create_org_csr(ctx, result.fields.key_id, "02", "90-B3-D5-1F-30-01-00-00")


@pytest.mark.parametrize("pem", [PKI / "organisation" / "90b3d51f30010000-ds.pem",
                                 PKI / "organisation" / "90b3d51f30020000-ka.pem"],
                         ids=lambda p: p.name)
def test_other_eui_is_a_mismatch_naming_the_field(ctx, pem: Path) -> None:  # type: ignore[no-untyped-def]
    load_key_and_csr(ctx, pem, eui="90-B3-D5-1F-30-0F-FF-FF")
    result = certs.import_certificate(ctx, pem.read_bytes(), at=WHEN)
    assert result.status == certs.TO_BE_REJECTED
    assert len(result.reasons) == 1 and result.reasons[0].startswith("mismatch: EUI")
    assert "Reject it with the DCC Service Desk now" in result.message


def test_other_role_is_a_mismatch_naming_the_field(ctx) -> None:  # type: ignore[no-untyped-def]
    pem = PKI / "organisation" / "90b3d51f30010000-ka.pem"
    load_key_and_csr(ctx, pem, role="networkOperator")
    result = certs.import_certificate(ctx, pem.read_bytes(), at=WHEN)
    assert result.status == certs.TO_BE_REJECTED
    assert [r.split(":")[1].strip() for r in result.reasons] == ["role (OU)"]


def test_duplicate_import_is_a_no_op(ctx) -> None:  # type: ignore[no-untyped-def]
    first = PKI / "organisation" / "90b3d51f30030000-ka.pem"
    copy = PKI / "organisation" / "90b3d51f30000007-ka.pem"
    assert first.read_bytes() == copy.read_bytes()
    load_key_and_csr(ctx, first)
    a = certs.import_certificate(ctx, first.read_bytes(), at=WHEN)
    audit_rows = ctx.db.conn().execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]
    b = certs.import_certificate(ctx, copy.read_bytes(), at=WHEN)
    assert b.duplicate and b.cert_id == a.cert_id and b.status == a.status
    assert ctx.db.conn().execute("SELECT COUNT(*) FROM certificates").fetchone()[0] == 1
    assert ctx.db.conn().execute("SELECT COUNT(*) FROM audit_log").fetchone()[0] == audit_rows
    # its subject EUI is not the one in its file name
    assert b.fields.eui == Eui64.parse("90-B3-D5-1F-30-03-00-00")


def test_other_certificate_with_a_recorded_issuer_and_serial_is_refused(ctx) -> None:  # type: ignore[no-untyped-def]
    """Same issuer and serial as an accepted certificate, but another certificate (someone
    else's key): refused as possibly forged and audited, never reported as the recorded one's
    verdict; the recorded one is untouched, and its own bytes are still `Already imported`."""
    at = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    pem, root = _issue(ctx, KeyUsage.SIGNING, "1.2.826.0.1.8641679.1.2.1.4", chained=True)
    certs.add_trust_anchor(ctx, root.public_bytes(serialization.Encoding.PEM))
    first = certs.import_certificate(ctx, pem, at=at)
    assert first.status == certs.ACCEPTED, first.message
    stranger = ec.generate_private_key(ec.SECP256R1()).public_key()
    forged = _resigned(pem, public_key=stranger)
    serial = f"{first.fields.serial:X}"
    with pytest.raises(Refusal) as err:
        certs.import_certificate(ctx, forged, at=at)
    text = str(err.value)
    assert (f"a different certificate with issuer OU=00,CN=ZA and serial {serial} is already "
            "recorded (imported ") in text
    assert "this one is not the same certificate" in text and "it may be forged" in text
    assert "accepted" not in text and "Already imported" not in text
    last = ctx.audit.entries(1)[0]
    assert last.action == "cert.import-refused"
    assert last.details["serial"] == serial and last.details["recorded_cert_id"] == first.cert_id
    rows = ctx.db.conn().execute("SELECT cert_id, status, der FROM certificates").fetchall()
    assert [(r["cert_id"], r["status"]) for r in rows] == [(first.cert_id, certs.ACCEPTED)]
    assert bytes(rows[0]["der"]) == x509.load_pem_x509_certificate(pem).public_bytes(
        serialization.Encoding.DER)
    again = certs.import_certificate(ctx, pem, at=at)
    assert again.duplicate and again.status == certs.ACCEPTED
    assert again.message.startswith("Already imported")


def test_other_certificate_with_an_unverified_ones_issuer_and_serial_is_refused(live_ctx) -> None:  # type: ignore[no-untyped-def]
    """An unverified certificate (Live, no anchor yet) is checked again on a second import:
    but only the same bytes - another certificate with its issuer and serial is refused and
    does not rewrite the recorded one's verdict."""
    at = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    pem, root = _issue(live_ctx, KeyUsage.SIGNING, "1.2.826.0.1.99999.1", chained=True)
    first = certs.import_certificate(live_ctx, pem, at=at)
    assert first.status == certs.UNVERIFIED
    certs.add_trust_anchor(live_ctx, root.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(Refusal, match="it may be forged"):
        certs.import_certificate(live_ctx, _resigned(pem), at=at)
    assert live_ctx.audit.entries(1)[0].action == "cert.import-refused"
    status = live_ctx.db.conn().execute("SELECT status FROM certificates").fetchall()
    assert [r["status"] for r in status] == [certs.UNVERIFIED]


def test_expired_at_check_time_is_to_be_rejected(ctx) -> None:  # type: ignore[no-untyped-def]
    pem = PKI / "organisation" / "90b3d51f30000002-ds.pem"
    load_key_and_csr(ctx, pem)
    result = certs.import_certificate(ctx, pem.read_bytes(),
                                      at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert result.status == certs.TO_BE_REJECTED
    assert result.reasons[0].startswith("validity: not valid at 2026-01-01")


def test_quirk_without_aki_is_accepted_with_the_warning(ctx) -> None:  # type: ignore[no-untyped-def]
    pem = PKI / "quirks" / "90b3d51f30010008-ka.pem"
    load_key_and_csr(ctx, pem)
    result = certs.import_certificate(ctx, pem.read_bytes(), at=WHEN)
    assert result.status == certs.ACCEPTED
    assert any("aki.missing" in w for w in result.warnings)


def test_test_hierarchy_refused_in_live(live_ctx) -> None:  # type: ignore[no-untyped-def]
    pem = PKI / "organisation" / "90b3d51f30010000-ds.pem"
    with pytest.raises(EnvironmentMismatch, match=r"Test environment.*Live environment"):
        certs.import_certificate(live_ctx, pem.read_bytes(), at=WHEN)
    assert certs.list_certificates(live_ctx) == []


def _issue(ctx, usage: KeyUsage, policy: str,  # type: ignore[no-untyped-def]
           chained: bool = False) -> tuple[bytes, x509.Certificate]:
    """A little CA (root OU=00,CN=ZA -> issuing OU=07,CN=Z1) issuing to our own CSR."""
    from smki_desktop.services.keys import generate_key

    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "00"),
                           x509.NameAttribute(NameOID.COMMON_NAME, "ZA")])
    root = (x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
            .public_key(root_key.public_key()).serial_number(1)
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(root_key, hashes.SHA256()))
    ca_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "07",
                                            _type=x509.name._ASN1Type.PrintableString),
                         x509.NameAttribute(NameOID.COMMON_NAME, "Z1",
                                            _type=x509.name._ASN1Type.PrintableString)])
    if ctx.env is Environment.LIVE and ctx.party() is None:
        # Live makes no Organisation CSR without a Party profile (issue 12)
        set_party(ctx, PartyProfile("Acme", "ACME", PartyType.IMPORT_SUPPLIER, (EuiRange.parse(
            "90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF"),)))
    info = generate_key(ctx, usage, "own key").key
    made = csr_service.create_org_csr(ctx, info.key_id, "02", "90-B3-D5-1F-30-01-00-00")
    req = x509.load_der_x509_csr(made.der)
    ku_ds = usage is KeyUsage.SIGNING
    cert = (x509.CertificateBuilder().subject_name(req.subject)
            .issuer_name(root_name if chained else ca_name)
            .public_key(req.public_key()).serial_number(0x4F << 120 | 7)
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.KeyUsage(ku_ds, False, False, False, not ku_ds, False, False,
                                         False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier(ski_method2(info.public_key_der)),
                           critical=False)
            .add_extension(x509.CertificatePolicies([x509.PolicyInformation(
                x509.ObjectIdentifier(policy), None)]), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier(b"\x41" * 8, None, None), critical=False)
            .sign(root_key, hashes.SHA256()))  # the root signs directly: chain of 2
    return cert.public_bytes(serialization.Encoding.PEM), root


def test_chain_to_anchor_accepted_without_warning(ctx) -> None:  # type: ignore[no-untyped-def]
    pem, root = _issue(ctx, KeyUsage.KEY_AGREEMENT, "1.2.826.0.1.8641679.1.2.1.4",
                       chained=True)
    root_pem = root.public_bytes(serialization.Encoding.PEM)
    fp, entry = certs.add_trust_anchor(ctx, root_pem)
    assert entry is not None and certs.add_trust_anchor(ctx, root_pem) == (fp, None)
    assert [a.subject for a in certs.trust_anchors(ctx)] == [root.subject]
    result = certs.import_certificate(ctx, pem, at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    assert result.status == certs.ACCEPTED, result.message
    assert not any("chain" in w for w in result.warnings)
    # the root is not the profile's Organisation CA name: only a warning
    assert any("cert.issuer-unknown" in w and "is not an organisation CA" in w
               for w in result.warnings)


def test_signature_by_another_key_under_anchor_name_is_to_be_rejected(ctx) -> None:  # type: ignore[no-untyped-def]
    """The issuer's name is a trust anchor's but another key signed it: not a missing anchor
    (a warning in Test) but a signature that does not verify - a reason to reject it."""
    pem, _root = _issue(ctx, KeyUsage.SIGNING, "1.2.826.0.1.8641679.1.2.1.4", chained=True)
    _other_pem, other_root = _issue(ctx, KeyUsage.KEY_AGREEMENT,
                                    "1.2.826.0.1.8641679.1.2.1.4", chained=True)
    certs.add_trust_anchor(ctx, other_root.public_bytes(serialization.Encoding.PEM))
    result = certs.import_certificate(ctx, pem, at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    fp = other_root.fingerprint(hashes.SHA256()).hex()[:16]
    assert result.status == certs.TO_BE_REJECTED, result.message
    assert result.reasons == [f"chain: signature does not verify under trust anchor "
                              f"OU=00,CN=ZA (SHA-256 {fp}…)"]
    assert not any("not in the trust anchors" in w for w in result.warnings)
    assert "it may be forged" in result.message


def _resigned(pem: bytes, *, public_key=None) -> bytes:  # type: ignore[no-untyped-def]
    """The certificate's content (issuer name and serial unchanged) signed by a fresh key, for
    `public_key` when given."""
    c = x509.load_pem_x509_certificate(pem)
    b = (x509.CertificateBuilder().subject_name(c.subject).issuer_name(c.issuer)
         .public_key(public_key or c.public_key()).serial_number(c.serial_number)
         .not_valid_before(c.not_valid_before_utc).not_valid_after(c.not_valid_after_utc))
    for ext in c.extensions:
        b = b.add_extension(ext.value, ext.critical)
    return b.sign(ec.generate_private_key(ec.SECP256R1()),
                  hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize("env", ["test", "live"])
def test_forged_signature_under_anchor_name_is_to_be_rejected(request, env: str) -> None:  # type: ignore[no-untyped-def]
    """A forged certificate (our CSR's content, the anchor's issuer name, another key's
    signature): to be rejected in both environments, never `accepted` with a warning (Test) or
    `unverified` asking to add the CA that already is an anchor (Live)."""
    c = request.getfixturevalue("ctx" if env == "test" else "live_ctx")
    policy = "1.2.826.0.1.8641679.1.2.1.4" if env == "test" else "1.2.826.0.1.99999.1"
    pem, root = _issue(c, KeyUsage.SIGNING, policy, chained=True)
    certs.add_trust_anchor(c, root.public_bytes(serialization.Encoding.PEM))
    result = certs.import_certificate(c, _resigned(pem), at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    assert result.status == certs.TO_BE_REJECTED, result.message
    fp = root.fingerprint(hashes.SHA256()).hex()[:16]
    assert f"signature does not verify under trust anchor OU=00,CN=ZA (SHA-256 {fp}…)" in \
        result.message
    assert "add the issuing CA" not in result.message
    assert not any("not in the trust anchors" in w for w in result.warnings)
    assert result.audit is not None and result.audit.details["status"] == certs.TO_BE_REJECTED


def test_live_unverifiable_chain_is_never_silently_accepted(live_ctx) -> None:  # type: ignore[no-untyped-def]
    pem, root = _issue(live_ctx, KeyUsage.SIGNING, "1.2.826.0.1.99999.1", chained=True)
    at = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    result = certs.import_certificate(live_ctx, pem, at=at)
    assert result.status == certs.UNVERIFIED and result.reasons == []
    assert "Not accepted yet" in result.message
    again = certs.import_certificate(live_ctx, pem, at=at)
    assert again.duplicate and again.status == certs.UNVERIFIED
    # once the user trusts the root, importing again checks again and accepts
    certs.add_trust_anchor(live_ctx, root.public_bytes(serialization.Encoding.PEM))
    third = certs.import_certificate(live_ctx, pem, at=at)
    assert third.status == certs.ACCEPTED and third.cert_id == result.cert_id
    assert third.audit is not None and third.audit.action == "cert.recheck"
    assert len(certs.list_certificates(live_ctx)) == 1


def test_list_filter_and_export(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for name in ("90b3d51f30010000-ds.pem", "90b3d51f30020000-ka.pem"):
        load_key_and_csr(ctx, PKI / "organisation" / name)
        certs.import_certificate(ctx, (PKI / "organisation" / name).read_bytes(), at=WHEN)
    assert [c.role for c in certs.list_certificates(ctx, role="supplier")] == ["02"]
    assert [c.usage for c in certs.list_certificates(ctx, usage="ka")] == ["key-agreement"]
    assert len(certs.list_certificates(ctx, eui="90b3d51f30020000")) == 1
    rec = certs.find_certificate(ctx, "4f:bc:52:52:01:a1:d7:58:6c:1b:c1:c4:73:4d:eb:9f",
                                 issuer="OU=07,CN=Z1")
    assert rec.pem() == x509.load_pem_x509_certificate(
        (PKI / "organisation" / "90b3d51f30010000-ds.pem").read_bytes()).public_bytes(
        serialization.Encoding.PEM)
    details = certs.certificate_details(rec)
    assert details["role"] == "supplier" and details["cn"] == "GITTESTSUPPLIER"


def test_ambiguous_serial_lists_candidates(ctx) -> None:  # type: ignore[no-untyped-def]
    pem = PKI / "organisation" / "90b3d51f30010000-ds.pem"
    load_key_and_csr(ctx, pem)
    certs.import_certificate(ctx, pem.read_bytes(), at=WHEN)
    # a second certificate with the same serial from another issuer (as a CA could)
    rec = certs.find_certificate(ctx, "4FBC525201A1D7586C1BC1C4734DEB9F")
    ctx.db.conn().execute(
        "INSERT INTO certificates(environment,issuer,issuer_key,serial,family,key_id,status,"
        "reasons,warnings,checked_at,der,imported) SELECT environment,'CN=Other','other',"
        "serial,family,key_id,status,reasons,warnings,checked_at,der,imported FROM "
        "certificates WHERE cert_id=?", (rec.cert_id,))
    with pytest.raises(Ambiguous, match=r"OU=07,CN=Z1.*CN=Other"):
        certs.find_certificate(ctx, "4FBC525201A1D7586C1BC1C4734DEB9F")
    assert RemotePartyRole.parse("02") is RemotePartyRole.SUPPLIER


def _override_policy(data_root: Path, env: str, oid: str) -> None:
    """A user's profile override for `env` (as Settings > Profiles saves it) with `oid` as its
    Organisation policy."""
    import json

    from smki_desktop.core.environment import Environment
    from smki_desktop.profile_data import bundled_profile_path, override_path

    doc = json.loads(bundled_profile_path(Environment(env)).read_text())
    doc["organisation"]["policy_oids"] = [oid]
    path = override_path(data_root / env, Environment(env))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


LIVE_POLICY = "1.2.826.0.1.99999.1"


def test_live_policy_from_the_live_override_is_refused_in_test(ctx, live_ctx,  # type: ignore[no-untyped-def]
                                                               data_root: Path) -> None:
    """Live's bundled policy OIDs are empty; the officer's Live override names them. A Live
    certificate imported into Test is refused as Live, not checked as a Test one."""
    _override_policy(data_root, "live", LIVE_POLICY)
    pem, _root = _issue(ctx, KeyUsage.SIGNING, LIVE_POLICY, chained=True)
    with pytest.raises(EnvironmentMismatch, match=r"Live environment.*Test environment"):
        certs.import_certificate(ctx, pem, at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    assert certs.list_certificates(ctx) == []
    # and in Live, where the override makes it Live's policy, it is not refused
    pem, root = _issue(live_ctx, KeyUsage.SIGNING, LIVE_POLICY, chained=True)
    certs.add_trust_anchor(live_ctx, root.public_bytes(serialization.Encoding.PEM))
    ok = certs.import_certificate(live_ctx, pem, at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    assert ok.status == certs.ACCEPTED, ok.message


@pytest.mark.parametrize("home,other", [("test", "live"), ("live", "test")])
def test_issuer_among_the_other_environments_anchors_is_refused(  # type: ignore[no-untyped-def]
        ctx, live_ctx, home: str, other: str) -> None:
    """A certificate whose issuer is one of the other environment's trust anchors (and none of
    ours) is that environment's, whatever its policy OID says: refused both ways."""
    contexts = {"test": ctx, "live": live_ctx}
    here, there = contexts[home], contexts[other]
    pem, root = _issue(here, KeyUsage.SIGNING, "1.2.826.0.1.99999.7", chained=True)
    certs.add_trust_anchor(there, root.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(EnvironmentMismatch, match=rf"{other.capitalize()} trust anchor.*"
                                                  rf"{other.capitalize()} environment"):
        certs.import_certificate(here, pem, at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    assert certs.list_certificates(here) == []
    # once this environment trusts the same CA itself, the certificate is checked as usual
    certs.add_trust_anchor(here, root.public_bytes(serialization.Encoding.PEM))
    res = certs.import_certificate(here, pem, at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    assert res.status != certs.UNMATCHED and not res.duplicate
