"""The quarantine workflow: import a Quarantined Communications Report file, keep the ARO's
process/delete decisions, produce the Action file and sign it (through `services.adt`).

The saved decisions (drafts) are used only when the audit record written when they were saved
vouches for them (`services.quarantine_drafts`); the others are named, not used. The Action
file is built in memory and signed only as those bytes: `adt.sign_file` is given their SHA-256
and refuses a file that was changed or replaced on disk between its writing and its signing."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smki_desktop.core.adt.manifest import check_smsr
from smki_desktop.core.adt.quarantine import (
    QuarantineItem,
    action_rows,
    items_from_report,
    parse_action,
    parse_decisions,
)
from smki_desktop.core.adt.validate import ValidationReport, render_csv
from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.errors import InputError, NotFound, SmkiError
from smki_desktop.core.ports import Signer
from smki_desktop.services import adt
from smki_desktop.services import quarantine_drafts as drafts
from smki_desktop.services.context import AppContext
from smki_desktop.store.atomic import check_output, write_atomic
from smki_desktop.store.repos import quarantine as q_repo


@dataclass(frozen=True)
class ImportedReport:
    report_id: int
    name: str
    sha256: str
    items: list[QuarantineItem]
    validation: ValidationReport
    decisions: dict[str, str]
    """The saved decisions the audit log vouches for (the others are in `drafts_not_used`)."""
    audit: AuditEntry | None  # None when the same report was imported before
    not_used: Mapping[str, str] = field(default_factory=dict)
    """The saved decisions no proven audit record vouches for: quarantine id -> the sentence
    saying why it is not used."""

    @property
    def drafts_not_used(self) -> tuple[str, ...]:
        return tuple(self.not_used[q] for q in sorted(self.not_used))

    def as_dict(self) -> dict[str, Any]:
        return {"report_id": self.report_id, "name": self.name, "sha256": self.sha256,
                "items": [dict(i.as_dict(), decision=self.decisions.get(i.quarantine_id, ""))
                          for i in self.items],
                "drafts_not_used": list(self.drafts_not_used)}


def import_report(ctx: AppContext, path: Path) -> ImportedReport:
    """Validate a Report file against its profile and keep its items (idempotent by hash)."""
    path = Path(path)
    # read once: the rows are kept (they are the items), the file's bytes are not
    validation, sha = adt.validate_file_hashed(ctx, path, "quarantine-report", keep_rows=True)
    items = items_from_report(validation)  # refuses an invalid report, naming lines
    validation.rows.clear()  # the items hold what the workflow needs
    known = q_repo.report_with_sha(ctx.db, ctx.env.value, sha)
    if known is not None:
        saved = drafts.saved(ctx, known)
        return ImportedReport(known.report_id, path.name, sha, items, validation,
                              saved.proven, None, saved.not_used)
    with ctx.audit.change():
        rid = q_repo.add_report(ctx.db, ctx.env.value, path.name, sha, validation.profile.ref,
                                ctx.clock.now().isoformat(),
                                [(it.quarantine_id, json.dumps(it.as_dict())) for it in items])
        entry = ctx.audit.record("quarantine.import", {"name": path.name, "items": len(items),
                                                       "profile": validation.profile.ref},
                                 {"report": sha})
    return ImportedReport(rid, path.name, sha, items, validation, {}, entry)


def _report_row(ctx: AppContext, report_id: int) -> q_repo.ReportRow:
    report = q_repo.get_report(ctx.db, ctx.env.value, report_id)
    if report is None:
        raise NotFound(f"No quarantine report {report_id} in the {ctx.env.label} environment.")
    return report


def decisions(ctx: AppContext, report_id: int) -> dict[str, str]:
    """The saved decisions on a report's items that the audit log vouches for."""
    return drafts.saved(ctx, _report_row(ctx, report_id)).proven


def save_decisions(ctx: AppContext, report_id: int, chosen: Mapping[str, str]) -> int:
    """Keep draft decisions (the GUI's choices) so work survives a restart, with the audit
    record that vouches for them; returns how many were saved."""
    report = _report_row(ctx, report_id)
    entry = drafts.save(ctx, report, {qid: parse_action(act) if act else ""
                                      for qid, act in chosen.items()})
    return int(entry.details.get("saved", 0)) if entry is not None else 0


@dataclass(frozen=True)
class ActionResult:
    action_file: Path
    sha256: str
    rows: int
    processed: int
    deleted: int
    audit: AuditEntry
    signed: adt.SignResult | None
    from_saved: int = 0
    """Decisions taken from those saved for the Report earlier (not named this time)."""
    by_default: int = 0
    """Communications no decision named, given the default."""
    drafts_not_used: tuple[str, ...] = ()
    """Saved decisions not used, as no proven audit record vouches for them: one sentence
    each, naming the communication."""

    def as_dict(self) -> dict[str, Any]:
        return {"action_file": str(self.action_file), "sha256": self.sha256, "rows": self.rows,
                "process": self.processed, "delete": self.deleted, "audit_seq": self.audit.seq,
                "signed": self.signed.as_dict() if self.signed else None,
                "from_saved": self.from_saved, "by_default": self.by_default,
                "drafts_not_used": list(self.drafts_not_used)}


def outputs_in_the_way(ctx: AppContext, out: Path) -> list[Path]:
    """What writing and signing the Action file at `out` would replace: the file and its
    signature set (replaced only with `overwrite`)."""
    out = Path(out)
    return ([out] if out.exists() else []) + adt.outputs_in_the_way(ctx, out)


