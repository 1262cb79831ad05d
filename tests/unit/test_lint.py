"""Lint against the real DCC test certificates and one crafted file per rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError
from smki_desktop.core.eui import Eui64
from smki_desktop.core.keys import KeyUsage
from smki_desktop.core.lint_rules import RULES, Severity
from smki_desktop.core.roles import RemotePartyRole
from smki_desktop.crypto.der import encode, to_der
from smki_desktop.crypto.fields import extract_fields
from smki_desktop.crypto.lint import lint_bytes
from smki_desktop.profile_data import load_profile

FIX = Path(__file__).resolve().parents[1] / "fixtures"
PKI = FIX / "dcc-test-pki"
LINT = FIX / "lint"
TEST = load_profile(Environment.TEST)
LIVE = load_profile(Environment.LIVE)

CLEAN = sorted((PKI / "organisation").glob("*.pem")) + sorted((PKI / "device").glob("*.pem"))
RULE_FILES = sorted(p for p in LINT.glob("*.pem") if not p.name.startswith("ok-"))


@pytest.mark.parametrize("path", CLEAN, ids=lambda p: p.name)
def test_dcc_test_certificates_lint_without_error(path: Path) -> None:
    report = lint_bytes(path.read_bytes(), TEST, path.name)
    assert report.ok, [str(f) for f in report.findings]
    assert report.findings == []
    assert report.kind == "certificate"
    assert report.family == ("device" if path.parent.name == "device" else "organisation")


@pytest.mark.parametrize("path", sorted((PKI / "quirks").glob("*.pem")), ids=lambda p: p.name)
def test_quirks_give_missing_aki(path: Path) -> None:
    report = lint_bytes(path.read_bytes(), TEST, path.name)
    assert report.rule_ids == ["aki.missing"]
    assert not report.ok


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_each_crafted_file_gives_exactly_its_rule(path: Path) -> None:
    rule = path.name.rsplit(".", 2)[0]
    report = lint_bytes(path.read_bytes(), TEST, path.name)
    assert report.rule_ids == [rule], [str(f) for f in report.findings]
    assert report.findings[0].severity is RULES[rule].severity


def test_every_file_rule_has_a_crafted_file() -> None:
    crafted = {p.name.rsplit(".", 2)[0] for p in RULE_FILES}
    # profile.unconfigured depends on the profile, not the file: see the Live test below
    assert set(RULES) - crafted == {"profile.unconfigured"}


@pytest.mark.parametrize("path", sorted(LINT.glob("ok-*.pem")), ids=lambda p: p.name)
def test_controls_are_clean(path: Path) -> None:
    assert lint_bytes(path.read_bytes(), TEST, path.name).findings == []


def test_live_profile_without_values_warns_unconfigured() -> None:
    path = PKI / "organisation" / "90b3d51f30010000-ds.pem"
    report = lint_bytes(path.read_bytes(), LIVE, path.name)
    assert report.rule_ids == ["profile.unconfigured"]
    assert report.findings[0].severity is Severity.WARNING
    assert report.ok


def test_serial_length_is_only_a_warning() -> None:
    report = lint_bytes((LINT / "cert.serial-length.crt.pem").read_bytes(), TEST)
    assert report.ok and report.findings[0].severity is Severity.WARNING


def test_uid_utf8_message_names_the_encoding() -> None:
    report = lint_bytes((LINT / "subject.uid-encoding.csr.pem").read_bytes(), TEST)
    assert "UTF8String" in report.findings[0].message


@pytest.mark.parametrize("fmt", ["pem", "base64", "base64-64", "base64-76", "der"])
@pytest.mark.parametrize("crlf", [False, True])
def test_every_encoding_reads_the_same(fmt: str, crlf: bool) -> None:
    der = to_der((PKI / "device" / "00db123456789003-ka.pem").read_bytes())
    data = encode(der, fmt, label="CERTIFICATE", crlf=crlf)
    assert to_der(data) == der
    assert lint_bytes(data, TEST).findings == []


def test_not_a_csr_or_certificate_is_input_error() -> None:
    with pytest.raises(InputError, match=r"not PEM, DER or Base64"):
        lint_bytes((LINT / "not-a-csr.txt").read_bytes(), TEST, "not-a-csr.txt")
    with pytest.raises(InputError, match=r"not a PKCS#10 CSR or an X.509 certificate"):
        lint_bytes(b"\x30\x03\x02\x01\x05", TEST, "tiny.der")


def test_field_extraction_org_and_device() -> None:
    org = extract_fields((PKI / "organisation" / "90b3d51f30010000-ds.pem").read_bytes())
    assert org.role is RemotePartyRole.SUPPLIER and org.ou == "02"
    assert org.eui == Eui64.parse("90-B3-D5-1F-30-01-00-00")
    assert org.cn == "GITTESTSUPPLIER" and org.usage is KeyUsage.SIGNING
    assert org.serial == 0x4FBC525201A1D7586C1BC1C4734DEB9F
    assert org.issuer == "OU=07,CN=Z1"
    assert org.policy_oids == ("1.2.826.0.1.8641679.1.2.1.4",)
    dev = extract_fields((PKI / "device" / "00db123456789005-ka.pem").read_bytes())
    assert dev.family == "device" and dev.usage is KeyUsage.KEY_AGREEMENT
    assert dev.device_eui == Eui64.parse("00-DB-12-34-56-78-90-05")
    assert dev.hw_type == "1.2.826.0.1.8641679.1.2.2.1"
    assert dev.not_after is not None and dev.not_after.year == 9999


def test_copied_fixture_has_subject_of_other_eui() -> None:
    f = extract_fields((PKI / "organisation" / "90b3d51f30000007-ka.pem").read_bytes())
    assert f.eui == Eui64.parse("90B3D51F30030000")


def test_damaged_files_are_input_errors_never_crashes() -> None:
    """Random byte damage to real and crafted files: a report or an InputError, nothing else."""
    import random

    files = [to_der(p.read_bytes()) for p in [*CLEAN[:6], *RULE_FILES[:10]]]
    rnd = random.Random(20261122)
    outcomes = {"report": 0, "input-error": 0}
    for _ in range(800):
        data = bytearray(rnd.choice(files))
        for _ in range(rnd.randint(1, 3)):
            data[rnd.randrange(len(data))] = rnd.randrange(256)
        try:
            lint_bytes(bytes(data), TEST)
            extract_fields(bytes(data))
            outcomes["report"] += 1
        except InputError:
            outcomes["input-error"] += 1
    assert outcomes["report"] > 0 and outcomes["input-error"] > 0
