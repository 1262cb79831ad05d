"""Packaging a validated source for the SMKI Portal: the batch zips (split with a manifest when
needed) and the reject report (`portal/upload.py`), and a batch record with one row per
packaged Device CSR. Also the batch record itself, shared with the web-service submission.

The files are staged first; the batch and its audit record commit next, and only then are
the files put in place, so no zip appears that the app does not know. A process stopped
(killed, power cut) before the commit leaves no batch and no visible file, only its staging
folder, which the next packaging into that folder (or the overview, in a packaged batch's
folder) removes once the lock its process held there is free (`clear_stopped_staging`);
stopped after it, its staged files are checked against the record and placed by
`finish_packaging`, which `package` and the batch overview run first. Placing that fails takes
the record back. The rules that depend on the store are checked again inside the transaction
that records a batch (`recheck_store_rules`): another workstation's batch recorded meanwhile is
seen.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from smki_desktop.core import batch_formats as bf
from smki_desktop.core import device_batch as batch
from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.errors import Refusal, SmkiError
from smki_desktop.core.ports import NullProgress, ProgressSink
from smki_desktop.portal import upload
from smki_desktop.services import crossing
from smki_desktop.services.context import AppContext
from smki_desktop.services.devices.validation import ValidationResult, known_keys, validate
from smki_desktop.store import fault_point
from smki_desktop.store.atomic import OutputError
from smki_desktop.store.repos import devices as repo

PICKUP_DAYS = 30


@dataclass
class PackageResult:
    batch_id: str
    validation: ValidationResult
    files: upload.PackagedBatch
    audit: AuditEntry
    finished: dict[str, str] = field(default_factory=dict)
    """What `finish_packaging` said first of earlier batches (batch id -> note)."""
    cleared: list[str] = field(default_factory=list)
    """The staging folders of packagings stopped before their record, removed (or left)
    first, in plain words (`clear_stopped_staging`)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "finished": dict(self.finished),
            "cleared": list(self.cleared),
            "zips": [str(p) for p in self.files.zips],
            "counts": self.files.counts,
            "manifest": str(self.files.manifest) if self.files.manifest else None,
            "reject_report": str(self.files.reject_report) if self.files.reject_report else None,
            "validation": self.validation.as_dict(limit=1000),
        }


def new_batch_id(ctx: AppContext) -> str:
    return f"DB{ctx.clock.now():%Y%m%d%H%M%S}{uuid.uuid4().hex[:6].upper()}"


def package(ctx: AppContext, path: Path, out_dir: Path, *, batch_name: str | None = None,
            max_per_zip: int = bf.MAX_CSRS_PER_ZIP, progress: ProgressSink | None = None,
            processes: int | None = None) -> PackageResult:
    """Validate, then write portal zips (split with a manifest when needed) and the reject
    report, and record every packaged CSR. All files or none: they are staged, the batch's
    rows and record commit, then the files are placed (a failure there takes the record
    back). Earlier packagings stopped before their files were placed are finished first."""
    sink = progress or NullProgress()
    crossing.require_party(ctx, "Device batch")  # Live packages nothing without a Party
    out = Path(out_dir)
    finished, cleared = _finish(ctx, out)
    result = validate(ctx, path, progress=sink, processes=processes)
    if not result.accepted:
        raise Refusal(f"{path}: no valid CSR to package ({len(result.rejected)} rejected).")
    batch_id = new_batch_id(ctx)
    name = batch_name or batch_id
    reject_csv = batch.reject_report_csv(result.rejected) if result.rejected else None
    recorded: list[AuditEntry] = []

    def record(files: upload.PackagedBatch, staging: Path) -> None:
        # the staged files are complete; the batch and its record commit before they appear
        digests: dict[str, bytes | str] = {p.name: upload.sha256_file(staging / p.name)
                                           for p in files.files}
        with ctx.audit.change():
            record_batch(ctx, batch_id, name, "portal-zip", "packaged", result.accepted,
                         out_dir=out.absolute(), files=[str(p.absolute()) for p in files.files])
            entry = ctx.audit.record(
                "devices.package",
                {"batch_id": batch_id, "name": name, "source": str(path),
                 "valid": len(result.accepted), "rejected": len(result.rejected),
                 "zips": [p.name for p in files.zips], "counts": files.counts,
                 "out_dir": str(out.absolute())},
                digests,
            )
        recorded.append(entry)  # committed
        fault_point.reached("devices.package:place")  # tests: kill here, recorded, not placed

    try:
        files = upload.write_batch(out, name, [(a.file_name, a.der) for a in result.accepted],
                                   environment=ctx.env.value, max_per_zip=max_per_zip,
                                   reject_csv=reject_csv, progress=sink, before_place=record)
    except BaseException as exc:
        if recorded:  # recorded, but the files could not all be placed: take the record back
            _undo(ctx, batch_id, name, exc)
        raise
    return PackageResult(batch_id, result, files, recorded[0], finished,
                         [note for _folder, note in cleared])


