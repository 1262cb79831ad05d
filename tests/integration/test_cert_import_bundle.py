"""A certificate file holding several certificates (a CA with the officer's ds and ka leaves, or
DER certificates one after another) is imported certificate by certificate, each with its own
verdict, never just the first; a CA among them is named as a CA; certificate files are read with
a size limit; a verdict is headed by what is wrong."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from smki_desktop.core.errors import InputError
from smki_desktop.crypto.der import MAX_INPUT, to_der, to_ders
from smki_desktop.services import certificates as certs
from tests.integration.test_cert_import import PKI, WHEN, load_key_and_csr

DS = PKI / "organisation" / "90b3d51f30000007-ds.pem"
KA = PKI / "organisation" / "90b3d51f30000007-ka.pem"


def _ca_pem() -> bytes:
    """A self-signed CA certificate (OU=07, CN=Z1) that no key here matches."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "07"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Z1")])
    now = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(0x1234)
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=7300))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def _der(pem: Path) -> bytes:
    return x509.load_pem_x509_certificate(pem.read_bytes()).public_bytes(
        serialization.Encoding.DER)


def test_chain_file_imports_each_certificate_with_its_own_verdict(  # type: ignore[no-untyped-def]
        ctx, cli_run, tmp_path: Path) -> None:
    load_key_and_csr(ctx, DS)
    load_key_and_csr(ctx, KA)
    chain = tmp_path / "chain.pem"
    chain.write_bytes(_ca_pem() + DS.read_bytes() + KA.read_bytes())
    r = cli_run("--json", "cert", "import", "--at", "2024-06-01", str(chain))
    assert r.code == 0, r.out + r.err
    doc = r.json()
    assert doc["count"] == 3 and doc["accepted"] is True
    assert [c["status"] for c in doc["certificates"]] == [certs.CA_CERTIFICATE, certs.ACCEPTED,
                                                          certs.ACCEPTED]
    assert doc["certificates"][0]["cert_id"] is None  # the CA is named, not recorded
    # the officer's two certificates are recorded, the CA is not
    listed = cli_run("--json", "cert", "list").json()["certificates"]
    assert sorted(c["usage"] for c in listed) == ["key-agreement", "signing"]
    text = cli_run("cert", "import", "--at", "2024-06-01", str(chain))
    assert "CA certificate, not imported" in text.out and "not ours" not in text.out
    assert "smki cert anchor add" in text.out
    assert "[2 of 3]" in text.out and "[3 of 3]" in text.out


def test_worst_verdict_sets_exit_code_and_top_level_keys(  # type: ignore[no-untyped-def]
        ctx, cli_run, tmp_path: Path) -> None:
    load_key_and_csr(ctx, DS)  # the ka certificate's key is not here: not ours
    chain = tmp_path / "ds-ka.pem"
    chain.write_bytes(DS.read_bytes() + KA.read_bytes())
    r = cli_run("--json", "cert", "import", "--at", "2024-06-01", str(chain))
    assert r.code == 1
    doc = r.json()
    assert [c["status"] for c in doc["certificates"]] == [certs.ACCEPTED, certs.UNMATCHED]
    assert doc["status"] == certs.UNMATCHED and doc["accepted"] is False


def test_der_certificates_one_after_another(  # type: ignore[no-untyped-def]
        ctx, cli_run, tmp_path: Path) -> None:
    two = tmp_path / "two.der"
    two.write_bytes(_der(DS) + _der(KA))
    assert to_ders(two.read_bytes()) == [_der(DS), _der(KA)]
    with pytest.raises(InputError, match=r"holds 2 DER objects one after another"):
        to_der(two.read_bytes(), "two.der")
    with pytest.raises(InputError, match=r"holds 2 PEM blocks"):
        to_der(DS.read_bytes() + KA.read_bytes(), "two.pem")
    load_key_and_csr(ctx, DS)
    load_key_and_csr(ctx, KA)
    r = cli_run("--json", "cert", "import", "--at", "2024-06-01", str(two))
    assert r.code == 0, r.out + r.err
    assert [c["status"] for c in r.json()["certificates"]] == [certs.ACCEPTED, certs.ACCEPTED]
    # a trust anchor is one certificate per file: two are refused, naming how many
    r = cli_run("--json", "cert", "anchor", "add", str(two))
    assert r.code == 2 and "holds 2 DER objects" in r.json()["error"]


def test_a_file_with_anything_but_certificates_records_none(  # type: ignore[no-untyped-def]
        ctx, cli_run, tmp_path: Path) -> None:
    load_key_and_csr(ctx, DS)
    mixed = tmp_path / "mixed.pem"
    mixed.write_bytes(DS.read_bytes() + DS.with_suffix(".key").read_bytes())
    r = cli_run("--json", "cert", "import", "--at", "2024-06-01", str(mixed))
    assert r.code == 2 and "[2 of 2]: not an X.509 certificate" in r.json()["error"]
    assert cli_run("--json", "cert", "list").json()["certificates"] == []


def test_expired_certificate_is_headed_as_expired(ctx) -> None:  # type: ignore[no-untyped-def]
    load_key_and_csr(ctx, KA)
    result = certs.import_certificate(ctx, KA.read_bytes(),
                                      at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    assert result.status == certs.TO_BE_REJECTED
    assert "has expired" in result.message
    assert "does not match what was requested" not in result.message


def test_not_yet_valid_certificate_is_headed_so(ctx) -> None:  # type: ignore[no-untyped-def]
    load_key_and_csr(ctx, KA)
    result = certs.import_certificate(ctx, KA.read_bytes(),
                                      at=dt.datetime(2001, 1, 1, tzinfo=dt.UTC))
    assert "is not yet valid" in result.message
    assert "does not match what was requested" not in result.message


def test_a_mismatch_is_still_headed_as_one(ctx) -> None:  # type: ignore[no-untyped-def]
    load_key_and_csr(ctx, KA, eui="90-B3-D5-1F-30-01-00-09")
    result = certs.import_certificate(ctx, KA.read_bytes(), at=WHEN)
    assert result.status == certs.TO_BE_REJECTED
    assert "does not match what was requested" in result.message


@pytest.mark.parametrize("command", [("cert", "import"), ("cert", "anchor", "add")])
def test_certificate_files_are_read_with_a_limit(  # type: ignore[no-untyped-def]
        cli_run, tmp_path: Path, command: tuple[str, ...]) -> None:
    big = tmp_path / "huge.pem"
    with open(big, "wb") as fh:
        fh.truncate(300 * MAX_INPUT)  # sparse: a 300 MiB file that costs no disk
    r = cli_run("--json", *command, str(big))
    assert r.code == 2 and str(big) in r.json()["error"] and "1 MiB" in r.json()["error"]
    r = cli_run("--json", *command, "/dev/zero")
    assert r.code == 2 and "/dev/zero: not a regular file" in r.json()["error"]
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    r = cli_run("--json", *command, str(fifo))  # refused at once, never waiting for a writer
    assert r.code == 2 and "not a regular file" in r.json()["error"]
    r = cli_run("--json", *command, str(tmp_path))
    assert r.code == 2 and "a folder" in r.json()["error"]
