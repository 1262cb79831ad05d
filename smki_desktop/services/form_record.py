"""Is an officer's stored nomination the one recorded when it was made? The values a form is
printed from again sit in the register's `form_values` column, which anyone who can write the
database can rewrite (the threat of services/audit.py). What they cannot rewrite:

- the register log's `nominate` change, which carries the SHA-256 of the nomination record
  (`nomination_form`); the log extends its keyring anchor (services/officers.py);
- the audit log's `officer.nominate` record, whose artifact `record` is that same SHA-256, when
  the log proves SMKI Desktop wrote it (`AuditLog.vouched`);
- the register log's `verify` changes, which carry the verification meeting's values.

The nomination record itself is kept in the store (`nomination_records`, written with the
register entry) and as the file `<officer id>-<form>.json` of the officers folder of the
workstation that made the nomination: the store's copy is read first (any workstation of a team
store has it), the file when the store has none or the store's copy is not the recorded one.
Either counts only when its SHA-256 is the recorded one, so rewriting the store's copy gains a
store user nothing. The stored values must then equal the record's, with the last applied
verification's values in the `verification` page.

An entry made before the store kept records has only the file: when the file is the recorded
one, its bytes are copied into the store (once; a copy kept already is never replaced), so that
the other workstations of a team store can check it too. That copy is not audited: its bytes are
fixed by the SHA-256 the register log and the audit log already hold, so it records no decision
and changes what no check accepts (as the officer profile taken back in services/context.py).
A store that cannot take the copy (read-only, unreachable) leaves the check as it was.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.errors import SmkiError
from smki_desktop.core.forms import FormSchema
from smki_desktop.core.officers import Officer
from smki_desktop.services.context import AppContext
from smki_desktop.services.form_schemas import all_schemas
from smki_desktop.services.officers import AppliedChange, all_applied_changes, form_values
from smki_desktop.store.repos import officers as officers_repo

VERIFICATION_KEYS = ("verification.date", "verification.verifier", "verification.evidence",
                     "verification.outcome")


@dataclass(frozen=True)
class StoredForm:
    """The outcome of the check: `problem` is None when the stored values are the recorded
    ones; `values` are the stored values."""

    officer_id: str
    values: dict[str, Any]
    problem: str | None
    audit_seq: int | None = None


def _nominate_record(ctx: AppContext, officer_id: str) -> AuditEntry | None:
    """The last `officer.nominate` record of `officer_id` that the audit log proves."""
    found = [e for e in ctx.audit.vouched(("officer.nominate",))
             if str(e.details.get("officer_id", "")).upper() == officer_id.upper()]
    return found[-1] if found else None


def _recorded_record(ctx: AppContext, officer_id: str, form_id: str, expected_sha: str,
                     where: str) -> tuple[bytes | None, str]:
    """The nomination record whose SHA-256 is `expected_sha`: the store's copy, else the
    officers folder's file (copied into the store when the store has none). Returns the bytes
    and where they came from, or None and why there are none."""
    kept = officers_repo.nomination_record(ctx.db, officer_id)
    if kept is not None and hashlib.sha256(kept).hexdigest() == expected_sha:
        return kept, "in the store"
    path = ctx.paths.feature_dir("officers") / f"{officer_id}-{form_id}.json"
    forged = (" and neither is the one kept in the store" if kept is not None
              else "")
    try:
        raw = path.read_bytes()
    except OSError:
        if kept is not None:
            return None, (f"its nomination record in the store is not the one recorded at its "
                          f"nomination ({where}) and its file {path} is missing or unreadable")
        return None, (f"its nomination record is not in the store and its file {path} is "
                      "missing or unreadable")
    if hashlib.sha256(raw).hexdigest() != expected_sha:
        return None, (f"its nomination record {path} is not the one recorded at its "
                      f"nomination ({where}){forged}")
    if kept is None:
        try:
            officers_repo.keep_nomination_record(ctx.db, officer_id, ctx.env.value, raw,
                                                 ctx.clock.now().isoformat())
        except (SmkiError, sqlite3.Error):
            pass  # kept the next time the store takes it; the file is the record meanwhile
    return raw, str(path)


def _expected_sha(nominate: AppliedChange | None, audit: AuditEntry | None
                  ) -> tuple[str | None, str]:
    """The SHA-256 of the nomination record, as the register log's `nominate` change and the
    audit log's `officer.nominate` record give it, or None and why there is none."""
    logged = str((nominate.change.get("details") or {}).get("nomination_form", "")
                 ) if nominate is not None else ""
    audited = str(audit.artifacts.get("record", "")) if audit is not None else ""
    if not logged and not audited:
        return None, "has no nomination recorded in the register log or the audit log"
    if logged and audited and logged != audited:
        return None, (f"is recorded with two different nomination records (register log "
                      f"entry {nominate.seq if nominate else '?'} and audit record "
                      f"{audit.seq if audit else '?'})")
    return logged or audited, ""


