"""A compromise incident and Method 1 recovery end to end: record the suspected compromise,
the SRO's signed confirmation, re-key in one step (new keys and replacement CSRs for every
affected role and usage, lint clean and verified by openssl), the revocation of the old
certificates through the SRO's approval and the simulator, the checklist until the incident
closes, and the audit log showing who did what."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from cryptography import x509

from smki_desktop.core.keys import KeyUsage
from smki_desktop.services import portal, simulator_control
from tests.integration.identity_helpers import issue_org, make_team, serial_of
from tests.integration.portal_helpers import org_csr


@pytest.fixture
def team(ctx, cli_run, tmp_path: Path):  # type: ignore[no-untyped-def]
    t = make_team(ctx, cli_run, tmp_path)
    yield t
    simulator_control.stop(ctx)


def test_incident_rekey_revoke_and_close(ctx, cli_run, team, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sign = issue_org(ctx, "90-B3-D5-1F-30-01-00-A1")
    ref = portal.submit_org_csr(ctx, org_csr(ctx, "90-B3-D5-1F-30-01-00-A1",
                                             KeyUsage.KEY_AGREEMENT)).item.ref
    for _ in range(20):
        time.sleep(0.3)
        portal.poll(ctx, force=True)
        if portal.outbox(ctx).get(ref).result:
            break
    ka = x509.load_der_x509_certificate(portal.outbox(ctx).get(ref).result or b"")
    r = cli_run("--json", "incident", "open", "--when", "2026-12-03T22:10:00Z",
                "--reported-by", "DCC Service Desk", "--description", "HSM backup tape lost",
                "--cert", serial_of(sign), "--cert", serial_of(ka))
    assert r.code == 0, r.err
    iid = r.json()["id"]
    assert {c["usage"] for c in r.json()["certificates"]} == {"signing", "key-agreement"}
    out = tmp_path / "replacements"
    # re-keying waits for the SRO's confirmation; an ARO cannot confirm
    r = cli_run("incident", "rekey", iid, "--out", str(out), "--as", team.aro, "--key",
                team.aro_key)
    assert r.code == 1 and "follows the SRO's confirmation" in r.err, r.err
    r = cli_run("incident", "confirm", iid, "--outcome", "confirmed", "--as", team.aro,
                "--key", team.aro_key)
    assert r.code == 1 and "is an ARO in the register" in r.err, r.err
    r = cli_run("incident", "confirm", iid, "--outcome", "confirmed", "--as", team.sro,
                "--key", team.sro_key)
    assert r.code == 0, r.err
    r = cli_run("--json", "incident", "rekey", iid, "--out", str(out), "--as", team.aro,
                "--key", team.aro_key)
    assert r.code == 0, r.err
    rk = r.json()["rekey"]
    assert {c["usage"] for c in rk["csrs"]} == {"signing", "key-agreement"}
    for c in rk["csrs"]:
        assert c["lint_ok"]
        lint = cli_run("lint", c["path"])
        assert lint.code == 0, lint.out + lint.err
        ossl = subprocess.run(["openssl", "req", "-in", c["path"], "-noout", "-verify"],
                              capture_output=True, text=True)
        assert ossl.returncode == 0 and "verify OK" in (ossl.stdout + ossl.stderr)
    rid = rk["revocation"]
    status = cli_run("--json", "revoke", "status", rid).json()
    assert status["state"] == "waiting" and status["incident"] == iid
    assert status["urgency"] == "urgent" and status["reason"] == "keyCompromise"
    assert {c["serial"].lstrip("0") for c in status["certificates"]} == \
        {serial_of(sign), serial_of(ka)}
    # closing now is refused, naming what is still open
    r = cli_run("incident", "close", iid)
    assert r.code == 1 and "checklist is complete" in r.err and "Replacement certificates" \
        in r.err, r.err
    # the revocation goes through the SRO's approval and the simulator
    assert cli_run("revoke", "approve", rid, "--as", team.sro, "--key", team.sro_key).code == 0
    assert cli_run("revoke", "submit", rid).code == 0
    # the replacement CSRs go to the portal; their certificates pass the acceptance check
    for c in rk["csrs"]:
        r = cli_run("portal", "submit", c["path"])
        assert r.code == 0, r.err
    for _ in range(20):
        time.sleep(0.3)
        assert cli_run("portal", "poll", "--force").code == 0
        shown = cli_run("--json", "incident", "show", iid).json()
        if all(i["done"] for i in shown["checklist"]):
            break
    assert all(i["done"] for i in shown["checklist"]), shown["checklist"]
    assert cli_run("--json", "revoke", "status", rid).json()["state"] == "revoked"
    r = cli_run("incident", "close", iid, "--note", "recovered by Method 1")
    assert r.code == 0, r.err
    # the audit log shows who did what
    acts = [(e.action, e.details.get("by")) for e in ctx.audit.entries()]
    assert ("incident.confirm", team.sro) in acts and ("incident.rekey", team.aro) in acts
    assert ("revoke.approve", team.sro) in acts and any(a == "incident.close" for a, _ in acts)