def refuse_output_over_inputs(out: Path, report_path: Path,
                              decisions_csv: Path | None = None) -> None:
    """Refuse an Action file `out` that is the Report or the decisions file (by path or as a
    link to it): no `overwrite` allows it, so the GUI refuses it before offering to replace."""
    inputs = [("the Report", Path(report_path))]
    if decisions_csv is not None:
        inputs.append(("the decisions file", Path(decisions_csv)))
    for what, p in inputs:
        if adt.same_file(Path(out), p):
            raise InputError(f"{out}: the Action file would be written over {what} ({p}); "
                             "choose another name. Nothing was written.")


def build_action_file(ctx: AppContext, report_path: Path, out: Path, *,
                      chosen: Mapping[str, str] | None = None,
                      decisions_csv: Path | None = None, default: str | None = None,
                      key_ref: str | None = None, smsr: str | None = None,
                      overwrite: bool = False,
                      signer: AbstractContextManager[Signer] | None = None,
                      as_ref: str | None = None, use_saved: bool = True) -> ActionResult:
    """The Action file for one Report: a decision for every quarantined communication (from
    `chosen`, a decisions CSV, the saved drafts unless `use_saved` is false, then `default`),
    validated, written, and signed when `key_ref` is given. Every input is checked before
    anything is written; a signing that fails puts back the file `out` held before. Only the
    drafts an audit record vouches for are used (the others are named in `drafts_not_used`);
    only the bytes built here are signed (a file swapped on disk is refused)."""
    out = Path(out)
    refuse_output_over_inputs(out, report_path, decisions_csv)
    if key_ref is not None:
        check_smsr(smsr)  # refused now, not after the Action file was written
    imported = import_report(ctx, report_path)
    saved = dict(imported.decisions) if use_saved else {}
    not_used = dict(imported.not_used) if use_saved else {}
    named: dict[str, str] = {}
    if decisions_csv is not None:
        named.update(parse_decisions(adt.read_limited(Path(decisions_csv), 64 << 20),
                                     str(decisions_csv)))
    if chosen:
        named.update({k: parse_action(v) for k, v in chosen.items()})
    saved = {k: v for k, v in saved.items() if v and k not in named}
    # a draft not used that is decided now (named) is no longer worth a word
    unproven = tuple(m for q, m in sorted(not_used.items()) if q not in named)
    rows = action_rows(imported.items, {**saved, **named}, default)
    profile = adt.active_profile(ctx, "quarantine-action")
    data = render_csv(profile, rows)
    adt.validate_bytes(ctx, data, "quarantine-action", profile).raise_if_invalid("Action file")
    if key_ref is not None:
        # check the signer and every output before writing anything
        adt.signing_identity(ctx, key_ref, as_ref=as_ref)
        check_output(out, overwrite=overwrite)
        adt.check_sign_outputs(ctx, out, overwrite=overwrite)
    before = out.read_bytes() if key_ref is not None and out.is_file() else None
    write_atomic(out, data, overwrite=overwrite)
    sha = hashlib.sha256(data).hexdigest()
    processed = sum(1 for r in rows if r[2] == "PROCESS")
    with ctx.audit.change():  # the decisions, the file's hash and the record: one transaction
        # what the officer decided is kept as drafts; what the default filled in is not, so
        # that the next run's default still applies to it
        # (the saved ones are kept as they are: their records vouch for them already)
        save_decisions(ctx, imported.report_id, named)
        q_repo.set_action_sha(ctx.db, imported.report_id, sha)
        entry = ctx.audit.record(
            "quarantine.action",
            {"report": imported.name, "action_file": str(out), "rows": len(rows),
             "process": processed, "delete": len(rows) - processed,
             "from_saved": len(saved), "by_default": len(rows) - len(saved) - len(named),
             "drafts_not_used": len(unproven)},
            {"report": imported.sha256, "action_file": sha})
    signed = None
    if key_ref is not None:
        try:
            # only the bytes built here: a file swapped on disk since is refused, unsigned
            signed = adt.sign_file(ctx, out, key_ref, smsr=smsr, kind="quarantine-action",
                                   overwrite=overwrite, signer=signer, as_ref=as_ref,
                                   expect_sha256=sha)
        except BaseException as exc:
            # nothing half-done: an unsigned Action file must not be left to be sent, and the
            # file it replaced (its own signature set still beside it) comes back
            _withdraw(ctx, out, before, exc)
            raise
    return ActionResult(out, sha, len(rows), processed, len(rows) - processed, entry,
                        signed, len(saved), len(rows) - len(saved) - len(named), unproven)


def _withdraw(ctx: AppContext, out: Path, before: bytes | None, exc: BaseException) -> None:
    """Undo the Action file whose signing failed, and say so in the audit log."""
    with contextlib.suppress(OSError):
        if before is None:
            out.unlink(missing_ok=True)
        else:
            write_atomic(out, before, overwrite=True)
    with contextlib.suppress(Exception):
        ctx.audit.record("quarantine.action-withdrawn",
                         {"action_file": str(out), "restored": before is not None,
                          "reason": exc.message if isinstance(exc, SmkiError)
                          else f"{type(exc).__name__}: {exc}"})


def reports(ctx: AppContext) -> list[dict[str, Any]]:
    return [r.as_dict() for r in q_repo.list_reports(ctx.db, ctx.env.value)]
