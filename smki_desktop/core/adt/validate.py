"""Validate a CSV file's exact bytes against a profile: every finding names line, column, rule.

Rules (the `rule` of each Issue): `bom`, `encoding`, `control-character`, `csv-syntax`,
`line-ending`, `blank-line`, `header`, `ragged-row`, `non-ascii`, `line-break`, `required`,
`whitespace` (warning), `eui`, `not-party-eui`,
`non-numeric`, `range`, `unknown-value`, `unknown-service-request`, `pattern`, `too-long`,
`datetime`, `duplicate`, `empty-file`, `too-many-rows`, and each profile check's own rule name
(the shipped ADT profile's is `warning-above-quarantine`). Lines are 1-based physical lines of
the file; columns are 1-based with the profile's column name.

Every cell and header name is ASCII (`non-ascii` names the first other character as U+XXXX):
the case-insensitive columns fold case only after that, so a look-alike such as 'ıſ' (dotless
i, long s, which Python upper-cases to 'IS') or a no-break space around a value cannot pass for
a listed value. A cell holding a line break (`line-break`), a lone CR as a line ending
(`line-ending`), an EUI-64 with mixed separators and a '+' before a number are refused too.

The file is read once, as a stream of 1 MiB chunks (`validate_stream`, `validate_path`): what is
kept across rows is only what the rules need (the unique keys seen, packed into bytearrays, not
row objects) and the first `MAX_ISSUES_PER_RULE` findings of each rule; every finding is counted,
so the report says how many more there were. Rows are kept only when asked (`keep_rows`, the GUI
table editor).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from smki_desktop.core.adt.profile import Column, Profile
from smki_desktop.core.errors import InputError
from smki_desktop.core.eui import Eui64, EuiRange

UTF8_BOM = b"\xef\xbb\xbf"
_BOMS = (UTF8_BOM, b"\xff\xfe", b"\xfe\xff")
_INT = re.compile(r"-?[0-9]+")  # ASCII digits, an optional minus; no '+'
# 16 hex digits, as they are or in 8 pairs split by hyphens or by colons (not a mix)
_EUI_FORMS = re.compile(r"[0-9A-Fa-f]{16}|[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){7}"
                        r"|[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){7}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_ISSUES_PER_RULE = 1000  # findings kept per rule; the rest are only counted
_CHUNK = 1 << 20
_FAST_CACHE = 4096  # per column: values seen to pass, found again without parsing
_MAX_DIGITS = 4000  # a whole number is never longer (Python's int() refuses 4,300 digits)


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
    """The findings of one validation. `issues` holds the first `cap` findings of each rule (in
    the order found); `rule_counts`, `error_count` and `warning_count` count every finding."""

    profile: Profile
    issues: list[Issue] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)  # empty unless validated with keep_rows=True
    row_count: int = 0
    rule_counts: dict[str, int] = field(default_factory=dict)
    error_count: int = 0
    warning_count: int = 0
    cap: int = MAX_ISSUES_PER_RULE

    def add(self, issue: Issue) -> None:
        """Count a finding; keep it when its rule has fewer than `cap` kept."""
        n = self.rule_counts.get(issue.rule, 0)
        self.rule_counts[issue.rule] = n + 1
        if issue.severity == "error":
            self.error_count += 1
        else:
            self.warning_count += 1
        if n < self.cap:
            self.issues.append(issue)

    @property
    def errors(self) -> list[Issue]:
        """The kept errors (`error_count` counts them all)."""
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        """The kept warnings (`warning_count` counts them all)."""
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.error_count

    @property
    def finding_count(self) -> int:
        return self.error_count + self.warning_count

    @property
    def omitted(self) -> int:
        """Findings counted but not kept (beyond the first `cap` of their rule)."""
        return self.finding_count - len(self.issues)

    @property
    def truncated(self) -> bool:
        return self.omitted > 0

    def omitted_by_rule(self) -> dict[str, int]:
        return {r: n - self.cap for r, n in sorted(self.rule_counts.items()) if n > self.cap}

    def omitted_text(self) -> str:
        """'' when every finding is listed, else how many more there were, by rule."""
        extra = self.omitted_by_rule()
        if not extra:
            return ""
        by_rule = ", ".join(f"{rule} {n:,}" for rule, n in extra.items())
        return (f"{self.omitted:,} more finding(s) not listed (the first {self.cap:,} of each "
                f"rule are): {by_rule}.")

    def rules(self) -> set[str]:
        return set(self.rule_counts)

    def summary(self) -> str:
        more = f" {self.omitted_text()}" if self.truncated else ""
        if self.ok:
            w = f", {self.warning_count} warning(s)" if self.warning_count else ""
            return f"Valid {self.profile.title or self.profile.kind} ({self.profile.ref}): " \
                   f"{self.row_count} row(s){w}.{more}"
        return f"Not valid against {self.profile.ref}: {self.error_count} error(s), " \
               f"{self.warning_count} warning(s).{more}"

    def raise_if_invalid(self, what: str = "File") -> None:
        if not self.ok:
            first = "; ".join(str(i) for i in self.errors[:5])
            raise InputError(f"{what}: {self.summary()} {first}")


def non_ascii(text: str) -> str:
    """The first character of `text` that is not ASCII, named: 'U+0131 (LATIN SMALL LETTER
    DOTLESS I)' (the caller knows there is one)."""
    ch = next(c for c in text if ord(c) > 0x7F)
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" ({name})" if name else "")


