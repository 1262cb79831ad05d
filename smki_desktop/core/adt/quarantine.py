"""Quarantined communications, pure: items read from a validated Report file, the ARO's
process/delete decisions (per row, in bulk, by filter), and the Action file's rows.

Every quarantined communication of the Report gets exactly one decision; an Action file that
leaves one out, or names one the Report does not hold, is refused naming the IDs or lines.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from smki_desktop.core.adt.validate import ValidationReport
from smki_desktop.core.errors import InputError, Refusal

ACTIONS = ("PROCESS", "DELETE")
REPORT_COLUMNS = ("Quarantine ID", "User ID", "User Role", "Service Request Type", "Request ID",
                  "Quarantined At", "Threshold", "Count")


@dataclass(frozen=True)
class QuarantineItem:
    quarantine_id: str
    user_id: str
    user_role: str
    service_request_type: str
    request_id: str
    quarantined_at: str
    threshold: str
    count: int
    line: int

    def as_dict(self) -> dict[str, object]:
        return {"quarantine_id": self.quarantine_id, "user_id": self.user_id,
                "user_role": self.user_role, "service_request_type": self.service_request_type,
                "request_id": self.request_id, "quarantined_at": self.quarantined_at,
                "threshold": self.threshold, "count": self.count, "line": self.line}


def parse_action(text: str, where: str = "Action") -> str:
    norm = text.strip().upper()
    if norm not in ACTIONS:
        raise InputError(f"{where}: {text!r} is not PROCESS or DELETE.")
    return norm


def items_from_report(report: ValidationReport) -> list[QuarantineItem]:
    """The quarantined communications of a Report file that passed validation."""
    report.raise_if_invalid("Quarantined Communications Report")
    names = report.profile.column_names
    missing = [c for c in REPORT_COLUMNS if c not in names]
    if missing:
        raise InputError(f"Report profile {report.profile.ref} lacks column(s) "
                         f"{', '.join(missing)}.")
    idx = {c: names.index(c) for c in REPORT_COLUMNS}
    out = []
    for row in report.rows:
        v = [s.strip() for s in row.values]
        out.append(QuarantineItem(
            quarantine_id=v[idx["Quarantine ID"]], user_id=v[idx["User ID"]],
            user_role=v[idx["User Role"]].upper(),
            service_request_type=v[idx["Service Request Type"]],
            request_id=v[idx["Request ID"]], quarantined_at=v[idx["Quarantined At"]],
            threshold=v[idx["Threshold"]].upper(),
            count=_count(v[idx["Count"]], row.line, idx["Count"] + 1), line=row.line))
    return out


def _count(text: str, line: int, column: int) -> int:
    """A Count cell as a number; refused naming line and column when it is not a whole number
    of at most 18 digits (whatever the profile let through)."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not (digits.isascii() and digits.isdigit()):
        raise InputError(f"Quarantined Communications Report line {line}, column {column} "
                         f"(Count): {text[:40]!r} is not a whole number.")
    if len(digits.lstrip("0")) > 18:
        raise InputError(f"Quarantined Communications Report line {line}, column {column} "
                         f"(Count): a number of {len(digits.lstrip('0')):,} digits is too "
                         "large for a count.")
    n = int(digits.lstrip("0") or "0")  # leading zeros count to int()'s digit limit
    return -n if text.startswith("-") else n


def parse_decisions(data: bytes, source: str = "decisions") -> dict[str, str]:
    """A decisions CSV: header `Quarantine ID,Action`, then one row per communication."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"{source} line {line}: not UTF-8 text.") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    out: dict[str, str] = {}
    first: dict[str, int] = {}
    prev = 0
    header_done = False
    try:
        for rec in reader:
            line = prev + 1
            prev = reader.line_num
            if not rec or all(not f.strip() for f in rec):
                continue
            if not header_done:
                header_done = True
                if [f.strip().lower() for f in rec] == ["quarantine id", "action"]:
                    continue
                raise InputError(f"{source} line {line}: the header must be "
                                 "'Quarantine ID,Action'.")
            if len(rec) != 2:
                raise InputError(f"{source} line {line}: {len(rec)} fields; expected 2 "
                                 "(Quarantine ID, Action).")
            qid = rec[0].strip()
            if not qid:
                raise InputError(f"{source} line {line}: Quarantine ID is empty.")
            if qid in first:
                raise InputError(f"{source} line {line}: Quarantine ID {qid} was already "
                                 f"decided on line {first[qid]}.")
            out[qid] = parse_action(rec[1], f"{source} line {line}, column 2 (Action)")
            first[qid] = line
    except csv.Error as exc:
        raise InputError(f"{source} line {prev + 1}: cannot be read as CSV ({exc}).") from None
    return out


@dataclass(frozen=True)
class Filter:
    """Select items for a bulk decision; empty fields match everything."""

    user_id: str = ""
    user_role: str = ""
    service_request_type: str = ""
    threshold: str = ""
    text: str = ""  # substring of the Quarantine ID or Request ID
    since: datetime | None = None
    until: datetime | None = None

    def matches(self, item: QuarantineItem) -> bool:
        if self.user_id and item.user_id.replace("-", "").upper() != \
                self.user_id.replace("-", "").upper():
            return False
        if self.user_role and item.user_role != self.user_role.upper():
            return False
        if self.service_request_type and \
                item.service_request_type.upper() != self.service_request_type.upper():
            return False
        if self.threshold and item.threshold != self.threshold.upper():
            return False
        if self.text and self.text.lower() not in (item.quarantine_id + " " +
                                                   item.request_id).lower():
            return False
        if self.since or self.until:
            at = datetime.fromisoformat(item.quarantined_at)
            if self.since and at < self.since:
                return False
            if self.until and at > self.until:
                return False
        return True


def decide_bulk(items: Iterable[QuarantineItem], decisions: Mapping[str, str], flt: Filter,
                action: str) -> dict[str, str]:
    """A copy of `decisions` with every item matching `flt` set to `action`."""
    act = parse_action(action)
    out = dict(decisions)
    for it in items:
        if flt.matches(it):
            out[it.quarantine_id] = act
    return out


def action_rows(items: list[QuarantineItem], decisions: Mapping[str, str],
                default: str | None = None) -> list[tuple[str, str, str]]:
    """Rows of the Action file (Quarantine ID, Request ID, Action), in the Report's order."""
    known = {it.quarantine_id for it in items}
    unknown = sorted(set(decisions) - known)
    if unknown:
        raise InputError("Decisions name Quarantine ID(s) the Report does not hold: "
                         + ", ".join(unknown[:10]) + ("…" if len(unknown) > 10 else "") + ".")
    dflt = parse_action(default, "Default decision") if default else None
    rows = []
    undecided = []
    for it in items:
        act = decisions.get(it.quarantine_id, dflt)
        if act is None:
            undecided.append(f"{it.quarantine_id} (report line {it.line})")
            continue
        rows.append((it.quarantine_id, it.request_id, parse_action(act)))
    if undecided:
        raise Refusal(f"{len(undecided)} quarantined communication(s) have no decision: "
                      + ", ".join(undecided[:10]) + ("…" if len(undecided) > 10 else "")
                      + ". Decide each one, or give a default (process or delete).")
    if not rows:
        raise Refusal("The Report holds no quarantined communications: no Action file needed.")
    return rows