def _undo(ctx: AppContext, batch_id: str, name: str, exc: BaseException) -> None:
    """Delete the batch recorded by a package whose files could not be placed (the files
    placed are taken back by `write_batch`), with a record naming the cause."""
    cause = exc.message if isinstance(exc, SmkiError) else (str(exc) or type(exc).__name__)
    try:
        with ctx.audit.change():
            with ctx.db.transaction() as c:
                repo.delete_batch(c, batch_id)
            ctx.audit.record("devices.package-undone",
                             {"batch_id": batch_id, "name": name, "cause": cause})
    except Exception as undo_exc:
        if not isinstance(exc, Exception):
            return  # an interruption: it goes on; status names the missing files
        raise OutputError(
            f"{cause} The batch {batch_id} was recorded but its files are not in place, "
            f"and its record could not be taken back ({undo_exc}); the batch status names "
            "its missing files.") from exc


def finish_packaging(ctx: AppContext) -> dict[str, str]:
    """Every packaged batch whose files are not all in its output folder: when the folder
    still holds the batch's staging folder (its packaging was stopped after the record, before
    the files were placed) and the staged files match the record, place them; otherwise say
    which files are missing. Then the staging folders of packagings stopped before their
    record, in those output folders, are removed (`clear_stopped_staging`); each said in the
    note of the newest batch packaged into that folder. Returns a note per batch (batch id ->
    words)."""
    notes, cleared = _finish(ctx)
    sets = repo.packaged_file_sets(ctx.db, ctx.env.value) if cleared else []
    for folder, note in cleared:
        newest = [fs.batch_id for fs in sets if Path(fs.out_dir) == folder]
        if newest:
            said = notes.get(newest[-1], "")
            notes[newest[-1]] = "; ".join(w for w in (said, f"in its output folder, {note}") if w)
    return notes


def _finish(ctx: AppContext, also: Path | None = None
            ) -> tuple[dict[str, str], list[tuple[Path, str]]]:
    """`finish_packaging`'s work: the notes per batch, and the notes on staging folders
    removed or left (output folder, words) in the output folders of the packaged batches and
    in `also`."""
    notes: dict[str, str] = {}
    sets = repo.packaged_file_sets(ctx.db, ctx.env.value)
    for fs in sets:
        out = Path(fs.out_dir)
        if not out.is_absolute() or not fs.names:
            continue  # recorded before output folders were kept absolute: cannot tell
        missing = [n for n in fs.names if not (out / n).is_file()]
        if not missing:
            continue
        if not out.is_dir():
            notes[fs.batch_id] = (f"its output folder {out} is not there (moved, deleted or not "
                                  f"mounted): its {_count(len(fs.names), 'file')} cannot be "
                                  "found")
            continue
        with contextlib.ExitStack() as claims:
            stagings = upload.staging_folders(out, fs.name)
            states = [claims.enter_context(upload.claim_staging(st)) for st in stagings]
            if upload.HELD in states:
                continue  # its packaging is running now: it places its files itself
            stagings = [st for st, state in zip(stagings, states, strict=True) if state]
            if not stagings:
                notes[fs.batch_id] = (f"{len(missing)} of its files "
                                      f"{'is' if len(missing) == 1 else 'are'} not in {out} "
                                      f"({', '.join(missing)}): moved or deleted since it was "
                                      "packaged")
                continue
            try:
                note = _place_recorded(ctx, fs, out, stagings)
            except SmkiError as exc:
                note = exc.message
            except OSError as exc:
                note = (f"its packaging was stopped before its files were put in place, and "
                        f"they could not be placed: {exc.filename or out}: "
                        f"{exc.strerror or exc}")
        if note:
            notes[fs.batch_id] = note
    folders = {Path(fs.out_dir) for fs in sets if Path(fs.out_dir).is_absolute()}
    if also is not None:
        folders.add(Path(also).absolute())
    cleared = [(folder, note) for folder in sorted(folders)
               for note in clear_stopped_staging(ctx, folder)]
    return notes, cleared