def _breaks(text: str) -> int:
    """Line breaks in text: CRLF, LF or a lone CR (as the CSV reader counts lines)."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def _breaks_bytes(data: bytes, end: int) -> int:
    return data.count(b"\n", 0, end) + data.count(b"\r", 0, end) - data.count(b"\r\n", 0, end)


class _Fatal(Exception):
    """An encoding or control-character finding: the file cannot be read as text, so it is the
    only finding reported (with a BOM finding before it)."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message)
        self.issue = issue


class _Source:
    """The byte stream read once in chunks: each chunk is decoded (strict) and searched for
    control characters before its lines are handed on; line breaks and the last break's offset
    are counted as it goes, so a finding names the file's own line."""

    def __init__(self, stream: BinaryIO, encoding: str, first: bytes, pos: int) -> None:
        self.stream = stream
        self.encoding = encoding
        self.decoder = codecs.getincrementaldecoder(encoding)("strict")
        self.first: bytes | None = first  # the first chunk, already read (after any BOM)
        self.pos = pos  # absolute offset of the next chunk
        self.breaks = 0  # line breaks in the bytes before pos
        self.last_break = -1  # absolute offset of the last CR or LF before pos
        self.cr_end = False  # the bytes before pos end with CR
        self.eof = False
        self.lines_out = 0  # physical lines handed on
        self.lone_cr: list[int] = []  # lines (1-based) ending in a CR with no LF, not yet told

    def _next_chunk(self) -> bytes:
        if self.first is not None:
            chunk, self.first = self.first, None
            return chunk
        return self.stream.read(_CHUNK) or b""

    def texts(self) -> Iterator[str]:
        """Checked, decoded text, chunk by chunk; raises _Fatal at the first bad byte or control
        character."""
        while not self.eof:
            chunk = self._next_chunk()
            final = not chunk
            pending = len(self.decoder.getstate()[0])
            try:
                text = self.decoder.decode(chunk, final)
            except UnicodeDecodeError as exc:
                # a control character before the bad byte is the first finding
                obj = exc.object
                if isinstance(obj, (bytes, bytearray)):
                    with contextlib.suppress(UnicodeDecodeError):
                        self._check_controls(bytes(obj[:exc.start]).decode(self.encoding))
                raise _Fatal(self._encoding_issue(exc, chunk, pending)) from None
            self._check_controls(text)
            if chunk:
                n = _breaks_bytes(chunk, len(chunk))
                if self.cr_end and chunk[:1] == b"\n":
                    n -= 1
                self.breaks += n
                last = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
                if last >= 0:
                    self.last_break = self.pos + last
                self.cr_end = chunk.endswith(b"\r")
                self.pos += len(chunk)
            else:
                self.eof = True
            if text:
                yield text

    def _check_controls(self, text: str) -> None:
        """Raise _Fatal at the first control character of `text`, the next decoded text."""
        m = _CONTROL.search(text)
        if m:
            before = _breaks(text[:m.start()])
            if self.cr_end and m.start() > 0 and text[0] == "\n":
                before -= 1
            raise _Fatal(Issue(self.breaks + before + 1, "control-character",
                               f"control character U+{ord(m.group()):04X} is not allowed "
                               "in a CSV file."))

    def _encoding_issue(self, exc: UnicodeDecodeError, chunk: bytes, pending: int) -> Issue:
        offset = max(self.pos - pending + exc.start, 0)  # absolute offset of the bad byte
        local = offset - self.pos  # < 0 when it is in the bytes carried from the last chunk
        line = self.breaks + 1
        last_break = self.last_break
        if local > 0:
            line += _breaks_bytes(chunk, local)
            if self.cr_end and chunk[:1] == b"\n":
                line -= 1
            at = max(chunk.rfind(b"\n", 0, local), chunk.rfind(b"\r", 0, local))
            if at >= 0:
                last_break = self.pos + at
        obj = exc.object
        byte = obj[exc.start] if isinstance(obj, (bytes, bytearray)) and \
            exc.start < len(obj) else (chunk[local] if 0 <= local < len(chunk) else 0)
        return Issue(line, "encoding", f"byte 0x{byte:02X} at character {offset - last_break} "
                                       f"is not valid {self.encoding}; save the file as "
                                       f"{self.encoding}.")

    def lines(self) -> Iterator[str]:
        """Physical lines with their endings (CR, LF or CRLF, as `newline=""` reads them)."""
        return itertools.chain.from_iterable(self._line_lists())

    def _line_lists(self) -> Iterator[list[str]]:
        carry: list[str] = []
        for text in self.texts():
            if "\n" not in text and "\r" not in text:
                carry.append(text)  # a line longer than a chunk
                continue
            if carry:
                carry.append(text)
                text = "".join(carry)
                carry = []
            lines = io.StringIO(text, newline="").readlines()
            if not lines[-1].endswith("\n"):  # unfinished, or a CR a LF may follow
                carry.append(lines.pop())
            if text.count("\r") != text.count("\r\n"):  # a lone CR somewhere (rare)
                self._lone_crs(lines)
            self.lines_out += len(lines)
            yield lines
        if carry:
            last = "".join(carry)
            if last.endswith("\r"):
                self._lone_crs([last])
            self.lines_out += 1
            yield [last]

    def _lone_crs(self, lines: list[str]) -> None:
        """Note the lines of `lines` (the next to be handed on) that end in a lone CR: the
        formats' line endings are CRLF or LF."""
        self.lone_cr += [self.lines_out + i for i, text in enumerate(lines, start=1)
                         if text.endswith("\r")]

    def drain(self) -> None:
        """Check the rest of the file for encoding and control characters (after the rows
        stopped early), so that such a file reports the same finding however it ends."""
        for _ in self.texts():
            pass


