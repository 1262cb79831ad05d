"""The whole ARO path against the embedded Test simulator, through the CLI: the simulator issues
the file-signing credential (`smki credential request --purpose file-signing`), the ADT file is
signed with it, and OpenSSL verifies the signature against the simulator's root."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from smki_desktop.services import adt as adt_service
from smki_desktop.services import simulator_control
from tests.integration.adt_support import assert_openssl_ok


@pytest.fixture
def stop_sim(ctx):  # type: ignore[no-untyped-def]
    yield
    simulator_control.stop(ctx)


@pytest.mark.slow
def test_simulator_issued_file_signing_credential_signs_adt(ctx, cli_run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                            stop_sim) -> None:
    assert cli_run("profile", "set", "--name", "Ann Officer", "--role", "aro").code == 0
    assert cli_run("party", "set", "--name", "Acme Energy Ltd", "--party-id", "ACME",
                   "--party-type", "import-supplier", "--eui-range",
                   "90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF").code == 0
    # the simulator issues a file-signing credential only to a verified, named officer
    from tests.integration.adt_support import simulator_active_aro

    # an ARO signs only in active standing (activated by the SRO's signature), through the
    # simulator's credential naming their entry
    _aro, key_id = simulator_active_aro(ctx, cli_run, tmp_path)

    anchors = adt_service.trust_anchors(ctx)
    assert anchors, "the simulator's root should be this Test installation's anchor"
    root_pem = tmp_path / "sim-root.pem"
    root_pem.write_bytes(b"".join(a.public_bytes(serialization.Encoding.PEM) for a in anchors))

    f = tmp_path / "adt.csv"
    assert cli_run("adt", "template", "--out", str(f)).code == 0
    r = cli_run("adt", "sign", str(f), "--key", key_id[:12], "--smsr", "SMSR-SIM-1", "--json")
    assert r.code == 0, r.err
    out = r.json()
    assert out["chain_checked"] is True and out["warnings"] == []
    sig = Path(out["signature"])
    assert_openssl_ok(f, sig, root_pem)
    assert_openssl_ok(Path(out["manifest"]), Path(out["manifest_signature"]), root_pem)
    manifest = json.loads(Path(out["manifest"]).read_text())
    signer = adt_service.verify_file(ctx, f).verified.signer_certificate
    assert signer is not None
    assert manifest["signer"]["serial"] == f"{signer.serial_number:X}"
    r = cli_run("adt", "verify", str(f), "--json")
    assert r.code == 0 and r.json()["chain_checked"] is True
    # delivery: the package goes to the simulator's emulated secure channel over mutual TLS
    # (the web-service credential), and the same package again gets the same reference
    r = cli_run("credential", "request", "--purpose", "web-service", "--role", "supplier",
                "--json")
    assert r.code == 0, r.err
    r = cli_run("adt", "deliver", str(f), "--send", "--json")
    assert r.code == 0, r.err
    sent = r.json()
    assert sent["remote_ref"].startswith("ADT-") and sent["sent_to"].endswith("/adt-upload")
    r = cli_run("adt", "deliver", str(f), "--send", "--overwrite", "--json")
    assert r.code == 0 and r.json()["remote_ref"] == sent["remote_ref"], r.err
    events = cli_run("adt", "history", str(f), "--json").json()["events"]
    assert [e["event"] for e in events] == ["signed", "delivered", "delivered"]
    assert events[1]["sent_to"] == sent["sent_to"]
