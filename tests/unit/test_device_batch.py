"""Batch rules on checked device CSRs: CSV layout, duplicates, device range, 100 per device;
and the fast device certificate check on the DCC's own test device certificates."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography import x509

from smki_desktop.core import device_batch as batch
from smki_desktop.core.errors import InputError
from smki_desktop.core.eui import EuiRange
from smki_desktop.crypto import device_csr as dc
from smki_desktop.crypto.device_cert import check_device_certificate, read_facts

FIXTURES = Path(__file__).parents[1] / "fixtures" / "dcc-test-pki" / "device"
HW = (dc.TEST_HW_TYPE,)


def _eui(i: int) -> bytes:
    return (0x00DB123456000000 + i).to_bytes(8, "big")


def _entries(plan: list[tuple[bytes, str]]) -> tuple[list[batch.SourceEntry], list[tuple]]:
    gen = dc.generate_many(plan, keep_keys=False, processes=1)
    entries = [batch.SourceEntry("src.zip", f"f{i}.csr", g[2]) for i, g in enumerate(gen)]
    return entries, dc.check_many([e.der for e in entries], HW, processes=1)


def test_csv_round_trip_and_line_numbers() -> None:
    gen = dc.generate_many([(_eui(1), dc.SIGNING), (_eui(1), dc.KEY_AGREEMENT)],
                           keep_keys=False, processes=1)
    data = batch.build_csv((e, u, d) for e, u, d, _ in gen)
    bad = (b"00-DB-12-34-56-00-00-09,signing,!!!\n"
           b"not-an-eui,signing,AAAA\n"
           b"00DB123456000002,encrypt," + base64.b64encode(gen[0][2]) + b"\n"
           b"00DB123456000002,signing\n")
    entries, rejects = batch.parse_csv(data.replace(b"\n", b"\r\n") + bad, "devices.csv")
    assert [(e.locator, e.declared_eui, e.declared_usage) for e in entries] == [
        ("line 2", _eui(1), dc.SIGNING), ("line 3", _eui(1), dc.KEY_AGREEMENT)]
    assert [r.locator for r in rejects] == ["line 4", "line 5", "line 6", "line 7"]
    assert "Base64" in rejects[0].reason and "device_eui" in rejects[1].reason
    assert "encrypt" in rejects[2].reason and "columns" in rejects[3].reason


def test_csv_header_is_required() -> None:
    with pytest.raises(InputError, match="line 1"):
        batch.parse_csv(b"eui,usage,csr\n", "x.csv")
    with pytest.raises(InputError, match="empty"):
        batch.parse_csv(b"\n\n", "x.csv")


def test_duplicates_range_declared_and_limit() -> None:
    plan = [(_eui(1), dc.SIGNING), (_eui(1), dc.SIGNING), (_eui(2), dc.SIGNING),
            (_eui(3), dc.KEY_AGREEMENT), (_eui(900), dc.SIGNING), (_eui(4), dc.SIGNING)]
    entries, checks = _entries(plan)
    entries.append(batch.SourceEntry("other.csv", "line 9", entries[2].der))  # same key again
    checks.append(checks[2])
    entries[5].declared_usage = dc.KEY_AGREEMENT  # the CSV said otherwise
    known_counts = {_eui(3): 100}
    out = batch.assess(entries, checks, device_ranges=[EuiRange.parse(
        "00-DB-12-34-56-00-00-00..00-DB-12-34-56-00-00-FF")], known_counts=known_counts)
    assert [a.locator for a in out.accepted] == ["f0.csr", "f2.csr"]
    got = {r.locator: r.code for r in out.rejected}
    assert got == {"f1.csr": "duplicate-device", "f3.csr": "device-limit", "f4.csr": "range",
                   "f5.csr": "declared", "line 9": "duplicate-key"}
    dup_key = [r for r in out.rejected if r.code == "duplicate-key"]
    assert dup_key[0].source == "other.csv" and "src.zip f2.csr" in dup_key[0].reason
    assert all(r.eui for r in out.rejected)


def test_limit_counts_this_batch_too() -> None:
    plan = [(_eui(7), dc.USAGES[i % 2]) for i in range(4)]
    entries, checks = _entries(plan)
    out = batch.assess(entries, checks, known_counts={_eui(7): 97},
                    known_pairs={})
    # pairs (eui, usage) repeat after the first two, so only two pass; limit would stop at 3
    assert len(out.accepted) == 2
    out2 = batch.assess(entries[:2], checks[:2], known_counts={_eui(7): 99})
    assert len(out2.accepted) == 1 and out2.rejected[0].code == "device-limit"
    assert "100" in out2.rejected[0].reason


def test_packaged_names_are_unique_and_safe() -> None:
    entries, checks = _entries([(_eui(i), dc.SIGNING) for i in range(30)])
    out = batch.assess(entries, checks)
    names = [a.file_name for a in out.accepted]
    assert len(set(names)) == 30
    assert names[0].startswith("00DB123456000000-ds-") and names[0].endswith(".csr")


def test_reject_report_csv_and_text() -> None:
    rej = [batch.Rejection("a.zip", "x.csr", "signature", "the signature does not verify",
                        "00-DB-12-34-56-00-00-01", "signing")]
    csv_bytes = batch.reject_report_csv(rej)
    assert csv_bytes.splitlines()[1] == (b"a.zip,x.csr,00-DB-12-34-56-00-00-01,signing,"
                                         b"signature,the signature does not verify")
    assert batch.reject_report_text(rej * 3, limit=2).endswith("and 1 more (see the reject report)")


@pytest.mark.parametrize("pem", sorted(FIXTURES.glob("*.pem")), ids=lambda p: p.name)
def test_dcc_device_certificates_pass_the_device_check(pem: Path) -> None:
    cert = x509.load_pem_x509_certificate(pem.read_bytes())
    facts = read_facts(cert)
    assert facts.eui.hex() == pem.name[:16]
    assert facts.usage == (dc.SIGNING if "-ds" in pem.name else dc.KEY_AGREEMENT)
    assert facts.hw_type == dc.TEST_HW_TYPE
    findings = check_device_certificate(
        cert, csr_key_id=facts.key_id, csr_eui=facts.eui, csr_usage=facts.usage,
        policy_oids=["1.2.826.0.1.1800000.1.2.1.4"], ca_names=["CN=E357"], hw_types=HW)
    assert findings == []
    wrong = check_device_certificate(
        cert, csr_key_id="0" * 64, csr_eui=_eui(5), csr_usage=facts.usage,
        policy_oids=["1.2.3"], ca_names=["CN=Z1"], hw_types=HW)
    assert {c for c, _ in wrong} == {"key-mismatch", "san", "policy", "issuer"}