class _ColumnCheck:
    """One column's checks, prepared once per validation (lookup tables, compiled patterns)."""

    def __init__(self, col: Column, idx: int, profile: Profile,
                 party_ranges: Sequence[EuiRange] | None) -> None:
        self.col, self.idx, self.kind = col, idx, col.type
        self.name, self.required = col.name, col.required
        self.pool: dict[str, str] = {}
        self.fold = False
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
        # values known to pass, as written -> parsed (pool values; EUIs and integers seen)
        self.fast: dict[str, object] = {}
        if self.pool:
            self.fast = {k: v for k, v in self.pool.items() if k and k == k.strip()}
        self.parse = {"integer": self._integer, "eui64": self._eui, "enum": self._pooled,
                      "service-request": self._pooled, "datetime": self._datetime,
                      }.get(col.type, self._text)

    def _issue(self, out: list[Issue] | None, line: int, row_index: int, rule: str, msg: str,
               severity: str = "error") -> list[Issue]:
        if out is None:
            out = []
        out.append(Issue(line, rule, msg, self.name, self.idx, severity, row_index))
        return out

    def __call__(self, raw: str, line: int, row_index: int) -> tuple[object, list[Issue] | None]:
        """The parsed value (None when it did not parse) and the findings (None if none)."""
        if not raw.isascii():  # before any case folding or stripping (see the module's text)
            return None, self._issue(None, line, row_index, "non-ascii",
                                     f"holds {non_ascii(raw)}; every value is ASCII.")
        if "\n" in raw or "\r" in raw:
            return None, self._issue(None, line, row_index, "line-break",
                                     f"{raw!r} holds a line break (CR or LF); a value is one "
                                     "line.")
        value = raw.strip()
        out: list[Issue] | None = None
        if value != raw:
            out = self._issue(out, line, row_index, "whitespace",
                              f"{raw!r} has leading or trailing spaces (ignored).", "warning")
        if not value:
            if self.required:
                out = self._issue(out, line, row_index, "required",
                                  f"{self.name} is required and is empty.")
            return None, out
        return self.parse(value, line, row_index, out)

    def _integer(self, value: str, line: int, row_index: int, out: list[Issue] | None
                 ) -> tuple[object, list[Issue] | None]:
        if not (value.isdigit() or _INT.fullmatch(value)):  # ASCII: checked before
            return None, self._issue(out, line, row_index, "non-numeric",
                                     f"{value!r} is not a whole number.")
        col = self.col
        digits = value.lstrip("+-").lstrip("0")  # leading zeros count to int()'s limit too
        if len(digits) > _MAX_DIGITS:  # int() refuses it; beyond any sensible bound anyway
            bound = col.minimum if value.startswith("-") else col.maximum
            side = "below the minimum" if value.startswith("-") else "above the maximum"
            return None, self._issue(
                out, line, row_index, "range",
                f"a number of {len(digits):,} digits is {side} {bound}." if bound is not None
                else f"a number of {len(digits):,} digits is too long (at most "
                     f"{_MAX_DIGITS:,}).")
        n = -int(digits or "0") if value.startswith("-") else int(digits or "0")
        shown = str(n) if len(digits) <= 40 else f"a number of {len(digits):,} digits"
        if col.minimum is not None and n < col.minimum:
            out = self._issue(out, line, row_index, "range",
                              f"{shown} is below the minimum {col.minimum}.")
        elif col.maximum is not None and n > col.maximum:
            out = self._issue(out, line, row_index, "range",
                              f"{shown} is above the maximum {col.maximum}.")
        elif out is None:
            self._remember(value, n)
        return n, out

    def _remember(self, value: str, parsed: object) -> None:
        """A value that passed as written: found again without parsing (a bounded cache)."""
        fast = self.fast
        if len(fast) >= _FAST_CACHE:
            fast.clear()
        fast[value] = parsed

    def _eui(self, value: str, line: int, row_index: int, out: list[Issue] | None
             ) -> tuple[object, list[Issue] | None]:
        if not _EUI_FORMS.fullmatch(value):
            return None, self._issue(out, line, row_index, "eui",
                                     f"{value!r} is not an EUI-64 (16 hex digits, as they are "
                                     "or in 8 pairs split by hyphens or by colons, e.g. "
                                     "90-B3-D5-1F-30-01-00-00).")
        n = int(value.replace("-", "").replace(":", ""), 16)
        if self.ranges is not None and not any(lo <= n <= hi for lo, hi in self.ranges):
            return n, self._issue(out, line, row_index, "not-party-eui",
                                  f"{Eui64.from_int(n)} is not an EUI-64 of this Party "
                                  f"(allocated: {self.ranges_text}).")
        if out is None:
            self._remember(value, n)
        return n, out

    def _pooled(self, value: str, line: int, row_index: int, out: list[Issue] | None
                ) -> tuple[object, list[Issue] | None]:
        hit = self.pool.get(value.upper() if self.fold else value)
        if hit is None:
            if self.kind == "enum":
                return None, self._issue(out, line, row_index, "unknown-value",
                                         f"{value!r} is not one of: "
                                         f"{', '.join(self.col.values)}.")
            return None, self._issue(
                out, line, row_index, "unknown-service-request",
                f"{value!r} is not a Service Request type of profile {self.profile_ref} "
                "(use ALL or a Service Reference Variant such as 1.1.1).")
        return hit, out

    def _datetime(self, value: str, line: int, row_index: int, out: list[Issue] | None
                  ) -> tuple[object, list[Issue] | None]:
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            return None, self._issue(out, line, row_index, "datetime",
                                     f"{value!r} is not an ISO 8601 date and time "
                                     "(e.g. 2026-11-01T10:15:00Z).")
        if dt.tzinfo is None:
            return None, self._issue(out, line, row_index, "datetime",
                                     f"{value!r} has no time zone (add Z for UTC).")
        return dt, out

    def _text(self, value: str, line: int, row_index: int, out: list[Issue] | None
              ) -> tuple[object, list[Issue] | None]:
        col = self.col
        if len(value) > col.max_length:
            return None, self._issue(out, line, row_index, "too-long",
                                     f"{len(value)} characters; at most {col.max_length}.")
        if self.pattern is not None and not self.pattern.fullmatch(value):
            return None, self._issue(out, line, row_index, "pattern",
                                     f"{value!r} does not have the expected form "
                                     f"({col.pattern}).")
        return value, out

    def key_part(self) -> Callable[[object], bytes]:
        """How this column's parsed value goes into a unique key: bytes without 0x00-0x02
        (the key store's markers); equal exactly when the values are equal once upper-cased,
        as duplicates have always been compared."""
        kind = self.kind
        if kind in ("enum", "service-request"):
            codes: dict[str, bytes] = {}
            for v in self.pool.values():
                u = v.upper()
                if u not in codes:
                    codes[u] = _small(len(codes))
            by_value: dict[object, bytes] = {v: codes[v.upper()] for v in self.pool.values()}
            return by_value.__getitem__
        if kind == "eui64":
            cache: dict[object, bytes] = {}

            def eui_part(v: object) -> bytes:
                b = cache.get(v)
                if b is None:
                    assert isinstance(v, int)
                    if len(cache) >= _FAST_CACHE:
                        cache.clear()
                    b = cache[v] = _escape(v.to_bytes(8, "big"))
                return b
            return eui_part
        if kind == "integer":
            return _decimal
        if kind == "datetime":
            return _instant
        enc = "utf-8"
        return lambda v: str(v).upper().encode(enc, "surrogatepass")  # no controls: refused