STOPPED = ("removed the unfinished files of a packaging that was stopped before it was "
           "recorded: ")


def clear_stopped_staging(ctx: AppContext, out_dir: Path) -> list[str]:
    """Remove, from `out_dir`, the staging folders of packagings stopped before their batch
    was recorded: those whose lock is free (their process has ended) and that belong to no
    recorded batch still to be placed (`finish_packaging` places those). Each removal is
    audited. One a packaging holds the lock of (running now) is left alone, as is anything
    not exactly a staging folder of ours (a link or a file named like one). Staging folders
    without a lock file (made by a version before the lock) cannot be told from a packaging
    running now: they are left, and named for the user to remove. Returns a note per folder
    removed or left."""
    out = Path(out_dir).absolute()
    notes: list[str] = []
    for staging in upload.all_staging_folders(out):
        name = upload.staging_batch(staging)
        with upload.claim_staging(staging) as state:
            if state in ("", upload.HELD) or _awaits_placing(ctx, out, name):
                continue  # not ours, running now, or a recorded batch's to place
            if state == upload.NO_LOCK:
                notes.append(
                    "left the files of a packaging that was stopped before it was recorded, "
                    "made by an earlier version of the app (it cannot be told from a packaging "
                    f"still running): {staging}; remove that folder when no packaging is "
                    "running")
                continue
            with ctx.audit.change():  # one process at a time
                if _awaits_placing(ctx, out, name):
                    continue  # recorded meanwhile (cannot be: its lock was free); left
                try:
                    files = upload.remove_stopped_staging(staging)
                except (SmkiError, OSError) as exc:
                    why = exc.message if isinstance(exc, SmkiError) else (
                        f"{exc.filename or staging}: {exc.strerror or exc}")
                    notes.append(f"could not remove the unfinished files of a packaging that "
                                 f"was stopped before it was recorded, {staging}: {why}")
                    continue
                ctx.audit.record("devices.package-staging-removed",
                                 {"folder": str(staging), "out_dir": str(out), "name": name,
                                  "files": files})
            notes.append(STOPPED + str(staging))
    return notes


def _awaits_placing(ctx: AppContext, out: Path, name: str) -> bool:
    """Whether a packaged batch of this name, recorded into `out`, has files not in place:
    a staging folder of that name may be the one it is placed from."""
    return any(fs.name == name and Path(fs.out_dir) == out
               and any(not (out / n).is_file() for n in fs.names)
               for fs in repo.packaged_file_sets(ctx.db, ctx.env.value))


def _place_recorded(ctx: AppContext, fs: repo.PackagedFiles, out: Path,
                    stagings: Sequence[Path]) -> str:
    """Place the staged files of a recorded batch, from the first staging folder whose files
    match the record; audited. Never places a file that does not match."""
    with ctx.audit.change():  # one process at a time finishes a batch
        if all((out / n).is_file() for n in fs.names):
            return ""  # finished meanwhile by another process
        digests = _recorded_digests(ctx, fs.batch_id)
        csrs = dict(repo.batch_csrs(ctx.db, ctx.env.value, fs.batch_id))
        problems = []
        for staging in stagings:
            problem = _staged_mismatch(staging, fs.names, csrs, digests)
            if problem:
                problems.append(problem)
                continue
            placed = upload.place_staged(staging, out, fs.names)
            ctx.audit.record("devices.package-placed",
                             {"batch_id": fs.batch_id, "name": fs.name, "out_dir": str(out),
                              "placed": [p.name for p in placed],
                              "staging": staging.name})
            upload.remove_staging(staging)
            return ("its packaging was stopped before its files were put in place; they are "
                    f"now, in {out} ({_count(len(fs.names), 'file')})")
    raise Refusal("its packaging was stopped before its files were put in place, and they "
                  f"were not placed: {'; '.join(problems)}. Nothing was placed; the staged "
                  "files were left as found.")


