"""The DCC's own SMKI Repository client (npm `@smartdcc/dccboxed-keystore`, installed into
tests/.npm by `packaging/setup.sh --test`) searches our simulator for an Organisation and a
Device certificate the app had issued, retrieves them and reads them with the DCC's code."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop.services import portal, repository, simulator_control
from tests.integration.identity_helpers import make_team, revoke_with_dual_control
from tests.integration.portal_helpers import device_csrs, enrolled, org_csr

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "tests" / ".npm" / "node_modules"
SCRIPT = ROOT / "tests" / "support" / "dcc_repository_client.js"


@pytest.fixture
def team(ctx, cli_run, tmp_path):  # type: ignore[no-untyped-def]
    """The simulator with an ARO and an SRO holding their own credentials (issue 11: a
    revocation goes to the DCC only with the ARO's request and an SRO's approval)."""
    (tmp_path / "officers").mkdir()
    t = make_team(ctx, cli_run, tmp_path / "officers", enrolled(ctx))
    yield t
    simulator_control.stop(ctx)


def _dcc_client(base: str, anchor_pem: bytes, queries: list[dict[str, Any]],
                tmp: Path) -> list[list[dict[str, Any]]]:
    node = shutil.which("node")
    assert node, "node is missing: run packaging/setup.sh --test"
    assert (NODE_MODULES / "@smartdcc" / "dccboxed-keystore").is_dir(), \
        "the DCC's client is missing from tests/.npm: run packaging/setup.sh --test"
    ca = tmp / "anchor.pem"
    ca.write_bytes(anchor_pem)
    env = dict(os.environ, NODE_PATH=str(NODE_MODULES), NODE_EXTRA_CA_CERTS=str(ca))
    run = subprocess.run([node, str(SCRIPT), base, json.dumps(queries)], env=env,
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    out: list[list[dict[str, Any]]] = json.loads(run.stdout)
    return out


def test_the_dcc_client_finds_and_retrieves_what_the_app_issued(ctx, cli_run, team,  # type: ignore[no-untyped-def]
                                                                 tmp_path) -> None:
    sim = team.sim
    # an Organisation certificate, issued through the app's own outbox and accepted
    ref = portal.submit_org_csr(ctx, org_csr(ctx, "90-B3-D5-1F-30-01-00-61")).item.ref
    time.sleep(0.3)
    portal.poll(ctx, force=True)
    org = x509.load_der_x509_certificate(portal.outbox(ctx).get(ref).result or b"")
    # two Device certificates (signing, key agreement) from a web-service batch
    item = portal.enqueue_device_batch(ctx, device_csrs(2, 0x00DB1234567F0000))
    portal.send_pending(ctx)
    time.sleep(0.8)
    portal.poll(ctx, force=True)
    issued = {r.item_id: r.certificate_der for r in portal.batch_results(ctx, item.ref)}
    dev_ds = x509.load_der_x509_certificate(issued["d00DB1234567F00000"] or b"")

    found = _dcc_client(sim.repository_url, sim.trust_anchor_pem, [
        {"q": {"CertificateSubjectName": "90-B3-D5-1F-30-01-00-61"}, "role": "2",
         "usage": "DS", "status": "I"},
        {"q": {"CertificateSubjectAltName": "00-DB-12-34-56-7F-00-00"}, "usage": "DS",
         "status": "I"},
        {"serial": f"{org.serial_number:032X}"},
        {"q": {"CertificateSubjectAltName": "00-DB-12-34-56-7F-99-99"}, "usage": "DS",
         "status": "I"},
    ], tmp_path)
    org_hits, dev_hits, by_serial, nothing = found
    assert [base64.b64decode(h["der"]) for h in org_hits] == [
        org.public_bytes(serialization.Encoding.DER)]
    assert org_hits[0]["meta"]["role"] == 2
    assert org_hits[0]["meta"]["eui"]["eui"].upper().replace("-", "") == "90B3D51F30010061"
    assert [base64.b64decode(h["der"]) for h in dev_hits] == [
        dev_ds.public_bytes(serialization.Encoding.DER)]
    assert dev_hits[0]["meta"]["eui"]["eui"].upper().replace("-", "") == "00DB1234567F0000"
    assert [h["serial"] for h in by_serial] == [f"{org.serial_number:X}".rjust(32, "0")]
    assert nothing == []  # HTTP 402: no certificate

    # after a revocation the DCC's client no longer finds it "in use", but as revoked "R"
    revoke_with_dual_control(ctx, cli_run, team, f"{org.serial_number:X}", "superseded")
    in_use, revoked = _dcc_client(sim.repository_url, sim.trust_anchor_pem, [
        {"q": {"CertificateSubjectName": "90-B3-D5-1F-30-01-00-61"}, "role": "2",
         "usage": "DS", "status": "I"},
        {"q": {"CertificateSubjectName": "90-B3-D5-1F-30-01-00-61"}, "role": "2",
         "usage": "DS", "status": "R"}], tmp_path)
    assert in_use == [] and len(revoked) == 1
    # and the app's own search says the same
    assert [e.status for e in repository.search(ctx, subject_eui="90B3D51F30010061").entries] \
        == ["R"]
