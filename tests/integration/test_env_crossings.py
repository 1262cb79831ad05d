"""Test/Live crossings refused in the services (whatever face): trust anchors, ADT signatures
without a manifest, Organisation CSRs whose key is the other environment's, `lint`, and the
Live rule that nothing is made without a Party profile."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import EnvironmentMismatch, Refusal
from smki_desktop.core.eui import Eui64, EuiRange
from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.core.party import PartyProfile, PartyType
from smki_desktop.core.roles import RemotePartyRole
from smki_desktop.crypto.cms import sign_detached
from smki_desktop.crypto.memory_signer import MemorySigner
from smki_desktop.services import adt, crossing, csr
from smki_desktop.services.party import set_party
from smki_desktop.simulator import ca as CA
from tests.integration.portal_helpers import org_csr

FIXTURES = Path(__file__).parent.parent / "fixtures" / "dcc-test-pki"
RANGE = (EuiRange.parse("90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF"),)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def sim() -> CA.Hierarchy:
    return CA.Hierarchy.generate(datetime.now(UTC))


@pytest.mark.parametrize("cmd", [("cert", "anchor", "add"), ("adt", "anchor", "add")])
def test_live_anchor_add_refuses_the_simulators_test_root(cli_run, tmp_path: Path, sim,
                                                           cmd: tuple[str, ...]) -> None:
    root = tmp_path / "sim-root.pem"
    root.write_bytes(_pem(sim.root.certificate))
    r = cli_run(*cmd, str(root), env="live")
    assert r.code == 1, r.err
    assert "Test environment" in r.err and "Live environment" in r.err
    assert "marker policy" in r.err
    # the same root is fine in Test
    assert cli_run(*cmd, str(root)).code == 0


def test_live_anchor_add_refuses_a_test_policy_ca(cli_run, tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Look-alike CA")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(7).not_valid_before(now)
            .not_valid_after(now.replace(year=now.year + 5))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.CertificatePolicies([x509.PolicyInformation(
                x509.ObjectIdentifier("1.2.826.0.1.8641679.1.2.1.4"), None)]), critical=True)
            .sign(key, hashes.SHA256()))
    p = tmp_path / "ca.pem"
    p.write_bytes(_pem(cert))
    r = cli_run("cert", "anchor", "add", str(p), env="live")
    assert r.code == 1 and "Test certificate policy" in r.err and "Live environment" in r.err


def _test_signed_file(tmp_path: Path, sim: CA.Hierarchy) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    req = (x509.CertificateSigningRequestBuilder().subject_name(x509.Name(
        [x509.NameAttribute(x509.NameOID.COMMON_NAME, "Ann ARO")])).sign(key, hashes.SHA256()))
    cert = CA.issue_credential(sim.iki_ca, req, "file-signing", datetime.now(UTC))
    f = tmp_path / "adt.csv"
    f.write_bytes(b"device_id,action\n00-DB-12-34-56-10-00-01,add\n")
    sig = tmp_path / "adt.csv.p7s"
    sig.write_bytes(sign_detached(f.read_bytes(), MemorySigner(key), cert,
                                  datetime.now(UTC)))
    return f, sig


def test_test_signed_adt_file_without_manifest_never_verifies_in_live(live_ctx, tmp_path,
                                                                      sim) -> None:
    f, sig = _test_signed_file(tmp_path, sim)
    # an anchor that got into Live before this check existed (or by editing the database)
    c = live_ctx.db.conn()
    for ca in (sim.root.certificate, sim.iki_ca.certificate):
        c.execute("INSERT INTO trust_anchors(fingerprint,environment,subject,source,der,added) "
                  "VALUES(?,?,?,?,?,?)", (ca.fingerprint(hashes.SHA256()).hex(), "live",
                                          ca.subject.rfc4514_string(), "user",
                                          ca.public_bytes(serialization.Encoding.DER),
                                          "2026-01-01"))
    with pytest.raises(EnvironmentMismatch) as info:
        adt.verify_file(live_ctx, f, sig)
    assert "marker policy" in info.value.message
    assert "Test environment" in info.value.message and "Live" in info.value.message


def test_org_csr_whose_key_is_only_in_live_is_refused_at_submit_in_test(cli_run, live_ctx,
                                                                        tmp_path) -> None:
    p = tmp_path / "live.csr"
    p.write_bytes(org_csr(live_ctx, "90-B3-D5-1F-30-01-00-41"))
    r = cli_run("portal", "submit", str(p))
    assert r.code == 1, r.err
    assert "Live environment" in r.err and "Test environment" in r.err
    assert cli_run("portal", "status", "--json").json()["requests"] == []


def test_test_csr_is_not_queued_in_live(cli_run, ctx, live_ctx, tmp_path) -> None:
    p = tmp_path / "test.csr"
    p.write_bytes(org_csr(ctx, "90-B3-D5-1F-30-01-00-42"))
    r = cli_run("portal", "submit", str(p), env="live")
    assert r.code == 1 and "Test environment" in r.err and "Live environment" in r.err
    assert cli_run("portal", "status", "--json", env="live").json()["requests"] == []


def test_live_lint_of_a_test_certificate_is_a_refusal(cli_run) -> None:
    pem = FIXTURES / "organisation" / "90b3d51f30000001-ds.pem"
    r = cli_run("lint", str(pem), "--json", env="live")
    assert r.code == 1
    doc = r.json()["files"][0]
    assert doc["ok"] is False and "Test environment" in doc["error"]
    assert "Live environment" in doc["error"]
    assert cli_run("lint", str(pem), env="test").code == 0


def test_live_makes_no_key_or_csr_without_a_party_profile(live_ctx) -> None:
    before = len(live_ctx.keystore.list_keys())
    with pytest.raises(Refusal, match="Party profile"):
        csr.new_key_and_org_csr(live_ctx, KeyUsage.SIGNING, RemotePartyRole.parse("02"),
                                Eui64.parse("90-B3-D5-1F-30-01-00-01"))
    assert len(live_ctx.keystore.list_keys()) == before  # nothing made
    key = live_ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "k")
    with pytest.raises(Refusal, match="Party profile"):
        csr.create_org_csr(live_ctx, key.key_id, "02", "90-B3-D5-1F-30-01-00-01")
    assert crossing.roles_offered(live_ctx) == []


def test_live_roles_are_those_the_party_type_may_hold(live_ctx, ctx) -> None:
    set_party(live_ctx, PartyProfile("Acme", "ACME", PartyType.IMPORT_SUPPLIER, RANGE))
    offered = [r.ou for r in crossing.roles_offered(live_ctx)]
    assert offered == ["02", "87"]
    with pytest.raises(Refusal, match="Role"):
        csr.new_key_and_org_csr(live_ctx, KeyUsage.SIGNING, RemotePartyRole.parse("00"),
                                Eui64.parse("90-B3-D5-1F-30-01-00-01"))
    # Test without a profile: every role (training, fixtures)
    assert len(crossing.roles_offered(ctx)) >= 10


def test_certificate_for_a_key_only_test_holds_is_refused_in_live(ctx, live_ctx) -> None:
    from smki_desktop.services.certificates import import_certificate, list_certificates

    der = org_csr(ctx, "90-B3-D5-1F-30-01-00-43")
    h = CA.Hierarchy.generate(datetime.now(UTC), label="Q")
    plain = x509.ObjectIdentifier("1.2.826.0.1.8641679.1.2.1.1")  # no environment's policy
    cert = CA.issue_organisation(h.org_ca, x509.load_der_x509_csr(der), datetime.now(UTC),
                                 plain)
    with pytest.raises(EnvironmentMismatch) as info:
        import_certificate(live_ctx, _pem(cert))
    assert "Test environment" in info.value.message and "Live" in info.value.message
    assert list_certificates(live_ctx) == []


def test_a_test_batch_zip_is_refused_in_live(cli_run, tmp_path: Path) -> None:
    from smki_desktop.core import batch_formats as bf
    from smki_desktop.crypto import device_csr as dc

    der = dc.generate_one((0x00DB123456100000).to_bytes(8, "big"), dc.SIGNING,
                          keep_key=False)[2]
    z = tmp_path / "batch.zip"
    z.write_bytes(bf.build_batch_zip([("00DB123456100000-ds.csr", der)], environment="test"))
    r = cli_run("devices", "validate", str(z), env="live")
    assert r.code == 1, r.err
    assert "Test environment" in r.err and "Live environment" in r.err


@pytest.mark.parametrize("cmd", [("key", "generate", "--usage", "signing", "--label", "k"),
                                 ("token", "keygen", "--usage", "signing", "--label", "k")])
def test_live_makes_no_key_without_a_party_profile_whatever_the_store(cli_run,
                                                                      cmd: tuple[str, ...]
                                                                      ) -> None:
    r = cli_run(*cmd, env="live")
    assert r.code == 1 and "Party profile" in r.err and "Live" in r.err
    assert cli_run("key", "list", "--json", env="live").json()["keys"] == []


@pytest.mark.parametrize("args", [
    ("--purpose", "web-service", "--organisation", "Acme Ltd", "--role", "02"),
    ("--purpose", "file-signing", "--organisation", "Acme Ltd", "--name", "Ann Officer"),
])
def test_live_makes_no_credential_request_without_a_party_profile(cli_run, tmp_path: Path,
                                                                 args: tuple[str, ...]) -> None:
    out = tmp_path / "out"
    r = cli_run("credential", "request", *args, "--out", str(out), env="live")
    assert r.code == 1 and "Party profile" in r.err and "Live" in r.err, r.err
    assert cli_run("key", "list", "--json", env="live").json()["keys"] == []
    assert not out.exists() or list(out.iterdir()) == []


def test_live_credential_role_is_one_the_party_type_may_hold(live_ctx, tmp_path: Path) -> None:
    from smki_desktop.services import credentials

    set_party(live_ctx, PartyProfile("Acme", "ACME", PartyType.IMPORT_SUPPLIER, RANGE))
    with pytest.raises(Refusal, match="Role|role"):
        credentials.request_credential(live_ctx, "web-service", role="03", out_dir=tmp_path)
    assert live_ctx.keystore.list_keys() == []
    res = credentials.request_credential(live_ctx, "web-service", out_dir=tmp_path)
    assert res.csr_path is not None and res.csr_path.exists()


def test_credential_for_a_key_only_test_holds_is_refused_in_live_naming_both(
        ctx, live_ctx, tmp_path: Path) -> None:
    from smki_desktop.services import credentials

    key = ctx.keystore.generate(KeyType.RSA_2048, KeyUsage.CLIENT_AUTH, "test ws")
    set_party(live_ctx, PartyProfile("Acme", "ACME", PartyType.IMPORT_SUPPLIER, RANGE))
    with pytest.raises(EnvironmentMismatch) as info:
        credentials.request_credential(live_ctx, "web-service", key.key_id, out_dir=tmp_path)
    assert "Test environment" in info.value.message and "Live" in info.value.message
    h = CA.Hierarchy.generate(datetime.now(UTC), label="C")
    spki = key.public_key_der
    cert = (x509.CertificateBuilder().subject_name(h.iki_ca.certificate.subject)
            .issuer_name(h.iki_ca.certificate.subject)
            .public_key(serialization.load_der_public_key(spki))  # type: ignore[arg-type]
            .serial_number(7).not_valid_before(datetime.now(UTC))
            .not_valid_after(datetime(2030, 1, 1, tzinfo=UTC))
            .sign(h.iki_ca.key, hashes.SHA256()))
    with pytest.raises(EnvironmentMismatch) as info:
        credentials.import_credential(live_ctx, _pem(cert))
    assert "Test environment" in info.value.message and "Live" in info.value.message
    assert credentials.list_credentials(live_ctx) == []


@pytest.mark.parametrize("fmt", ["folder", "csv"])
def test_test_device_csrs_not_in_a_marked_zip_are_rejected_in_live(cli_run, tmp_path: Path,
                                                                   fmt: str) -> None:
    """Device CSRs packaged in Test, brought to Live as a folder or CSV (no zip comment to
    say where they came from), are rejected naming both environments: the Test database
    holds their keys."""
    src = tmp_path / f"gen-{fmt}"
    r = cli_run("devices", "generate-test", "--count", "2", "--usage", "signing",
                "--discard-keys", "--format", fmt, "--out", str(src), "--json")
    assert r.code == 0, r.err
    made = [p for p in src.rglob("*") if p.is_file()]
    source = (next(p.parent for p in made if p.suffix == ".csr") if fmt == "folder"
              else next(p for p in made if p.suffix == ".csv"))
    assert cli_run("devices", "package", str(source), "--out", str(tmp_path / "pkg")).code == 0
    assert cli_run("party", "set", "--name", "Acme", "--party-id", "ACME", "--party-type",
                   "import-supplier", "--eui-range",
                   "00-DB-12-34-56-00-00-00..00-DB-12-34-56-FF-FF-FF", env="live").code == 0
    # Live configured with the same hwType, so that only the environment tells them apart
    import json

    from smki_desktop.core.environment import Environment
    from smki_desktop.crypto import device_csr as dc
    from smki_desktop.profile_data import bundled_profile_path

    doc = json.loads(bundled_profile_path(Environment.LIVE).read_text())
    doc["device"]["hw_type_oids"] = [dc.TEST_HW_TYPE]
    over = tmp_path / "smki-data" / "live" / "profiles" / "live.json"
    over.parent.mkdir(parents=True, exist_ok=True)
    over.write_text(json.dumps(doc))
    r = cli_run("devices", "validate", str(source), "--json", env="live")
    assert r.code == 1, r.out[-800:]
    text = r.out
    assert "Test environment" in text and "Live environment" in text, text[-800:]


@pytest.mark.parametrize("extra", [
    ("--purpose", "web-service", "--role", "02", "--organisation", "O" * 200),
    ("--purpose", "web-service", "--role", "02", "--system-name", "S" * 300),
    ("--purpose", "file-signing", "--name", "N" * 65),
    ("--purpose", "file-signing", "--name", "Ann", "--out", "/proc/no-such-folder"),
])
def test_a_failed_live_credential_request_leaves_no_key(cli_run, extra: tuple[str, ...]
                                                       ) -> None:
    """Bad subject text or an output folder that cannot be written is found before the key
    is made: nothing half-done stays in Live."""
    assert cli_run("party", "set", "--name", "Acme", "--party-id", "ACME", "--party-type",
                   "import-supplier", "--eui-range",
                   "90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF", env="live").code == 0
    r = cli_run("credential", "request", *extra, env="live")
    assert r.code == 2, (r.code, r.err)
    assert "Traceback" not in r.err
    assert cli_run("key", "list", "--json", env="live").json()["keys"] == []


@pytest.mark.parametrize("action", ["package", "submit"])
def test_live_packages_or_submits_no_device_batch_without_a_party_profile(
        cli_run, tmp_path: Path, action: str) -> None:
    src = tmp_path / "gen"
    assert cli_run("devices", "generate-test", "--count", "1", "--usage", "signing",
                   "--discard-keys", "--out", str(src)).code == 0
    extra = ("--out", str(tmp_path / "pkg")) if action == "package" else ()
    r = cli_run("devices", action, str(src / "test-devices.zip"), *extra, env="live")
    assert r.code == 1 and "Party profile" in r.err and "Live" in r.err, r.err
    assert not (tmp_path / "pkg").exists()


def _outside_csr(role: str, eui: str) -> bytes:
    """An Organisation CSR made outside the app (another tool, an HSM)."""
    from smki_desktop.crypto.csr import build_org_csr

    signer = MemorySigner(ec.generate_private_key(ec.SECP256R1()),
                          environment=Environment.LIVE, usage=KeyUsage.SIGNING)
    return build_org_csr(signer, RemotePartyRole.parse(role), Eui64.parse(eui))


@pytest.mark.parametrize(("role", "eui", "why"), [
    ("02", "90-B3-D5-1F-30-01-00-07", "Party profile"),   # no profile at all
    ("00", "90-B3-D5-1F-30-01-00-07", "Role"),            # root: not an import supplier's
    ("02", "11-22-33-44-55-66-77-88", "range"),           # another Party's EUI
])
def test_live_submits_only_csrs_the_party_may_hold(cli_run, live_ctx, tmp_path: Path,
                                                   role: str, eui: str, why: str) -> None:
    if why != "Party profile":
        set_party(live_ctx, PartyProfile("Acme", "ACME", PartyType.IMPORT_SUPPLIER, RANGE))
    p = tmp_path / "outside.csr"
    p.write_bytes(_outside_csr(role, eui))
    r = cli_run("portal", "submit", str(p), env="live")
    assert r.code in (1, 2) and why in r.err, r.err
    assert cli_run("portal", "status", "--json", env="live").json()["requests"] == []
    # the same kind of CSR for the Party's own role and EUI is queued
    if why != "Party profile":
        p.write_bytes(_outside_csr("02", "90-B3-D5-1F-30-01-00-08"))
        r = cli_run("portal", "submit", str(p), env="live")
        # past the Party's rules, only the SRO's authorisation (issue 11, on in Live) is missing
        assert r.code == 1 and "SRO" in r.err and "authoris" in r.err, r.err