def _count(n: int, word: str) -> str:
    """`n` and `word`, in the plural unless `n` is 1: "1 file", "4 files"."""
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _recorded_digests(ctx: AppContext, batch_id: str) -> dict[str, str]:
    for e in ctx.audit.entries(action_prefix="devices.package"):
        if e.action == "devices.package" and e.details.get("batch_id") == batch_id:
            return {str(k): str(v) for k, v in e.artifacts.items()}
    return {}


def _staged_mismatch(staging: Path, names: Sequence[str], csrs: dict[str, bytes],
                     digests: dict[str, str]) -> str:
    """Why the staged files do not match the batch as recorded ("" when they do): every file
    there with its recorded digest, and the zips holding exactly the recorded CSRs."""
    found: dict[str, bytes] = {}
    for n in names:
        staged = staging / n
        try:
            digest = upload.sha256_file(staged)
        except OSError as exc:
            return f"{staged} cannot be read ({exc.strerror or exc})"
        if n in digests and digests[n] != digest:
            return f"{staged} does not match the batch as recorded (its SHA-256 differs)"
        if not n.endswith(".zip"):
            continue
        try:
            with open(staged, "rb") as fh:
                contents = bf.read_batch_zip(fh)
        except (OSError, SmkiError) as exc:
            why = exc.message if isinstance(exc, SmkiError) else (exc.strerror or str(exc))
            return f"{staged} does not match the batch as recorded ({why})"
        if contents.problems:
            return (f"{staged} does not match the batch as recorded "
                    f"({contents.problems[0].name}: {contents.problems[0].reason})")
        for m in contents.members:
            if m.name in found or csrs.get(m.name) != m.der:
                return (f"{staged} does not match the batch as recorded ({m.name} is not the "
                        "CSR recorded under that name)")
            found[m.name] = m.der
    if set(found) != set(csrs):
        lost = sorted(set(csrs) - set(found))
        return (f"the zips in {staging} do not hold every CSR recorded for the batch "
                f"({len(lost)} missing, e.g. {lost[0] if lost else '?'})")
    return ""


def record_batch(ctx: AppContext, batch_id: str, name: str, channel: str, status: str,
                 accepted: Sequence[batch.AcceptedCsr], *, out_dir: Path | None = None,
                 files: Sequence[str] = (), outbox_ref: str | None = None,
                 also: Callable[[Any], None] | None = None) -> None:
    """Record a batch and a row per accepted CSR, all with `status`, in one transaction
    (with `also(c)`, e.g. the batch's outbox request, in the same one)."""
    now = ctx.clock.now()
    iso = now.isoformat()
    new = repo.NewBatch(
        batch_id, ctx.env.value, name, channel, status, len(accepted), iso,
        iso if status == "pending" else None, (now + timedelta(days=PICKUP_DAYS)).isoformat(),
        outbox_ref, str(out_dir) if out_dir else None, json.dumps(list(files)))
    rows = (repo.NewCsr(a.key_id, a.file_name, a.eui.hex().upper(), a.usage, a.der, a.source,
                        a.locator) for a in accepted)
    with ctx.db.transaction() as c:  # the store's write lock: no other writer until commit
        recheck_store_rules(ctx, accepted)
        repo.insert_batch(c, new, status, rows)
        if also is not None:
            also(c)


def recheck_store_rules(ctx: AppContext, accepted: Sequence[batch.AcceptedCsr]) -> None:
    """The batch rules that depend on what the store holds (a key already known, a (device,
    usage) already waiting, 100 per device), checked again for the CSRs about to be recorded:
    run inside the recording transaction, it sees every batch and ad hoc request another
    window or workstation recorded since the source was validated, and none can be recorded
    until this one commits. Refused, naming the first CSR and why, when any fails now."""
    keys, counts, pairs = known_keys(ctx)
    entries = [batch.SourceEntry(a.source, a.locator, a.der) for a in accepted]
    checks = [("", "", a.eui, a.usage, a.key_id, "") for a in accepted]
    again = batch.assess(entries, checks, known_keys=keys, known_counts=counts,
                         known_pairs=pairs)
    if not again.rejected:
        return
    first = again.rejected[0]
    n = len(again.rejected)
    raise Refusal(
        f"{_count(n, 'CSR')} of this batch {'no longer passes' if n == 1 else 'no longer pass'} "
        "the batch rules: another window or workstation recorded a batch or ad hoc request "
        f"since the source was checked ({first.where}: {first.reason}). Nothing was recorded "
        "or written; check the source again.")
