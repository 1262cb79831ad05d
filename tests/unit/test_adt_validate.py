"""The ADT CSV validator: one failing example per rule, and hypothesis property tests (random and
malformed CSVs never crash it; every rejection names a line)."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from smki_desktop.core.adt.profile import Profile
from smki_desktop.core.adt.validate import render_csv, template_rows, validate
from smki_desktop.core.errors import InputError
from smki_desktop.core.eui import Eui64, EuiRange
from smki_desktop.resources_path import resource

PROFILE = Profile.from_json(resource("adt", "adt-file", "1.json").read_text())
RANGES = [EuiRange.parse("90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF")]
HEADER = ",".join(PROFILE.column_names).encode()
OWN = "90-B3-D5-1F-30-01-00-00"


def csv_of(*rows: str, header: bytes = HEADER, eol: bytes = b"\r\n") -> bytes:
    return header + eol + eol.join(r.encode() for r in rows) + eol


GOOD_ROW = f"{OWN},IS,ALL,DAY,100,200"


def test_template_is_valid() -> None:
    data = render_csv(PROFILE, template_rows(PROFILE, Eui64.parse(OWN)))
    rep = validate(data, PROFILE, RANGES)
    assert rep.ok, [str(i) for i in rep.issues]
    assert len(rep.rows) == len(PROFILE.example_rows) >= 1


def test_good_file_with_lf_endings_is_valid() -> None:
    rep = validate(csv_of(GOOD_ROW, eol=b"\n"), PROFILE, RANGES)
    assert rep.ok and len(rep.rows) == 1


# one failing example per rule: (rule, file bytes, expected line, expected column index)
EXAMPLES = [
    ("bom", b"\xef\xbb\xbf" + csv_of(GOOD_ROW), 1, 0),
    ("encoding", csv_of(GOOD_ROW, f"{OWN},IS,ALL,HOUR,1,2").replace(b"HOUR", b"H\xd6UR"), 3, 0),
    ("control-character", csv_of(GOOD_ROW, f"{OWN},IS,ALL,DAY,1\x00,2"), 3, 0),
    ("csv-syntax", csv_of(GOOD_ROW, f'{OWN},IS,"ALL,DAY,1,2'), 3, 0),
    ("blank-line", csv_of(GOOD_ROW, "", f"{OWN},IS,1.1.1,DAY,1,2"), 3, 0),
    ("header", csv_of(GOOD_ROW, header=b"User,User Role,Service Request Type,Period,W,Q"), 1, 1),
    ("ragged-row", csv_of(GOOD_ROW, f"{OWN},IS,1.1.1,DAY,1"), 3, 0),
    ("required", csv_of(f"{OWN},IS,ALL,DAY,,2"), 2, 5),
    ("whitespace", csv_of(f"{OWN},IS,ALL,DAY, 1,2"), 2, 5),
    ("eui", csv_of("90-B3-D5-1F-30-01-00,IS,ALL,DAY,1,2"), 2, 1),
    ("not-party-eui", csv_of("90-B3-D5-1F-30-02-00-00,IS,ALL,DAY,1,2"), 2, 1),
    ("non-numeric", csv_of(f"{OWN},IS,ALL,DAY,1.5,2"), 2, 5),
    ("range", csv_of(f"{OWN},IS,ALL,DAY,-1,2"), 2, 5),
    ("unknown-value", csv_of(f"{OWN},XX,ALL,DAY,1,2"), 2, 2),
    ("unknown-service-request", csv_of(f"{OWN},IS,99.99,DAY,1,2"), 2, 3),
    ("warning-above-quarantine", csv_of(f"{OWN},IS,ALL,DAY,300,200"), 2, 5),
    ("duplicate", csv_of(GOOD_ROW, f"{OWN.lower()},is,all,day,5,6"), 3, 1),
    ("empty-file", HEADER + b"\r\n", 2, 0),
]


@pytest.mark.parametrize(("rule", "data", "line", "column"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_each_rule_has_a_failing_example(rule: str, data: bytes, line: int, column: int) -> None:
    rep = validate(data, PROFILE, RANGES)
    hits = [i for i in rep.issues if i.rule == rule]
    assert hits, f"expected rule {rule}, got {[str(i) for i in rep.issues]}"
    assert hits[0].line == line
    assert hits[0].column_index == column
    assert f"line {line}" in str(hits[0])
    if rule == "whitespace":
        assert hits[0].severity == "warning" and rep.ok
    else:
        assert not rep.ok


def test_duplicate_names_the_first_line() -> None:
    rep = validate(csv_of(GOOD_ROW, f"{OWN},IS,ALL,DAY,5,6"), PROFILE, RANGES)
    (dup,) = [i for i in rep.issues if i.rule == "duplicate"]
    assert "line 2" in dup.message


def test_party_check_skipped_without_ranges() -> None:
    data = csv_of("90-B3-D5-1F-30-02-00-00,IS,ALL,DAY,1,2")
    assert validate(data, PROFILE, None).ok


def test_too_many_rows() -> None:
    small = Profile.from_dict({**PROFILE.raw, "max_rows": 2})
    rows = [f"{OWN},IS,{srt},DAY,1,2" for srt in ("ALL", "1.1.1", "1.1.2")]
    rep = validate(csv_of(*rows), small, RANGES)
    assert [i.line for i in rep.issues if i.rule == "too-many-rows"] == [4]


def test_raise_if_invalid_names_line_and_rule() -> None:
    rep = validate(csv_of(f"{OWN},IS,ALL,DAY,x,2"), PROFILE, RANGES)
    with pytest.raises(InputError, match=r"line 2, column 5 .*non-numeric"):
        rep.raise_if_invalid("ADT file")


def test_malformed_profile_is_refused_naming_the_field() -> None:
    with pytest.raises(InputError, match="columns"):
        Profile.from_dict({"kind": "adt-file", "id": "x", "version": "1"})
    with pytest.raises(InputError, match="type"):
        Profile.from_dict({"kind": "adt-file", "id": "x", "version": "1",
                           "columns": [{"name": "A", "type": "float"}]})


# ---------------------------------------------------------------------------------------------
# property tests

_cells = st.one_of(
    st.sampled_from([OWN, "90B3D51F3001FFFF", "IS", "gs", "ALL", "1.1.1", "DAY", "HOUR", "0",
                     "1", "100", "-5", "1e3", "", " 7", '"q"', "9" * 30]),
    st.text(alphabet=string.printable + "é€\x00", max_size=12),
)
_rows = st.lists(st.lists(_cells, min_size=0, max_size=8), max_size=12)


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    rows = draw(_rows)
    eol = draw(st.sampled_from(["\r\n", "\n", "\r"]))
    lines = [",".join(r) for r in rows]
    if draw(st.booleans()):
        lines.insert(0, ",".join(PROFILE.column_names))
    text = eol.join(lines) + (eol if draw(st.booleans()) else "")
    data = text.encode(draw(st.sampled_from(["utf-8", "latin-1", "utf-16"])), "replace")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return data


def _check_properties(data: bytes) -> None:
    rep = validate(data, PROFILE, RANGES)
    n_lines = data.count(b"\n") + data.count(b"\r") + 1
    for issue in rep.issues:
        assert issue.line >= 1
        assert issue.line <= n_lines + 1
        assert str(issue).startswith(f"line {issue.line}")
        assert issue.rule and issue.message
        assert 0 <= issue.column_index <= len(PROFILE.columns)
    if not rep.ok:
        with pytest.raises(InputError, match="line "):
            rep.raise_if_invalid()


@example(b"90-B3-D5-1F-30-01-00-00," * 6 + b"\xc3\xa9")  # a 7th header, not ASCII
@example(b"User ID,a,b,c,d,e,\"x\ny\"")  # a 7th header with a line break
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(csv_files())
def test_structured_random_csvs_never_crash_and_name_lines(data: bytes) -> None:
    _check_properties(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_crash_and_name_lines(data: bytes) -> None:
    _check_properties(data)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(
    st.sampled_from(["IS", "ES", "GS"]),
    st.sampled_from(["ALL", "1.1.1", "6.15.1"]),
    st.sampled_from(["DAY", "HOUR"]),
    st.integers(0, 1000), st.integers(1, 1000)), min_size=1, max_size=15))
def test_generated_rows_errors_match_an_oracle(rows: list[tuple[str, str, str, int, int]]) -> None:
    """Well-formed rows: the only findings are duplicates and warning > quarantine, exactly
    where a simple oracle expects them."""
    data = csv_of(*[f"{OWN},{r},{s},{p},{w},{q}" for r, s, p, w, q in rows])
    rep = validate(data, PROFILE, RANGES)
    seen: set[tuple[str, str, str]] = set()
    expected = []
    for n, (r, s, p, w, q) in enumerate(rows, start=2):
        if w > q:
            expected.append((n, "warning-above-quarantine"))
        if (r, s, p) in seen:
            expected.append((n, "duplicate"))
        seen.add((r, s, p))
    assert sorted((i.line, i.rule) for i in rep.issues) == sorted(expected)


# the rules only the quarantine profiles use: one failing example each
REPORT = Profile.from_json(resource("adt", "quarantine-report", "1.json").read_text())
REPORT_ROW = ["Q-1", OWN, "IS", "1.1.1", "req-1", "2026-11-01T10:00:00Z", "USER", "5"]


def _report_with(col: int, value: str) -> bytes:
    row = list(REPORT_ROW)
    row[col] = value
    return render_csv(REPORT, [tuple(REPORT_ROW), tuple(row)])


@pytest.mark.parametrize(("rule", "col", "value"), [
    ("pattern", 0, "Q 2"),
    # a Request ID a spreadsheet would run as a formula, copied into the signed Action file
    ("pattern", 4, "=cmd|' /C calc'!A0"),
    ("pattern", 4, "@SUM(1+1)"),
    ("pattern", 4, "+1+1"),
    ("pattern", 4, "-2+3"),
    ("pattern", 4, "req 1"),
    ("too-long", 4, "r" * 129),
    ("datetime", 5, "yesterday"),
    ("datetime", 5, "2026-11-01T10:00:00"),
    ("unknown-value", 6, "BOTH"),
], ids=["pattern", "request-id-formula", "request-id-at", "request-id-plus", "request-id-minus",
        "request-id-space", "too-long", "datetime-syntax", "datetime-no-zone", "enum"])
def test_report_profile_rules(rule: str, col: int, value: str) -> None:
    assert validate(render_csv(REPORT, [tuple(REPORT_ROW)]), REPORT, RANGES).ok
    rep = validate(_report_with(col, value), REPORT, RANGES)
    hits = [i for i in rep.issues if i.rule == rule]
    assert hits and hits[0].line == 3 and hits[0].column_index == col + 1, \
        [str(i) for i in rep.issues]
    assert not rep.ok


def test_report_profile_allows_bom_and_checks_duplicate_ids() -> None:
    data = b"\xef\xbb\xbf" + render_csv(REPORT, [tuple(REPORT_ROW)])
    assert validate(data, REPORT, RANGES).ok
    rep = validate(_report_with(4, "req-2"), REPORT, RANGES)  # same Quarantine ID twice
    assert [(i.rule, i.line) for i in rep.issues] == [("duplicate", 3)]


@pytest.mark.parametrize("cell", ["9" * 5000, "-" + "9" * 5000, "0" * 4999 + "7",
                                  "9" * 10, "1" + "0" * 4500])
def test_a_whole_number_of_thousands_of_digits_is_a_range_finding(cell: str) -> None:
    """int() refuses more than 4,300 digits (ValueError): the cell is a `range` finding naming
    line and column, not a traceback."""
    rep = validate(csv_of(GOOD_ROW, f"{OWN},IS,1.1.1,DAY,{cell},20"), PROFILE, RANGES)
    if cell.lstrip("0") == "7":  # leading zeros only: a small number, and valid
        assert rep.ok, [str(i) for i in rep.issues]
        return
    (hit,) = [i for i in rep.issues if i.rule == "range"]
    assert (hit.line, hit.column_index, hit.column) == (3, 5, "User Warning Threshold")
    assert len(hit.message) < 200
    assert ("below the minimum 0" if cell.startswith("-") else "above the maximum 100000000") \
        in hit.message


def test_an_unbounded_integer_column_refuses_thousands_of_digits() -> None:
    raw = {**PROFILE.raw, "checks": [], "columns": [
        {k: v for k, v in c.items() if k not in ("min", "max")} for c in PROFILE.raw["columns"]]}
    prof = Profile.from_dict(raw)
    rep = validate(csv_of(f"{OWN},IS,ALL,DAY,{'9' * 5000},2"), prof, RANGES)
    (hit,) = [i for i in rep.issues if i.rule == "range"]
    assert hit.line == 2 and hit.column_index == 5 and "5,000 digits" in hit.message
    assert validate(csv_of(f"{OWN},IS,ALL,DAY,{'9' * 4000},2"), prof, RANGES).ok


def test_header_names_with_spaces_are_a_whitespace_warning_naming_the_column() -> None:
    """As a data cell with spaces: accepted (names read stripped) but reported, not silent."""
    header = b" User ID ,User Role,Service Request Type,Period ,User Warning Threshold," \
             b"User Quarantine Threshold"
    rep = validate(csv_of(GOOD_ROW, header=header), PROFILE, RANGES)
    assert rep.ok and rep.row_count == 1
    hits = [i for i in rep.issues if i.rule == "whitespace"]
    assert [(i.line, i.column_index, i.column, i.severity) for i in hits] == [
        (1, 1, "User ID", "warning"), (1, 4, "Period", "warning")]
    assert "' User ID '" in hits[0].message
    assert not [i for i in validate(csv_of(GOOD_ROW), PROFILE, RANGES).issues]


def _rules(data: bytes) -> list[tuple[int, str, int]]:
    return [(i.line, i.rule, i.column_index) for i in validate(data, PROFILE, RANGES).errors]


@pytest.mark.parametrize(("row", "col", "char"), [
    (f"{OWN},\u0131\u017f,ALL,DAY,1,2", 2, "U+0131"),       # dotless i, long s: upper() 'IS'
    (f"{OWN},G\u017f,ALL,DAY,1,2", 2, "U+017F"),             # 'GS' after upper()
    (f"{OWN},IS,ALL,\u00a0DAY\u00a0,1,2", 4, "U+00A0"),      # no-break spaces around DAY
    (f"{OWN},IS,ALL,DAY,\u00a01,2", 5, "U+00A0"),
    (f"{OWN},IS,1.1.1\u2009,DAY,1,2", 3, "U+2009"),          # thin space
    (f"{OWN},IS\u200b,ALL,DAY,1,2", 2, "U+200B"),            # zero-width space
    (f"\uff19{OWN[1:]},IS,ALL,DAY,1,2", 1, "U+FF19"),         # full-width digit
    (f"{OWN},IS,ALL,DAY,\uff11,2", 5, "U+FF11"),
])
def test_non_ascii_cell_is_an_error_naming_the_character(row: str, col: int, char: str) -> None:
    rep = validate(csv_of(row), PROFILE, RANGES)
    assert not rep.ok
    [issue] = rep.errors
    assert (issue.line, issue.rule, issue.column_index) == (2, "non-ascii", col)
    assert char in issue.message and "line 2, column" in str(issue)


def test_non_ascii_header_name_is_an_error() -> None:
    header = HEADER.replace(b"Period", "Period\u00a0".encode())
    rep = validate(csv_of(GOOD_ROW, header=header), PROFILE, RANGES)
    assert [(i.line, i.rule, i.column_index) for i in rep.errors] == [(1, "non-ascii", 4)]
    assert "U+00A0" in rep.errors[0].message


def test_line_break_inside_a_quoted_cell_is_an_error() -> None:
    data = csv_of(f'"{OWN}","IS","ALL","DAY\r\n","1","2"', GOOD_ROW.replace("00,IS", "01,IS"))
    assert _rules(data) == [(2, "line-break", 4)]
    assert _rules(csv_of(f'{OWN},IS,ALL,"DAY\n",1,2')) == [(2, "line-break", 4)]


def test_lone_cr_line_ending_is_an_error() -> None:
    second = GOOD_ROW.replace("00,IS", "01,IS")
    data = HEADER + b"\r\n" + GOOD_ROW.encode() + b"\r" + second.encode() + b"\r\n"
    assert _rules(data) == [(2, "line-ending", 0)]
    assert _rules(csv_of(GOOD_ROW, second, eol=b"\r")) == [
        (1, "line-ending", 0), (2, "line-ending", 0), (3, "line-ending", 0)]
    assert validate(csv_of(GOOD_ROW, second, eol=b"\n"), PROFILE, RANGES).ok  # LF: read


def test_eui_with_mixed_separators_is_an_error() -> None:
    assert _rules(csv_of("90-B3:D5-1F:30-01:00-00,IS,ALL,DAY,1,2")) == [(2, "eui", 1)]
    assert _rules(csv_of("90-B3-D5-1F-30-01-00:00,IS,ALL,DAY,1,2")) == [(2, "eui", 1)]
    for ok in ("90:B3:D5:1F:30:01:00:00", "90b3d51f30010000", "90-b3-d5-1f-30-01-00-00"):
        assert validate(csv_of(f"{ok},IS,ALL,DAY,1,2"), PROFILE, RANGES).ok, ok


def test_plus_sign_before_an_integer_is_an_error() -> None:
    assert _rules(csv_of(f"{OWN},IS,ALL,DAY,+000001,2")) == [(2, "non-numeric", 5)]
    assert _rules(csv_of(f"{OWN},IS,ALL,DAY,+1,+2")) == [(2, "non-numeric", 5),
                                                          (2, "non-numeric", 6)]
    assert validate(csv_of(f"{OWN},IS,ALL,DAY,0001,2"), PROFILE, RANGES).ok


def test_ascii_spaces_are_still_only_a_warning() -> None:
    rep = validate(csv_of(f"{OWN}, IS ,ALL,DAY,1,2"), PROFILE, RANGES)
    assert rep.ok and [i.rule for i in rep.warnings] == ["whitespace"]
