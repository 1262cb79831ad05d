"""Validate a CSV file's exact bytes against a profile: every finding names line, column, rule.

Rules (the `rule` of each Issue): `bom`, `encoding`, `control-character`, `csv-syntax`,
`blank-line`, `header`, `ragged-row`, `required`, `whitespace` (warning), `eui`, `not-party-eui`,
`non-numeric`, `range`, `unknown-value`, `unknown-service-request`, `pattern`, `too-long`,
`datetime`, `duplicate`, `empty-file`, `too-many-rows`, and each profile check's own rule name
(the shipped ADT profile's is `warning-above-quarantine`). Lines are 1-based physical lines of
the file; columns are 1-based with the profile's column name.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from smki_desktop.core.adt.profile import Column, Profile
from smki_desktop.core.errors import InputError
from smki_desktop.core.eui import Eui64, EuiRange

UTF8_BOM = b"\xef\xbb\xbf"
_BOMS = (UTF8_BOM, b"\xff\xfe", b"\xfe\xff")
_INT = re.compile(r"[+-]?[0-9]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_ISSUES = 5000


@dataclass(frozen=True)
class Issue:
    line: int
    rule: str
    message: str
    column: str = ""  # the profile's column name, "" for a whole-line finding
    column_index: int = 0  # 1-based, 0 for a whole-line finding
    severity: str = "error"  # error | warning
    row_index: int = -1  # index into ValidationReport.rows, -1 when not a data row

    def __str__(self) -> str:
        where = f"line {self.line}"
        if self.column_index:
            where += f", column {self.column_index} ({self.column})"
        return f"{where}: {self.message} [{self.rule}]"

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "column": self.column, "column_index": self.column_index,
                "rule": self.rule, "severity": self.severity, "message": self.message}


@dataclass(frozen=True)
class Row:
    line: int
    values: tuple[str, ...]


@dataclass
class ValidationReport:
    profile: Profile
    issues: list[Issue] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)  # empty when validated with keep_rows=False
    truncated: bool = False  # more than MAX_ISSUES findings
    row_count: int = 0

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def rules(self) -> set[str]:
        return {i.rule for i in self.issues}

    def summary(self) -> str:
        if self.ok:
            w = f", {len(self.warnings)} warning(s)" if self.warnings else ""
            return f"Valid {self.profile.title or self.profile.kind} ({self.profile.ref}): " \
                   f"{self.row_count} row(s){w}."
        more = " (first findings only)" if self.truncated else ""
        return f"Not valid against {self.profile.ref}: {len(self.errors)} error(s), " \
               f"{len(self.warnings)} warning(s){more}."

    def raise_if_invalid(self, what: str = "File") -> None:
        if not self.ok:
            first = "; ".join(str(i) for i in self.errors[:5])
            raise InputError(f"{what}: {self.summary()} {first}")


class _Collector:
    def __init__(self, report: ValidationReport) -> None:
        self.report = report

    def add(self, issue: Issue) -> bool:
        """False once the cap is reached (the caller stops)."""
        if len(self.report.issues) >= MAX_ISSUES:
            self.report.truncated = True
            return False
        self.report.issues.append(issue)
        return True


_CHUNK = 1 << 20


def _breaks(text: str) -> int:
    """Line breaks in text: CRLF, LF or a lone CR (as the CSV reader counts lines)."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def _breaks_bytes(data: bytes, end: int) -> int:
    return data.count(b"\n", 0, end) + data.count(b"\r", 0, end) - data.count(b"\r\n", 0, end)