_LOW = re.compile(rb"[\x00-\x03]")


def _small(i: int) -> bytes:
    """A non-negative integer in base 252 with digits 4..255 (never a key store marker)."""
    out = bytearray()
    while True:
        i, d = divmod(i, 252)
        out.append(d + 4)
        if not i:
            return bytes(out)


def _decimal(v: object) -> bytes:
    assert isinstance(v, int)
    return b"%d" % v


def _escape(b: bytes) -> bytes:
    if _LOW.search(b) is None:
        return b
    return (b.replace(b"\x03", b"\x03\x03").replace(b"\x00", b"\x03\x04")
            .replace(b"\x01", b"\x03\x05").replace(b"\x02", b"\x03\x06"))


def _instant(v: object) -> bytes:
    """An aware datetime as its UTC instant (aware datetimes are equal by instant)."""
    assert isinstance(v, datetime)
    off = v.utcoffset()
    try:
        naive = (v - off).replace(tzinfo=None) if off else v.replace(tzinfo=None)
    except OverflowError:
        return v.isoformat().encode()
    return naive.isoformat().encode()


class _KeySet:
    """The unique keys seen so far, each with the line it was first seen on, exactly: records
    `00 key 01 line` packed into bytearrays (buckets by hash), about 20 bytes per row for the
    ADT key instead of a dictionary entry with its key objects (~150 bytes)."""

    BUCKETS = 1 << 15

    def __init__(self) -> None:
        self.buckets: list[bytearray | None] = [None] * self.BUCKETS
        self.mask = self.BUCKETS - 1

    def first_line(self, key: bytes, line: int) -> int:
        """The line `key` was first seen on, or 0 (and remember it on `line`) when new."""
        needle = b"\x00" + key + b"\x01"
        i = hash(needle) & self.mask
        bucket = self.buckets[i]
        if bucket is None:
            self.buckets[i] = bytearray(needle + _small(line))
            return 0
        at = bucket.find(needle)
        if at >= 0:
            start = at + len(needle)
            end = bucket.find(b"\x00", start)
            digits = bucket[start:end] if end >= 0 else bucket[start:]
            return sum((d - 4) * 252 ** k for k, d in enumerate(digits))
        bucket += needle
        bucket += _small(line)
        return 0


