"""The SRO's authorisation of Organisation certificate creation, through the same approval
rules: on by default in Live, off by default in Test (tests turn it on); an Organisation CSR is
sent only with an active SRO's signed authorisation of its exact bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.core.errors import Refusal
from smki_desktop.services import org_csr_approval, portal, simulator_control
from tests.integration.identity_helpers import make_team, sro_authorises
from tests.integration.portal_helpers import org_csr


@pytest.fixture
def team(ctx, cli_run, tmp_path: Path):  # type: ignore[no-untyped-def]
    t = make_team(ctx, cli_run, tmp_path)
    yield t
    simulator_control.stop(ctx)


def test_rule_on_in_test_needs_an_sros_authorisation(ctx, cli_run, team, tmp_path: Path  # type: ignore[no-untyped-def]
                                                     ) -> None:
    assert not org_csr_approval.rule_on(ctx)  # Test: off by default, training stays quick
    ctx.set_setting("approvals.org-csr.enabled", "1")
    der = org_csr(ctx, "90-B3-D5-1F-30-01-00-B1")
    f = tmp_path / "org.csr"
    f.write_bytes(der)
    r = cli_run("portal", "submit", str(f))
    assert r.code == 1 and "only with an active SRO's authorisation" in r.err, r.err
    assert portal.outbox(ctx).items(["queued", "submitted", "done"]) == []
    r = cli_run("csr", "authorise", str(f), "--as", team.aro, "--key", team.aro_key)
    assert r.code == 1 and "is an ARO in the register" in r.err, r.err
    r = cli_run("--json", "csr", "authorise", str(f), "--as", team.sro, "--key", team.sro_key)
    assert r.code == 0, r.err
    aid = r.json()["id"]
    r = cli_run("--json", "portal", "submit", str(f))
    assert r.code == 0, r.err
    assert r.json()["meta"]["authorisation"] == aid
    # another CSR is not covered by that authorisation
    other = tmp_path / "other.csr"
    other.write_bytes(org_csr(ctx, "90-B3-D5-1F-30-01-00-B2"))
    assert cli_run("portal", "submit", str(other)).code == 1


def test_live_default_on(live_ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert org_csr_approval.rule_on(live_ctx)
    der = org_csr(live_ctx, "90-B3-D5-1F-30-01-00-B3")
    with pytest.raises(Refusal, match="Live environment an Organisation CSR is sent only"):
        portal.submit_org_csr(live_ctx, der)
    sro_authorises(live_ctx, cli_run, tmp_path, der)
    assert portal.submit_org_csr(live_ctx, der).item.meta["channel"] == "browser-portal"