class _ColumnCheck:
    """One column's checks, prepared once per validation (lookup tables, compiled patterns)."""

    def __init__(self, col: Column, idx: int, profile: Profile,
                 party_ranges: Sequence[EuiRange] | None) -> None:
        self.col, self.idx, self.kind = col, idx, col.type
        self.pool: dict[str, str] = {}
        if col.type == "enum":
            self.pool = {(v.upper() if col.case_insensitive else v): v for v in col.values}
            self.fold = col.case_insensitive
        elif col.type == "service-request":
            self.pool = {v.upper(): v for v in profile.service_request_types}
            self.fold = True
        self.pattern = re.compile(col.pattern) if col.pattern else None
        self.ranges = [(int(r.first), int(r.last)) for r in party_ranges] \
            if (col.party_eui and party_ranges is not None) else None
        self.ranges_text = ", ".join(str(r) for r in party_ranges or ()) or "none recorded"
        self.profile_ref = profile.ref

    def __call__(self, raw: str, line: int, row_index: int) -> tuple[object, list[Issue] | None]:
        """The parsed value (None when it did not parse) and the findings (None if none)."""
        col = self.col
        out: list[Issue] | None = None

        def issue(rule: str, msg: str, severity: str = "error") -> list[Issue]:
            nonlocal out
            if out is None:
                out = []
            out.append(Issue(line, rule, msg, col.name, self.idx, severity, row_index))
            return out

        value = raw.strip()
        if value != raw:
            issue("whitespace", f"{raw!r} has leading or trailing spaces (ignored).", "warning")
        if not value:
            if col.required:
                issue("required", f"{col.name} is required and is empty.")
            return None, out
        kind = self.kind
        if kind == "integer":
            if not _INT.fullmatch(value):
                return None, issue("non-numeric", f"{value!r} is not a whole number.")
            n = int(value)
            if col.minimum is not None and n < col.minimum:
                issue("range", f"{n} is below the minimum {col.minimum}.")
            elif col.maximum is not None and n > col.maximum:
                issue("range", f"{n} is above the maximum {col.maximum}.")
            return n, out
        if kind == "eui64":
            try:
                eui = Eui64.parse(value, col.name)
            except InputError:
                return None, issue("eui", f"{value!r} is not an EUI-64 (16 hex digits, e.g. "
                                          "90-B3-D5-1F-30-01-00-00).")
            n = int(eui)
            if self.ranges is not None and not any(lo <= n <= hi for lo, hi in self.ranges):
                issue("not-party-eui", f"{eui} is not an EUI-64 of this Party (allocated: "
                                       f"{self.ranges_text}).")
            return n, out
        if kind in ("enum", "service-request"):
            hit = self.pool.get(value.upper() if self.fold else value)
            if hit is None:
                if kind == "enum":
                    return None, issue("unknown-value",
                                       f"{value!r} is not one of: {', '.join(col.values)}.")
                return None, issue(
                    "unknown-service-request",
                    f"{value!r} is not a Service Request type of profile {self.profile_ref} "
                    "(use ALL or a Service Reference Variant such as 1.1.1).")
            return hit, out
        if kind == "datetime":
            try:
                dt = datetime.fromisoformat(value)
            except ValueError:
                return None, issue("datetime", f"{value!r} is not an ISO 8601 date and time "
                                               "(e.g. 2026-11-01T10:15:00Z).")
            if dt.tzinfo is None:
                return None, issue("datetime", f"{value!r} has no time zone (add Z for UTC).")
            return dt, out
        # text
        if len(value) > col.max_length:
            return None, issue("too-long", f"{len(value)} characters; at most "
                                           f"{col.max_length}.")
        if self.pattern is not None and not self.pattern.fullmatch(value):
            return None, issue("pattern", f"{value!r} does not have the expected form "
                                          f"({col.pattern}).")
        return value, out


def _norm_key(v: object) -> object:
    return v.upper() if isinstance(v, str) else v