def validate(data: bytes, profile: Profile,
             party_ranges: Sequence[EuiRange] | None = None, *,
             keep_rows: bool = True) -> ValidationReport:
    """Check the exact bytes of a CSV against `profile`. `party_ranges` None skips the check
    that EUI columns marked `party_eui` lie in the Party's allocation. `keep_rows` False keeps
    only the findings and the row count."""
    return validate_stream(io.BytesIO(data), profile, party_ranges, keep_rows=keep_rows)


def validate_path(path: Path | str, profile: Profile,
                  party_ranges: Sequence[EuiRange] | None = None, *, keep_rows: bool = False,
                  on_row: Callable[[int, list[str]], None] | None = None) -> ValidationReport:
    """Check a file on disk, read once in chunks (see `validate_stream`)."""
    with open(path, "rb") as fh:
        return validate_stream(fh, profile, party_ranges, keep_rows=keep_rows, on_row=on_row)


def validate_stream(stream: BinaryIO, profile: Profile,
                    party_ranges: Sequence[EuiRange] | None = None, *, keep_rows: bool = False,
                    on_row: Callable[[int, list[str]], None] | None = None) -> ValidationReport:
    """Check a binary stream against `profile`, reading it once in 1 MiB chunks to its end.
    `on_row(line, fields)` sees every data row (a caller's own collection, e.g. the User IDs);
    when the file turns out not to be text (encoding, control character) the report holds that
    finding only, and what `on_row` saw is to be discarded."""
    report = ValidationReport(profile)
    head = b""
    while len(head) < 3:
        more = stream.read(3 - len(head))
        if not more:
            break
        head += more
    start = 0
    for bom in _BOMS:
        if head.startswith(bom):
            if profile.bom != "allowed" or bom != UTF8_BOM:
                report.add(Issue(1, "bom", "The file starts with a byte order mark; profile "
                                           f"{profile.ref} forbids it (save as UTF-8 without "
                                           "BOM)."))
                if bom != UTF8_BOM:
                    return report  # UTF-16: nothing else can be read sensibly
            start = len(bom)
            break
    rest = head[start:]
    first = rest + (stream.read(_CHUNK - len(rest)) or b"") if len(head) == 3 else rest
    source = _Source(stream, profile.encoding, first, start)
    before = list(report.issues)
    try:
        _check_rows(report, source, profile, party_ranges, keep_rows, on_row)
        source.drain()
    except _Fatal as fatal:
        report = ValidationReport(profile)
        for issue in before:
            report.add(issue)
        report.add(fatal.issue)
    return report


