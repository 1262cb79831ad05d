"""Shipped ADT profiles parse and are documented column by column; the manifest and the SRO
confirmation round-trip; quarantine decisions and the Action file rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from smki_desktop.core.adt import KINDS
from smki_desktop.core.adt.confirmation import Confirmation
from smki_desktop.core.adt.manifest import Manifest, check_smsr
from smki_desktop.core.adt.profile import Profile
from smki_desktop.core.adt.quarantine import (
    Filter,
    QuarantineItem,
    action_rows,
    decide_bulk,
    items_from_report,
    parse_decisions,
)
from smki_desktop.core.adt.validate import render_csv, template_rows, validate
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.resources_path import resource

DOC = (Path(__file__).resolve().parents[2] / "docs" / "adt-formats.md").read_text()
AT = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("kind", KINDS)
def test_every_shipped_profile_parses_and_is_documented(kind: str) -> None:
    files = sorted(resource("adt", kind).glob("*.json"))
    assert files
    for f in files:
        prof = Profile.from_json(f.read_bytes(), str(f))
        assert prof.kind == kind
        assert f"`{prof.profile_id}` version {prof.version}" in DOC
        for col in prof.columns:
            assert f"| {col.name} | {col.type} |" in DOC, col.name
            assert col.doc, f"{kind}: column {col.name} has no doc"
        # its own examples are valid
        data = render_csv(prof, template_rows(prof, None))
        rep = validate(data, prof, None)
        assert rep.ok, [str(i) for i in rep.issues]


def _manifest() -> Manifest:
    return Manifest(kind="adt-file", environment=Environment.TEST, file_name="a.csv",
                    file_size=10, file_sha256="a" * 64, signature_name="a.csv.p7s",
                    signature_sha256="b" * 64, signed_at=AT, signer_key_id="c" * 64,
                    signer_certificate_sha256="d" * 64, signer_subject="CN=x",
                    signer_issuer="CN=y", signer_serial="1F", profile="smki-desktop-adt/1",
                    smsr_reference="SMSR-1", party_id="P", officer="Ada (ARO)",
                    software="SMKI Desktop")


@pytest.mark.parametrize("size", ["1e400", "-1e400", "NaN", "1.5", "-1", "true", '"12"',
                                  "null", "[1]"])
def test_manifest_file_size_not_a_whole_number_is_refused_naming_the_field(size: str) -> None:
    """A tampered `"size": 1e400` read as float infinity used to raise OverflowError from
    int(); every size that is not a whole number of bytes is refused naming file.size."""
    text = _manifest().to_bytes().decode()
    assert '"size": 10\n' in text
    with pytest.raises(InputError, match=r"file\.size .*not a whole number of bytes"):
        Manifest.from_bytes(text.replace('"size": 10\n', f'"size": {size}\n').encode(), "m.json")


def test_manifest_round_trip_canonical_and_documented() -> None:
    m = _manifest()
    data = m.to_bytes()
    assert data.endswith(b"}\n") and data == _manifest().to_bytes()
    assert Manifest.from_bytes(data) == m
    d = json.loads(data)
    for key, value in d.items():
        if isinstance(value, dict):
            for sub in value:
                assert f"{key}.{sub}" in DOC, f"{key}.{sub} undocumented"
        else:
            assert f"`{key}`" in DOC, f"{key} undocumented"
    with pytest.raises(InputError, match="format"):
        Manifest.from_bytes(b'{"format": "other"}')
    bad = json.loads(data)
    bad["environment"] = "staging"
    with pytest.raises(InputError, match="environment"):
        Manifest.from_bytes(json.dumps(bad).encode())
    bad = json.loads(data)
    del bad["file"]
    with pytest.raises(InputError, match="missing or malformed"):
        Manifest.from_bytes(json.dumps(bad).encode())


def test_smsr_reference_checked() -> None:
    assert check_smsr(None) == "" and check_smsr("SMSR-0001/2") == "SMSR-0001/2"
    with pytest.raises(InputError, match="Service Request reference") as err:
        check_smsr("bad\nref")
    assert err.value.hint == "field.smsr"  # each face names its own field


def test_confirmation_rules() -> None:
    c = Confirmation(Environment.TEST, "a.csv", "a" * 64, "apply", AT, "Sam Sro")
    assert json.loads(c.to_bytes())["decision"] == "apply"
    with pytest.raises(InputError, match="(?i)resubmitter"):
        Confirmation(Environment.TEST, "a.csv", "a" * 64, "resubmit", AT, "Sam Sro")
    with pytest.raises(InputError, match="(?i)decision"):
        Confirmation(Environment.TEST, "a.csv", "a" * 64, "maybe", AT, "Sam Sro")


def _items(n: int) -> list[QuarantineItem]:
    return [QuarantineItem(f"Q{i}", "90-B3-D5-1F-30-01-00-00", "IS", "1.1.1", f"r{i}",
                           f"2026-11-01T10:0{i}:00Z", "USER" if i % 2 else "DCC", i, i + 2)
            for i in range(n)]


def test_action_rows_need_every_decision() -> None:
    items = _items(4)
    with pytest.raises(Refusal, match=r"Q0 \(report line 2\)"):
        action_rows(items, {"Q1": "PROCESS"})
    rows = action_rows(items, {"Q1": "process"}, default="delete")
    assert rows == [("Q0", "r0", "DELETE"), ("Q1", "r1", "PROCESS"), ("Q2", "r2", "DELETE"),
                    ("Q3", "r3", "DELETE")]
    with pytest.raises(InputError, match="Q9"):
        action_rows(items, {"Q9": "DELETE"}, default="delete")
    with pytest.raises(Refusal, match="no quarantined"):
        action_rows([], {})


def test_bulk_decisions_by_filter() -> None:
    items = _items(6)
    d = decide_bulk(items, {}, Filter(threshold="user"), "PROCESS")
    assert d == {"Q1": "PROCESS", "Q3": "PROCESS", "Q5": "PROCESS"}
    d = decide_bulk(items, d, Filter(text="r0"), "DELETE")
    assert d["Q0"] == "DELETE" and len(d) == 4
    since = datetime(2026, 11, 1, 10, 3, tzinfo=UTC)
    assert [i.quarantine_id for i in items if Filter(since=since).matches(i)] == ["Q3", "Q4",
                                                                                  "Q5"]


def test_decisions_csv_errors_name_lines() -> None:
    assert parse_decisions(b"Quarantine ID,Action\r\nQ1,delete\r\n\r\nQ2,PROCESS\r\n") == {
        "Q1": "DELETE", "Q2": "PROCESS"}
    with pytest.raises(InputError, match="line 1"):
        parse_decisions(b"ID,What\nQ1,DELETE\n")
    with pytest.raises(InputError, match="line 3: Quarantine ID Q1 was already decided on "
                                         "line 2"):
        parse_decisions(b"Quarantine ID,Action\nQ1,DELETE\nQ1,PROCESS\n")
    with pytest.raises(InputError, match="line 2, column 2"):
        parse_decisions(b"Quarantine ID,Action\nQ1,KEEP\n")
    with pytest.raises(InputError, match="line 2: 3 fields"):
        parse_decisions(b"Quarantine ID,Action\nQ1,DELETE,x\n")


def test_items_from_invalid_report_refused_naming_line() -> None:
    prof = Profile.from_json(resource("adt", "quarantine-report", "1.json").read_bytes())
    data = render_csv(prof, [("Q-1", "90-B3-D5-1F-30-01-00-00", "IS", "1.1.1", "r",
                              "2026-11-01T10:00:00", "USER", "5")])
    with pytest.raises(InputError, match=r"line 2, column 6 \(Quarantined At\).*time zone"):
        items_from_report(validate(data, prof, None))


def test_items_from_report_refuses_a_count_of_thousands_of_digits() -> None:
    """A profile whose Count is unbounded lets a 5,000-digit Count through validation; reading
    it is refused naming line and column, not a ValueError from int()."""
    shipped = Profile.from_json(resource("adt", "quarantine-report", "1.json").read_bytes())
    prof = Profile.from_dict({**shipped.raw, "columns": [
        {k: v for k, v in c.items() if k not in ("min", "max")} for c in shipped.raw["columns"]]})
    row = ("Q-1", "90-B3-D5-1F-30-01-00-00", "IS", "1.1.1", "r", "2026-11-01T10:00:00Z",
           "USER", "5")
    assert items_from_report(validate(render_csv(prof, [row]), prof, None))[0].count == 5
    data = render_csv(prof, [row, ("Q-2", *row[1:7], "9" * 5000)])
    with pytest.raises(InputError, match=r"line 3, column 8 \(Count\).*5,000 digits"):
        items_from_report(validate(data, prof, None))
