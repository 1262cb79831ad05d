"""The CLI end to end: keys in the real OS keyring, CSRs in every form verified by OpenSSL,
lint exit codes, certificate import/list/export."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

PKI = Path(__file__).resolve().parents[1] / "fixtures" / "dcc-test-pki"
LINT = Path(__file__).resolve().parents[1] / "fixtures" / "lint"


def openssl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *args], capture_output=True, text=True)


def new_key(cli_run, usage: str = "signing") -> str:  # type: ignore[no-untyped-def]
    res = cli_run("key", "generate", "--usage", usage, "--label", f"org {usage}", "--json")
    assert res.code == 0, res.err
    return str(json.loads(res.out)["key_id"])


@pytest.mark.parametrize("fmt,crlf", [("pem", False), ("pem", True), ("base64", False),
                                      ("base64-64", True), ("base64-76", False), ("der", False)])
def test_csr_forms_verify_with_openssl(cli_run, tmp_path: Path, fmt: str,  # type: ignore[no-untyped-def]
                                       crlf: bool) -> None:
    key = new_key(cli_run, "key-agreement")
    out = tmp_path / f"org.{fmt}"
    args = ["csr", "org", "--key", key[:12], "--role", "supplier", "--eui",
            "90-b3-d5-1f-30-01-00-00", "--cn", "ACME", "--out", str(out), "--format", fmt]
    res = cli_run(*args, *(["--crlf"] if crlf else []))
    assert res.code == 0, res.err
    data = out.read_bytes()
    if fmt == "der":  # binary: the DER itself, whose signature bytes may hold CR LF by chance
        from cryptography import x509

        assert x509.load_der_x509_csr(data).public_bytes(Encoding.DER) == data  # nothing added
    else:
        assert (b"\r\n" in data) == crlf
    # OpenSSL reads PEM or DER: make both from whatever form was written
    pem = tmp_path / "check.pem"
    if fmt == "der":
        der_path = out
    else:
        import base64

        der_path = tmp_path / "check.der"
        body = b"".join(ln for ln in data.splitlines() if not ln.startswith(b"-----"))
        der_path.write_bytes(base64.b64decode(body))
    conv = openssl("req", "-inform", "DER", "-in", str(der_path), "-out", str(pem))
    assert conv.returncode == 0, conv.stderr
    verify = openssl("req", "-in", str(pem), "-noout", "-verify")
    assert verify.returncode == 0 and "verify OK" in verify.stdout + verify.stderr
    parsed = openssl("asn1parse", "-in", str(pem)).stdout
    uid_line = [ln for ln in parsed.splitlines() if "x500UniqueIdentifier" in ln]
    following = parsed.splitlines()[parsed.splitlines().index(uid_line[0]) + 1]
    assert "BIT STRING" in following and "UTF8STRING" not in following
    lint = cli_run("lint", str(out))
    assert lint.code == 0 and ": ok (organisation CSR)" in lint.out
    # the key is not offered again
    again = cli_run(*args[:-4], "--out", str(tmp_path / "again.pem"))
    assert again.code == 1 and "already has a CSR" in again.err
    assert cli_run("csr", "keys").out.startswith("No key that may get a CSR")


def test_existing_output_is_not_replaced(cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    key = new_key(cli_run)
    out = tmp_path / "exists.pem"
    out.write_text("keep me")
    res = cli_run("csr", "org", "--key", key, "--role", "02", "--eui", "90B3D51F30010000",
                  "--out", str(out))
    assert res.code != 0 and "already exists" in res.err
    assert out.read_text() == "keep me"
    # refused before the key was used: nothing recorded, the key is still offered and works
    assert json.loads(cli_run("csr", "list", "--json").out)["csrs"] == []
    assert [k["key_id"] for k in json.loads(cli_run("csr", "keys", "--json").out)["keys"]] \
        == [key]
    audit = cli_run("audit", "list", "--json")
    assert "csr.org.create" not in audit.out
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    res = cli_run("csr", "org", "--key", key, "--role", "02", "--eui", "90B3D51F30010000",
                  "--out", str(not_a_folder / "x.pem"))
    assert res.code == 1 and "is not a folder" in res.err
    assert json.loads(cli_run("csr", "list", "--json").out)["csrs"] == []
    fresh = tmp_path / "fresh.pem"
    res = cli_run("csr", "org", "--key", key, "--role", "02", "--eui", "90B3D51F30010000",
                  "--out", str(fresh))
    assert res.code == 0, res.err
    assert openssl("req", "-in", str(fresh), "-noout", "-verify").returncode == 0


def test_csr_export_writes_a_stored_csr_again(cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    key = new_key(cli_run)
    first = tmp_path / "first.pem"
    made = cli_run("csr", "org", "--key", key, "--role", "02", "--eui", "90B3D51F30010000",
                   "--out", str(first), "--json")
    assert made.code == 0, made.err
    csr_id = json.loads(made.out)["csr_id"]
    listed = json.loads(cli_run("csr", "list", "--json").out)["csrs"]
    assert [r["csr_id"] for r in listed] == [csr_id] and listed[0]["key_id"] == key
    pem, der = tmp_path / "again.pem", tmp_path / "again.der"
    assert cli_run("csr", "export", str(csr_id), "--out", str(pem), "--pem").code == 0
    assert pem.read_bytes() == first.read_bytes()
    res = cli_run("csr", "export", str(csr_id), "--out", str(der), "--der")
    assert res.code == 0, res.err
    verify = openssl("req", "-inform", "DER", "-in", str(der), "-noout", "-verify")
    assert verify.returncode == 0 and "verify OK" in verify.stdout + verify.stderr
    again = cli_run("csr", "export", str(csr_id), "--out", str(der), "--der")
    assert again.code == 1 and "already exists" in again.err
    assert cli_run("csr", "export", str(csr_id), "--out", str(der), "--der",
                   "--overwrite").code == 0
    missing = cli_run("csr", "export", "999", "--out", str(tmp_path / "none.pem"))
    assert missing.code == 1 and "No CSR 999" in missing.err
    assert not (tmp_path / "none.pem").exists()
    audit = cli_run("audit", "list", "--json").out
    assert audit.count("csr.org.export") == 4


def test_bad_input_names_the_field(cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    key = new_key(cli_run)
    res = cli_run("csr", "org", "--key", key, "--role", "plumber", "--eui", "90B3D51F30010000",
                  "--out", str(tmp_path / "x.pem"))
    assert res.code == 2 and "Role 'plumber'" in res.err
    res = cli_run("csr", "org", "--key", key, "--role", "02", "--eui", "90B3D51F3001",
                  "--out", str(tmp_path / "x.pem"))
    assert res.code == 2 and "EUI" in res.err
    assert not (tmp_path / "x.pem").exists()


def test_role_not_allowed_for_the_party_type_is_a_refusal(cli_run, ctx,  # type: ignore[no-untyped-def]
                                                          tmp_path: Path) -> None:
    """Well-formed but forbidden by the profile for this party type: exit 1 (a refusal), not 2
    (bad input), and said in English ("an import-supplier")."""
    from smki_desktop.core.eui import EuiRange
    from smki_desktop.core.party import PartyProfile, PartyType
    from smki_desktop.services.party import set_party

    own = EuiRange.parse("90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF")
    set_party(ctx, PartyProfile(name="Imp", party_id="IMPS",
                                party_type=PartyType("import-supplier"), eui_ranges=(own,)))
    ctx.close()
    key = new_key(cli_run, "key-agreement")
    res = cli_run("csr", "org", "--key", key, "--role", "networkOperator", "--eui",
                  "90B3D51F30010000", "--out", str(tmp_path / "x.pem"))
    assert res.code == 1 and "Role: an import-supplier may request" in res.err
    res = cli_run("csr", "org", "--key", key, "--role", "xmlSign", "--eui",
                  "90B3D51F30010000", "--out", str(tmp_path / "x.pem"))
    assert res.code == 1 and "for an import-supplier, not key-agreement" in res.err
    assert not (tmp_path / "x.pem").exists()
    assert json.loads(cli_run("csr", "list", "--json").out)["csrs"] == []


def test_lint_exit_codes_and_json(cli_run) -> None:  # type: ignore[no-untyped-def]
    clean = [str(p) for p in sorted((PKI / "organisation").glob("*.pem"))]
    assert cli_run("lint", *clean).code == 0
    quirks = cli_run("lint", *[str(p) for p in (PKI / "quirks").glob("*.pem")])
    assert quirks.code == 1 and quirks.out.count("aki.missing") == 2
    res = cli_run("lint", "--json", str(LINT / "subject.uid-encoding.csr.pem"),
                  str(LINT / "not-a-csr.txt"))
    assert res.code == 2
    doc = json.loads(res.out)
    assert doc["files"][0]["findings"][0]["rule"] == "subject.uid-encoding"
    assert "error" in doc["files"][1]


def test_cert_import_list_export(cli_run, ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pem = PKI / "organisation" / "90b3d51f30020000-ds.pem"
    from smki_desktop.core.keys import KeyUsage

    info = ctx.keystore.import_private_key(pem.with_suffix(".key").read_bytes(),
                                           KeyUsage.SIGNING, "published test key")
    ctx.close()
    made = cli_run("csr", "org", "--key", info.key_id, "--role", "networkOperator", "--eui",
                   "90-B3-D5-1F-30-02-00-00", "--out", str(tmp_path / "n.csr"))
    assert made.code == 0, made.err
    res = cli_run("cert", "import", str(pem), "--at", "2024-06-01T00:00:00Z")
    assert res.code == 0 and res.out.startswith("Accepted"), res.out + res.err
    again = cli_run("cert", "import", str(pem), "--at", "2024-06-01T00:00:00Z", "--json")
    assert json.loads(again.out)["duplicate"] is True
    now = cli_run("cert", "import", str(PKI / "organisation" / "90b3d51f30020000-ka.pem"))
    assert now.code == 1 and "Recorded, not ours" in now.out
    lst = json.loads(cli_run("cert", "list", "--json", "--role", "03").out)
    assert len(lst["certificates"]) == 2
    out = tmp_path / "exported.pem"
    exp = cli_run("cert", "export", "4FC0252E553ECD05D4F72DCFAD55C8E7", "--out", str(out))
    assert exp.code == 0
    assert openssl("x509", "-in", str(out), "-noout", "-serial").stdout.strip() == \
        "serial=4FC0252E553ECD05D4F72DCFAD55C8E7"
    live = cli_run("cert", "import", str(pem), env="live")
    assert live.code == 1 and "Test environment" in live.err and "Live environment" in live.err