def _add_all(add: Callable[[Issue], None], found: list[Issue]) -> None:
    """Add a column check's findings."""
    for it in found:
        add(it)


def _check_rows(report: ValidationReport, source: _Source, profile: Profile,
                party_ranges: Sequence[EuiRange] | None, keep_rows: bool,
                on_row: Callable[[int, list[str]], None] | None) -> None:
    add = report.add
    ncols = len(profile.columns)
    reader = csv.reader(source.lines(), delimiter=profile.delimiter, strict=True)
    prev_end = 0
    header_seen = not profile.header
    names = profile.column_names
    key_idx = [names.index(u) for u in profile.unique]
    checks = [_ColumnCheck(c, i, profile, party_ranges)
              for i, c in enumerate(profile.columns, start=1)]
    fasts = [c.fast for c in checks]
    key_parts = [(k, checks[k].key_part()) for k in key_idx]
    seen = _KeySet()
    dup_msg = f"same {', '.join(profile.unique)} as line "
    dup_col = profile.unique[0] if profile.unique else ""
    dup_idx = key_idx[0] + 1 if key_idx else 0
    row_checks = [(chk, names.index(chk.lower), names.index(chk.upper),
                   chk.message or f"{chk.lower} must not be above {chk.upper}")
                  for chk in profile.checks]
    max_rows = profile.max_rows
    rows = report.rows
    try:
        for record in reader:
            line = prev_end + 1
            prev_end = reader.line_num
            if not record:
                add(Issue(line, "blank-line", "the line is empty; remove it."))
                continue
            if not header_seen:
                header_seen = True
                _check_header(report, profile, record, line)
                continue
            row_index = report.row_count
            if row_index >= max_rows:
                add(Issue(line, "too-many-rows", f"more than {max_rows} rows."))
                _lone_cr_issues(add, source.lone_cr, line)  # the lines read, however chunked
                return
            report.row_count = row_index + 1
            if keep_rows:
                rows.append(Row(line, tuple(record)))
            if on_row is not None:
                on_row(line, record)
            if len(record) != ncols:
                add(Issue(line, "ragged-row", f"{len(record)} field(s); every row of profile "
                                              f"{profile.ref} has {ncols}.",
                          row_index=row_index))
                continue
            parsed: list[object] = []
            for check, fast, raw in zip(checks, fasts, record, strict=True):
                value = fast.get(raw)
                if value is None:
                    value, found = check(raw, line, row_index)
                    if found:
                        _add_all(add, found)
                parsed.append(value)
            for chk, li, ui, msg in row_checks:
                lo, up = parsed[li], parsed[ui]
                if isinstance(lo, int) and isinstance(up, int) and lo > up:
                    add(Issue(line, chk.rule, f"{msg}: {lo} > {up}.", chk.lower, li + 1,
                              row_index=row_index))
            if key_parts:
                parts = []
                for k, part in key_parts:
                    v = parsed[k]
                    if v is None:
                        break
                    parts.append(part(v))
                else:
                    first = seen.first_line(b"\x02".join(parts), line)
                    if first:
                        add(Issue(line, "duplicate", f"{dup_msg}{first}.", dup_col, dup_idx,
                                  row_index=row_index))
    except csv.Error as exc:
        # the lines read past the last record depend on the chunking: only those before it
        _lone_cr_issues(add, source.lone_cr, prev_end)
        add(Issue(prev_end + 1, "csv-syntax", f"the line cannot be read as CSV ({exc}); "
                                              "check the quotes."))
        return
    _lone_cr_issues(add, source.lone_cr, 1 << 62)
    if not report.row_count:
        add(Issue(prev_end + 1, "empty-file", "the file has no data rows."))