def _name(schema: FormSchema | None, key: str) -> str:
    for f in schema.fields() if schema is not None else ():
        if f.key == key:
            return f"{key} ({f.label})"
    return key


def check_stored_form(ctx: AppContext, officer_id: str, form_id: str,
                      schema: FormSchema | None, self_nominated: bool,
                      applied: list[AppliedChange] | None = None) -> StoredForm:
    """Compare the stored form values (and the self-nomination flag) of `officer_id` with the
    recorded nomination and verification; the problem names each field that differs.
    `applied` is the register log's applied changes (all officers), when already replayed."""
    stored = form_values(ctx, officer_id)
    changes = [a for a in (applied if applied is not None else all_applied_changes(ctx))
               if str(a.change.get("officer_id", "")).upper() == officer_id.upper()]
    nominate = next((c for c in changes if c.change.get("action") == "nominate"), None)
    verify = [c for c in changes if c.change.get("action") == "verify"]
    audit = _nominate_record(ctx, officer_id)
    seq = audit.seq if audit is not None else None
    where = (f"audit record {seq}" if seq is not None
             else f"register log entry {nominate.seq}" if nominate is not None else "")
    head = f"the stored nomination of {officer_id}"

    def refused(problem: str) -> StoredForm:
        return StoredForm(officer_id, stored, f"{head} {problem}; it is not printed", seq)

    expected_sha, problem = _expected_sha(nominate, audit)
    if expected_sha is None:
        return refused(problem)
    raw, problem = _recorded_record(ctx, officer_id, form_id, expected_sha, where)
    if raw is None:
        return refused(f"cannot be checked: {problem}")
    try:
        record = json.loads(raw)
        recorded = dict(record["values"])
    except (ValueError, KeyError, TypeError):
        return refused(f"cannot be checked: its nomination record {problem} is not readable")
    differ = _differences(record, recorded, verify, stored, form_id, self_nominated)
    if not differ:
        return StoredForm(officer_id, stored, None, seq)
    nomination_keys = [k for k in differ if k not in VERIFICATION_KEYS]
    what = (f"differs from the one recorded at its nomination ({where})"
            if nomination_keys else "differs from its recorded verification meeting")
    if nomination_keys and len(nomination_keys) < len(differ):
        what += " and its recorded verification meeting"
    return refused(f"{what}: " + ", ".join(_name(schema, k) for k in differ))


def _differences(record: dict[str, Any], recorded: dict[str, Any],
                 verify: list[AppliedChange], stored: dict[str, Any], form_id: str,
                 self_nominated: bool) -> list[str]:
    """The keys whose stored value is not the recorded one: the nomination record's values,
    with the last applied verification's in the `verification` page; "form" and
    "self-nomination" when those differ."""
    expected: dict[str, Any] = dict(recorded)
    if verify:
        d = verify[-1].change.get("details") or {}
        expected.update({"verification.date": d.get("date"),
                         "verification.verifier": d.get("verifier"),
                         "verification.evidence": list(d.get("evidence") or []),
                         "verification.outcome": d.get("outcome")})
    differ = [k for k in sorted(set(expected) | set(stored))
              if expected.get(k) != stored.get(k)]
    if str(record.get("form", form_id)) != form_id:
        differ.insert(0, "form")
    if bool(record.get("self_nomination")) != bool(self_nominated):
        differ.append("self-nomination")
    return differ


def stored_form_problems(ctx: AppContext, officers: list[Officer]) -> dict[str, str]:
    """For the register view: each officer whose stored nomination is not the recorded one,
    with the problem as a sentence (one replay of the register log for all of them)."""
    schemas = {s.form_id: s for s in all_schemas()}
    applied = all_applied_changes(ctx)
    out: dict[str, str] = {}
    for o in officers:
        checked = check_stored_form(ctx, o.officer_id, o.form_id, schemas.get(o.form_id),
                                    o.self_nominated, applied)
        if checked.problem is not None:
            text = checked.problem.replace("; it is not printed", "")
            out[o.officer_id] = text[0].upper() + text[1:] + "."
    return out


def stored_form_problem(ctx: AppContext, officer: Officer) -> str | None:
    """The problem of one officer's stored nomination, or None (for the officer's own view)."""
    return stored_form_problems(ctx, [officer]).get(officer.officer_id)
