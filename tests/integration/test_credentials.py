"""Credentials: request (Live writes the CSR; Test gets it issued by the simulator), import
what the DCC issued, refuse a simulator's certificate in Live and one for a key we do not hold,
and find the valid one for a purpose at a given time (issue 6 uses `find_credential`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from smki_desktop.core.errors import NotFound, Refusal
from smki_desktop.core.eui import EuiRange
from smki_desktop.core.party import PartyProfile, PartyType
from smki_desktop.core.ports import FixedClock
from smki_desktop.services import credentials, simulator_control
from smki_desktop.services.party import set_party
from smki_desktop.simulator import ca as CA


def _plain_ca() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    k = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "DCC IKI CA (stand-in)")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(k.public_key()).serial_number(11)
            .not_valid_before(datetime.now(UTC) - timedelta(days=1))
            .not_valid_after(datetime.now(UTC) + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(k, hashes.SHA256()))
    return cert, k


def _issue(csr_pem: bytes, ca: x509.Certificate, key: ec.EllipticCurvePrivateKey,
           days: int = 730) -> x509.Certificate:
    csr = x509.load_pem_x509_csr(csr_pem)
    now = datetime.now(UTC)
    return (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(ca.subject)
            .public_key(csr.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=1))
            .not_valid_after(now + timedelta(days=days)).sign(key, hashes.SHA256()))


def test_live_request_then_import_what_the_dcc_issued(live_ctx, cli_run,
                                                       tmp_path: Path) -> None:
    _live_party(live_ctx)  # Live requests nothing without a Party profile
    res = credentials.request_credential(live_ctx, "web-service", organisation="Acme Ltd",
                                         role="02", system_name="acme-live-1")
    assert res.credential is None and res.csr_path is not None
    info = live_ctx.keystore.get(res.key_id)
    assert info.key_type.value == "rsa-2048" and info.usage.value == "client-auth"
    assert credentials.find_credential(live_ctx, "web-service") is None
    ca, ca_key = _plain_ca()
    cert = _issue(res.csr_path.read_bytes(), ca, ca_key)
    f = tmp_path / "issued.pem"
    f.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    r = cli_run("credential", "import", str(f), "--json", env="live")
    assert r.code == 0, r.err
    assert r.json()["purpose"] == "web-service" and r.json()["environment"] == "live"
    again = cli_run("credential", "import", str(f), "--json", env="live")
    assert again.code == 0 and again.json()["serial"] == r.json()["serial"]  # idempotent
    found = credentials.find_credential(live_ctx, "web-service")
    assert found is not None and found.key_id == res.key_id
    assert len(credentials.list_credentials(live_ctx)) == 1
    # Test does not see the Live credential
    lst = cli_run("credential", "list", "--json")
    assert lst.json()["credentials"] == []


def _live_party(live_ctx) -> None:  # type: ignore[no-untyped-def]
    set_party(live_ctx, PartyProfile("Acme Ltd", "ACME", PartyType.IMPORT_SUPPLIER, (
        EuiRange.parse("90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF"),)))


def test_live_refuses_a_simulator_credential_and_a_foreign_key(live_ctx, tmp_path) -> None:
    _live_party(live_ctx)
    res = credentials.request_credential(live_ctx, "file-signing", organisation="Acme Ltd",
                                         common_name="Ann Officer")
    h = CA.Hierarchy.generate(datetime.now(UTC), label="S")
    csr = x509.load_pem_x509_csr(res.csr_path.read_bytes())  # type: ignore[union-attr]
    sim_cert = CA.issue_credential(h.iki_ca, csr, "file-signing", datetime.now(UTC))
    with pytest.raises(Refusal, match="simulator"):
        credentials.import_credential(live_ctx, sim_cert.public_bytes(
            serialization.Encoding.PEM))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca, ca_key = _plain_ca()
    foreign = (x509.CertificateBuilder().subject_name(ca.subject).issuer_name(ca.subject)
               .public_key(other.public_key()).serial_number(5)
               .not_valid_before(datetime.now(UTC)).not_valid_after(
                   datetime.now(UTC) + timedelta(days=1)).sign(ca_key, hashes.SHA256()))
    with pytest.raises(Refusal, match="not in this environment's key store"):
        credentials.import_credential(live_ctx, foreign.public_bytes(
            serialization.Encoding.DER))


def test_test_file_signing_credential_from_the_simulator(ctx, cli_run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.core.errors import Refusal
    from tests.integration.test_officer_cli import EVIDENCE, nominate

    try:
        # issued only to a named officer the simulator (the DCC) holds as verified
        with pytest.raises(Refusal, match="only to an officer it has verified"):
            credentials.request_credential(ctx, "file-signing", organisation="Acme Ltd",
                                           common_name="Ann Officer")
        oid = nominate(cli_run, tmp_path, "sro", "Ann Officer").json()["officer"]["officer_id"]
        with pytest.raises(Refusal, match=f"holds {oid} as not verified.*CR:Officer"):
            credentials.request_credential(ctx, "file-signing", organisation="Acme Ltd",
                                           officer=oid)
        assert cli_run("officer", "verify", oid, "--date", "2026-11-21", "--verifier", "Vera",
                       "--evidence", EVIDENCE).code == 0
        res = credentials.request_credential(ctx, "file-signing", organisation="Acme Ltd",
                                             officer=oid)
        cred = res.credential
        assert cred is not None and cred.purpose == "file-signing"
        assert isinstance(cred.certificate.public_key(), ec.EllipticCurvePublicKey)
        ku = cred.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        assert ku.digital_signature and ku.content_commitment
        assert cred.certificate.subject.rfc4514_string() == \
            f"2.5.4.5={oid},CN=Ann Officer,O=Acme Ltd"
        assert credentials.register_id_of(cred.certificate) == oid
        assert credentials.find_credential(ctx, "file-signing", res.key_id[:12]) == cred
        assert credentials.find_credential(ctx, "file-signing", "0" * 12) is None
        # validity is checked at the context's clock
        ctx.clock = FixedClock(cred.not_after + timedelta(seconds=1))
        assert credentials.find_credential(ctx, "file-signing") is None
        with pytest.raises(NotFound, match="Request a file-signing credential") as err:
            credentials.require_credential(ctx, "file-signing")
        assert err.value.hint == "credential.request.file-signing"  # each face says where
    finally:
        simulator_control.stop(ctx)


def test_bad_purpose_and_wrong_key_usage(ctx) -> None:
    from smki_desktop.core.errors import InputError
    from smki_desktop.core.keys import KeyType, KeyUsage

    with pytest.raises(InputError, match="Purpose: 'email'"):
        credentials.find_credential(ctx, "email")
    key = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "org key")
    with pytest.raises(InputError, match="needs a client-auth key"):
        credentials.request_credential(ctx, "web-service", key.key_id, organisation="A",
                                       role="02")