def _lone_cr_issues(add: Callable[[Issue], None], lines: list[int], upto: int) -> None:
    """A finding for each line up to `upto` ending in a lone CR (then forgotten): told after
    the rows' findings, so that their order does not depend on where the chunks end."""
    told = 0
    for n in lines:
        if n > upto:
            break
        add(Issue(n, "line-ending", "the line ends with a lone CR (carriage return without a "
                                    "line feed); end lines with CRLF or LF."))
        told += 1
    del lines[:told]


def _check_header(report: ValidationReport, profile: Profile, record: list[str],
                  line: int) -> None:
    for i, raw in enumerate(record, start=1):  # ASCII and one line, before anything is stripped
        # a header past the profile's columns is no column of the file: a whole-line finding
        name, at = (profile.column_names[i - 1], i) if i <= len(profile.columns) else ("", 0)
        if not raw.isascii():
            report.add(Issue(line, "non-ascii", f"header {i} holds {non_ascii(raw)}; the "
                                                "header is ASCII.", name, at))
            return
        if "\n" in raw or "\r" in raw:
            report.add(Issue(line, "line-break", f"header {raw!r} holds a line break (CR or "
                                                 "LF).", name, at))
            return
    found = [h.strip() for h in record]
    if found == list(profile.column_names):
        for i, (raw, name) in enumerate(zip(record, found, strict=True), start=1):
            if raw != name:  # as a data cell with spaces: a warning, the name read stripped
                report.add(Issue(line, "whitespace", f"header {raw!r} has leading or trailing "
                                                     "spaces (ignored).", name, i, "warning"))
        return
    for i, want in enumerate(profile.column_names, start=1):
        got = found[i - 1] if i <= len(found) else None
        if got != want:
            report.add(Issue(line, "header",
                             f"the header must be {', '.join(profile.column_names)}; "
                             f"column {i} is {got!r}, expected {want!r}.", want, i))
            return
    report.add(Issue(line, "header", f"the header has {len(found)} columns; "
                                     f"profile {profile.ref} has {len(profile.columns)}."))


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