def validate(data: bytes, profile: Profile,
             party_ranges: Sequence[EuiRange] | None = None, *,
             keep_rows: bool = True) -> ValidationReport:
    """Check the exact bytes of a CSV against `profile`. `party_ranges` None skips the check
    that EUI columns marked `party_eui` lie in the Party's allocation. `keep_rows` False keeps
    only the findings and the row count (large files checked before signing)."""
    report = ValidationReport(profile)
    sink = _Collector(report)
    start = 0
    for bom in _BOMS:
        if data.startswith(bom):
            if profile.bom != "allowed" or bom != UTF8_BOM:
                sink.add(Issue(1, "bom", "The file starts with a byte order mark; profile "
                                         f"{profile.ref} forbids it (save as UTF-8 without BOM)."))
                if bom != UTF8_BOM:
                    return report  # UTF-16: nothing else can be read sensibly
            start = len(bom)
            break
    # encoding and control characters, decoded in chunks (the text is never held whole)
    decoder = codecs.getincrementaldecoder(profile.encoding)("strict")
    view = memoryview(data)
    lines_before = 0
    pos = start
    while True:
        final = pos + _CHUNK >= len(data)
        pending = len(decoder.getstate()[0])
        try:
            text = decoder.decode(view[pos:pos + _CHUNK], final)
        except UnicodeDecodeError as exc:
            offset = max(pos - pending + exc.start, 0)
            line = _breaks_bytes(data, offset) + 1
            char = offset - max(data.rfind(b"\n", 0, offset), data.rfind(b"\r", 0, offset))
            sink.add(Issue(line, "encoding", f"byte 0x{data[offset]:02X} at character {char} is "
                                             f"not valid {profile.encoding}; save the file as "
                                             f"{profile.encoding}."))
            return report
        m = _CONTROL.search(text)
        if m:
            line = lines_before + _breaks(text[:m.start()]) + 1
            sink.add(Issue(line, "control-character", f"control character U+{ord(m.group()):04X}"
                                                      " is not allowed in a CSV file."))
            return report
        lines_before += _breaks(text)
        pos += _CHUNK
        if final:
            break
    del view

    ncols = len(profile.columns)
    stream = io.BytesIO(data)  # shares the bytes; no copy
    stream.seek(start)
    lines = io.TextIOWrapper(stream, encoding=profile.encoding, newline="")
    reader = csv.reader(lines, delimiter=profile.delimiter, strict=True)
    prev_end = 0
    header_seen = not profile.header
    first_seen: dict[tuple[object, ...], int] = {}
    names = profile.column_names
    key_idx = [names.index(u) for u in profile.unique]
    checks = [_ColumnCheck(c, i, profile, party_ranges)
              for i, c in enumerate(profile.columns, start=1)]
    row_checks = [(chk, names.index(chk.lower), names.index(chk.upper))
                  for chk in profile.checks]
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            sink.add(Issue(prev_end + 1, "csv-syntax", f"the line cannot be read as CSV ({exc}); "
                                                      "check the quotes."))
            return report
        line = prev_end + 1
        prev_end = reader.line_num
        if not record:
            if not sink.add(Issue(line, "blank-line", "the line is empty; remove it.")):
                return report
            continue
        if not header_seen:
            header_seen = True
            found = [h.strip() for h in record]
            if found != list(profile.column_names):
                for i, want in enumerate(profile.column_names, start=1):
                    got = found[i - 1] if i <= len(found) else None
                    if got != want:
                        sink.add(Issue(line, "header",
                                      f"the header must be {', '.join(profile.column_names)}; "
                                      f"column {i} is {got!r}, expected {want!r}.",
                                      want, i))
                        break
                else:
                    sink.add(Issue(line, "header", f"the header has {len(found)} columns; "
                                                  f"profile {profile.ref} has {ncols}."))
            continue
        if report.row_count >= profile.max_rows:
            sink.add(Issue(line, "too-many-rows", f"more than {profile.max_rows} rows."))
            return report
        row_index = report.row_count
        report.row_count += 1
        if keep_rows:
            report.rows.append(Row(line, tuple(record)))
        if len(record) != ncols:
            if not sink.add(Issue(line, "ragged-row", f"{len(record)} field(s); every row of "
                                                     f"profile {profile.ref} has {ncols}.",
                                 row_index=row_index)):
                return report
            continue
        parsed: list[object] = []
        for check, raw in zip(checks, record, strict=True):
            value, found_issues = check(raw, line, row_index)
            parsed.append(value)
            if found_issues:
                for it in found_issues:
                    if not sink.add(it):
                        return report
        for chk, li, ui in row_checks:
            lo, up = parsed[li], parsed[ui]
            if isinstance(lo, int) and isinstance(up, int) and lo > up:
                msg = chk.message or f"{chk.lower} must not be above {chk.upper}"
                if not sink.add(Issue(line, chk.rule, f"{msg}: {lo} > {up}.", chk.lower, li + 1,
                                      row_index=row_index)):
                    return report
        if key_idx:
            key = tuple(_norm_key(parsed[k]) for k in key_idx)
            if None in key:
                continue
            first = first_seen.get(key)
            if first is not None:
                if not sink.add(Issue(line, "duplicate",
                                      f"same {', '.join(profile.unique)} as line {first}.",
                                      profile.unique[0], key_idx[0] + 1, row_index=row_index)):
                    return report
            else:
                first_seen[key] = line
    if not report.row_count:
        where = prev_end + 1 if prev_end else 1
        sink.add(Issue(where, "empty-file", "the file has no data rows."))
    return report


def render_csv(profile: Profile, rows: Sequence[Sequence[str]], *, line_ending: str = "\r\n",
               header: bool = True) -> bytes:
    """Serialise rows (as edited in the GUI or made from a template) in the profile's dialect."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=profile.delimiter, lineterminator=line_ending,
                   quoting=csv.QUOTE_MINIMAL)
    if header and profile.header:
        w.writerow(profile.column_names)
    for r in rows:
        w.writerow(list(r))
    return buf.getvalue().encode(profile.encoding)


def template_rows(profile: Profile, party_eui: Eui64 | None) -> list[tuple[str, ...]]:
    """The profile's example rows with `{party_eui}` replaced by one of the Party's EUIs."""
    eui_text = str(party_eui) if party_eui is not None else "90-B3-D5-1F-30-01-00-00"
    return [tuple(v.replace("{party_eui}", eui_text) for v in r) for r in profile.example_rows]
