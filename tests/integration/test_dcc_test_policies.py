"""The DCC's published Test certificate policies always mark a certificate as Test's: a Live
profile override that lists them is refused (naming both environments), so DCC Test
certificates never pass `lint` or import in Live; and a Test override that drops them does not
make a DCC Test certificate pass in Live either."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import EnvironmentMismatch
from smki_desktop.core.profiles import parse_profile
from smki_desktop.profile_data import bundled_profile_path

FIXTURES = Path(__file__).parent.parent / "fixtures" / "dcc-test-pki"
ORG = FIXTURES / "organisation" / "90b3d51f30000001-ds.pem"
DEVICE = FIXTURES / "device" / "00db123456789001-ds.pem"


def _test_profile_doc() -> dict:
    return json.loads(bundled_profile_path(Environment.TEST).read_text())


def _write_override(data_root: Path, env: str, doc: dict) -> None:
    d = data_root / env / "profiles"
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{env}.json").write_text(json.dumps(doc))


def _names_both(text: str) -> bool:
    return "Test environment" in text and "Live environment" in text


def _live_override_with_test_policies(data_root: Path) -> None:
    """The reviewer's reproduction: Test's bundled profile copied as Live's override."""
    _write_override(data_root, "live", dict(_test_profile_doc(), environment="live"))


def test_the_bundled_test_profile_lists_every_dcc_test_policy() -> None:
    from smki_desktop.core.profiles import DCC_TEST_POLICY_OIDS

    prof = parse_profile(bundled_profile_path(Environment.TEST).read_bytes(), Environment.TEST)
    assert prof.org_policy_oids | prof.device_policy_oids == DCC_TEST_POLICY_OIDS


@pytest.mark.parametrize("family", ["organisation", "device"])
def test_a_live_profile_listing_a_test_policy_is_refused(family: str) -> None:
    doc = json.loads(bundled_profile_path(Environment.LIVE).read_text())
    oid = sorted(_test_profile_doc()[family]["policy_oids"])[0]
    doc[family]["policy_oids"] = ["1.2.3.4", oid]
    with pytest.raises(EnvironmentMismatch) as exc:
        parse_profile(json.dumps(doc), Environment.LIVE)
    assert oid in exc.value.message and "Test" in exc.value.message
    assert "Live environment" in exc.value.message
    doc[family]["policy_oids"] = ["1.2.3.4"]
    assert "1.2.3.4" in parse_profile(json.dumps(doc), Environment.LIVE).policy_oids(family)


@pytest.mark.parametrize("pem", [ORG, DEVICE], ids=["organisation", "device"])
def test_live_lint_refuses_dcc_test_certificates_under_a_test_policy_override(
        cli_run, data_root: Path, pem: Path) -> None:
    _live_override_with_test_policies(data_root)
    r = cli_run("lint", str(pem), env="live")
    assert r.code != 0, r.out
    assert "Test" in r.err and "Live environment" in r.err, r.err
    assert cli_run("lint", str(pem), env="test").code == 0


def test_live_import_refuses_a_dcc_test_certificate_under_a_test_policy_override(
        cli_run, data_root: Path) -> None:
    _live_override_with_test_policies(data_root)
    r = cli_run("cert", "import", str(ORG), env="live")
    assert r.code != 0, r.out
    assert "Test" in r.err and "Live environment" in r.err, r.err
    assert cli_run("cert", "list", "--json", env="live").json()["certificates"] == []


@pytest.mark.parametrize("pem", [ORG, DEVICE], ids=["organisation", "device"])
def test_a_dcc_test_policy_marks_test_whatever_the_test_override_lists(
        cli_run, data_root: Path, pem: Path) -> None:
    doc = _test_profile_doc()
    doc["organisation"]["policy_oids"] = ["1.2.3.4.1"]
    doc["device"]["policy_oids"] = ["1.2.3.4.2"]
    _write_override(data_root, "test", doc)
    r = cli_run("lint", str(pem), "--json", env="live")
    assert r.code == 1
    err = r.json()["files"][0]["error"]
    assert _names_both(err) and "DCC's Test certificate policy" in err, err
    r = cli_run("cert", "import", str(pem), env="live")
    assert r.code != 0 and _names_both(r.err), r.err
