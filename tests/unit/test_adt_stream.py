"""The streamed validator: the findings cap (first findings per rule kept, every one counted),
exact duplicate detection across a large file, and the same findings whatever the chunking
(a line, CRLF or UTF-8 sequence split between chunks) or whether the file is read from disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smki_desktop.core.adt import validate as v
from smki_desktop.core.adt.profile import Profile
from smki_desktop.core.adt.validate import (
    MAX_ISSUES_PER_RULE,
    validate,
    validate_path,
)
from smki_desktop.core.errors import InputError
from smki_desktop.core.eui import Eui64
from tests.unit.test_adt_validate import EXAMPLES, GOOD_ROW, OWN, PROFILE, RANGES, csv_of

BASE = int(Eui64.parse(OWN))


def eui(n: int) -> str:
    return str(Eui64.from_int(BASE + n))


def findings(rep: v.ValidationReport) -> list[tuple[int, str, int, str, str]]:
    return [(i.line, i.rule, i.column_index, i.severity, i.message) for i in rep.issues]


def test_cap_keeps_the_first_findings_of_a_rule_and_counts_them_all() -> None:
    extra = 250
    n = MAX_ISSUES_PER_RULE + extra
    rows = [f"{eui(i)},IS,ALL,DAY,-1,2" for i in range(n)]  # a range error on every row
    rows.insert(10, f"{eui(n)},XX,ALL,DAY,1,2")  # one finding of another rule, after the cap
    rep = validate(csv_of(*rows), PROFILE, RANGES, keep_rows=False)
    ranges = [i for i in rep.issues if i.rule == "range"]
    assert len(ranges) == MAX_ISSUES_PER_RULE
    # the first ones, by line (the header is line 1; the other rule's row is line 12)
    assert [i.line for i in ranges] == [ln for ln in range(2, n + 3) if ln != 12][:len(ranges)]
    assert all(i.column_index == 5 and i.column == "User Warning Threshold" for i in ranges)
    assert rep.rule_counts == {"range": n, "unknown-value": 1}
    assert [i.line for i in rep.issues if i.rule == "unknown-value"] == [12]
    assert rep.error_count == n + 1 and rep.warning_count == 0
    assert rep.omitted == extra and rep.truncated and not rep.ok
    assert rep.omitted_by_rule() == {"range": extra}
    summary = rep.summary()
    assert summary.startswith(f"Not valid against {PROFILE.ref}: {n + 1} error(s), 0 warning(s).")
    assert f"{extra} more finding(s) not listed" in summary and f"range {extra}" in summary
    with pytest.raises(InputError, match=r"line 2, column 5 .*\[range\]"):
        rep.raise_if_invalid("ADT file")


def test_warnings_beyond_the_cap_are_counted_and_the_file_stays_valid() -> None:
    n = MAX_ISSUES_PER_RULE + 5
    rep = validate(csv_of(*[f"{eui(i)},IS,ALL,DAY, 1,2" for i in range(n)]), PROFILE, RANGES)
    assert rep.ok and rep.warning_count == n and len(rep.warnings) == MAX_ISSUES_PER_RULE
    assert "5 more finding(s) not listed" in rep.summary()
    assert rep.summary().startswith(f"Valid Anomaly Detection Threshold file ({PROFILE.ref}): "
                                    f"{n} row(s), {n} warning(s).")


def test_no_cap_note_when_everything_is_listed() -> None:
    rep = validate(csv_of(f"{OWN},IS,ALL,DAY,x,2"), PROFILE, RANGES)
    assert not rep.truncated and rep.omitted == 0 and rep.omitted_text() == ""
    assert rep.summary() == f"Not valid against {PROFILE.ref}: 1 error(s), 0 warning(s)."


def test_duplicates_across_a_large_file_name_the_first_line(tmp_path: Path) -> None:
    """60,000 distinct keys (EUIs whose octets include 00-03, the key store's markers), with
    duplicates far from their first line, spelled differently (case, EUI form, spaces)."""
    roles, srts, periods = ("IS", "ES", "GS"), ("ALL", "1.1.1", "6.15.1", "4.1.1"), ("DAY", "HOUR")
    rows, line_of = [], {}
    for i in range(5000):
        for r in roles:
            for s in srts:
                p = periods[i % 2]
                rows.append(f"{eui(i * 257)},{r},{s},{p},1,2")  # i * 257: octets 00..03 too
                line_of[(i * 257, r, s, p)] = len(rows) + 1
    assert len(rows) == 60_000
    dups = [(0, "IS", "ALL", "DAY"), (4999 * 257, "GS", "4.1.1", "HOUR"),
            (1234 * 257, "ES", "6.15.1", "DAY"), (1234 * 257, "ES", "6.15.1", "DAY")]
    expected = []
    for n, (e, r, s, p) in enumerate(dups):
        text = Eui64.from_int(BASE + e).hex.lower() if n % 2 else eui(e)  # compact lower hex
        rows.append(f"{text},{r.lower()},{s}, {p.lower()},3,4")
        expected.append((len(rows) + 1, line_of[(e, r, s, p)]))
    # near misses: same EUI, other role/period; EUIs one apart from a stored one
    rows.append(f"{eui(1)},IS,ALL,DAY,1,2")
    rows.append(f"{eui(256)},IS,ALL,DAY,1,2")
    rows.append(f"{eui(257)},RSA,ALL,DAY,1,2")
    path = tmp_path / "big.csv"
    path.write_bytes(csv_of(*rows))
    rep = validate_path(path, PROFILE, None)  # EUIs beyond RANGES: no Party check here
    got = [(i.line, int(i.message.rsplit(" ", 1)[1].rstrip("."))) for i in rep.issues
           if i.rule == "duplicate"]
    assert got == expected
    assert rep.rule_counts == {"duplicate": 4, "whitespace": 4}
    assert rep.row_count == len(rows) and rep.rows == []
    dup = next(i for i in rep.issues if i.rule == "duplicate")
    assert dup.message == "same User ID, User Role, Service Request Type, Period as line 2."
    assert (dup.column, dup.column_index) == ("User ID", 1)


@pytest.mark.parametrize(("rule", "data", "line", "column"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_every_rule_fires_the_same_from_disk(tmp_path: Path, rule: str, data: bytes, line: int,
                                             column: int) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    on_disk = validate_path(path, PROFILE, RANGES, keep_rows=True)
    assert findings(on_disk) == findings(validate(data, PROFILE, RANGES))
    hits = [i for i in on_disk.issues if i.rule == rule]
    assert hits and (hits[0].line, hits[0].column_index) == (line, column)


def _chunked(data: bytes, size: int, profile: Profile = PROFILE) -> v.ValidationReport:
    old = v._CHUNK
    v._CHUNK = size
    try:
        return validate(data, profile, RANGES)
    finally:
        v._CHUNK = old


def _check_chunking(data: bytes, profile: Profile = PROFILE) -> None:
    whole = validate(data, profile, RANGES)
    for size in (1, 2, 3, 5, 8, 13):
        rep = _chunked(data, size, profile)
        assert findings(rep) == findings(whole), size
        assert rep.row_count == whole.row_count
        assert [(r.line, r.values) for r in rep.rows] == [(r.line, r.values) for r in whole.rows]


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(st.sampled_from([
    GOOD_ROW, f"{OWN},ES,1.1.1,HOUR,5,6", f'"{OWN}",IS,"6.15.1",DAY,1,"2"', "", " ",
    f'{OWN},IS,"A\r\nLL",DAY,1,2', f"{OWN},IS,ALL,DAY,9,2", "é€,x", "a\x85b\u2028c",
    f"{OWN},IS,ALL,DAY,1", "\x00", "x\xff", '"unterminated', "\x7f"]), max_size=8),
    st.sampled_from(["\r\n", "\n", "\r"]), st.booleans(), st.booleans())
def test_chunk_boundaries_do_not_change_findings(rows: list[str], eol: str, bom: bool,
                                                 bad_byte: bool) -> None:
    header = ",".join(PROFILE.column_names)
    data = (eol.join([header, *rows]) + eol).encode("utf-8", "surrogateescape")
    if bad_byte:
        data = data[: len(data) // 2] + b"\xc3(" + data[len(data) // 2:]
    if bom:
        data = b"\xef\xbb\xbf" + data
    _check_chunking(data)


def test_encoding_and_control_findings_name_the_line_across_chunks() -> None:
    rows = [GOOD_ROW.replace("100", str(100 + i)) for i in range(40)]
    base = csv_of(*[f"{eui(i)},IS,ALL,DAY,1,2" for i in range(40)])
    bad = base + b"90-B3,\xe2\x82\r\n"  # a cut UTF-8 sequence on line 42
    rep = validate(bad, PROFILE, RANGES)
    assert [(i.line, i.rule) for i in rep.issues] == [(42, "encoding")]
    assert rep.issues[0].message.startswith("byte 0xE2 at character 7 ")
    _check_chunking(bad)
    ctrl = csv_of(*rows[:30], f"{OWN},IS,ALL,DAY,1\x01,2", *rows[30:])
    rep = validate(ctrl, PROFILE, RANGES)
    assert [(i.line, i.rule) for i in rep.issues] == [(32, "control-character")]
    _check_chunking(ctrl)


def test_a_bad_byte_after_the_rows_stop_is_still_the_finding() -> None:
    """Rows stop at too-many-rows or a CSV syntax error; the rest is still checked as text,
    and a file that is not text reports that (and only that), as before."""
    small = Profile.from_dict({**PROFILE.raw, "max_rows": 2})
    rows = [f"{eui(i)},IS,ALL,DAY,1,2" for i in range(4)]
    data = csv_of(*rows) + b"\xff\r\n"
    rep = validate(data, small, RANGES)
    assert [(i.line, i.rule) for i in rep.issues] == [(6, "encoding")]
    assert rep.row_count == 0
    data = csv_of(*rows, '"open', *rows) + "é".encode("latin-1")
    assert [i.rule for i in validate(data, PROFILE, RANGES).issues] == ["encoding"]
    assert [i.rule for i in validate(csv_of(*rows, '"open'), PROFILE, RANGES).issues] == \
        ["csv-syntax"]


def test_on_row_sees_every_data_row(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(csv_of(GOOD_ROW, f"{eui(1)},ES,ALL,DAY,1", f"{eui(2)},GS,ALL,DAY,1,2"))
    seen: list[tuple[int, str]] = []
    rep = validate_path(path, PROFILE, RANGES, on_row=lambda ln, f: seen.append((ln, f[1])))
    assert seen == [(2, "IS"), (3, "ES"), (4, "GS")]
    assert rep.row_count == 3 and rep.rows == [] and rep.rule_counts == {"ragged-row": 1}


def test_long_line_longer_than_a_chunk() -> None:
    data = csv_of(GOOD_ROW, f"{eui(1)},IS,ALL,DAY,{'1' * 300},2")
    whole = validate(data, PROFILE, RANGES)
    assert [(i.line, i.rule) for i in whole.issues] == [(3, "range"),
                                                        (3, "warning-above-quarantine")]
    _check_chunking(data)


def test_key_encoding_is_exact() -> None:
    """Keys whose parts hold the key store's marker bytes never match another key."""
    keys = v._KeySet()
    parts = [v._escape(n.to_bytes(8, "big")) for n in range(0, 1 << 12)]
    parts += [v._escape(bytes([a, b]) * 4) for a in range(6) for b in range(6)]
    parts = list(dict.fromkeys(parts))
    for n, p in enumerate(parts, start=1):
        assert keys.first_line(p + b"\x02" + v._small(n % 300), n) == 0
    for n, p in enumerate(parts, start=1):
        assert keys.first_line(p + b"\x02" + v._small(n % 300), 10**6 + n) == n
    assert all(min(v._small(i)) >= 4 for i in range(0, 70_000, 97))
    assert len({v._small(i) for i in range(70_000)}) == 70_000
