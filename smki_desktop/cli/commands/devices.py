"""`smki devices validate|package|submit|import-response|status|rows|generate-test`: Device
CSR batches from the command line (thin over the `services/devices` package)."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from pathlib import Path

from smki_desktop.cli.main import CliApp
from smki_desktop.core import batch_formats as bf
from smki_desktop.core import device_batch as batch
from smki_desktop.core.errors import InputError
from smki_desktop.services import device_adhoc
from smki_desktop.services import devices as svc

SHOWN_REJECTIONS = 200


class _StderrProgress:
    """Percentages on stderr when it is a terminal; silent otherwise."""

    cancelled = False

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def progress(self, done: int, total: int, text: str = "") -> None:
        if not self.tty or not total:
            return
        now = time.monotonic()
        if now - self.last < 0.2 and done < total:
            return
        self.last = now
        end = "\n" if done >= total else ""
        sys.stderr.write(f"\r{text}: {done:,}/{total:,} ({100 * done // total}%)" + end)
        sys.stderr.flush()


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("devices", help="Device CSR batches: validate, package, submit, results")
    ds = p.add_subparsers(dest="devices_cmd", metavar="ACTION")
    ds.required = True

    v = ds.add_parser("validate", help="check every CSR of a folder, zip or CSV (exit 1 if any "
                      "is rejected)")
    v.add_argument("path", type=Path)
    v.add_argument("--report", type=Path, help="also write the reject report as CSV here")
    v.set_defaults(handler=run_validate)

    k = ds.add_parser("package", help="validate and write portal batch zips (+ manifest)")
    k.add_argument("path", type=Path)
    k.add_argument("--out", type=Path, required=True, help="output folder")
    k.add_argument("--name", help="batch name (default: the batch id)")
    k.add_argument("--max-per-zip", type=int, default=bf.MAX_CSRS_PER_ZIP,
                   help=f"CSRs per zip (default and maximum {bf.MAX_CSRS_PER_ZIP:,})")
    k.set_defaults(handler=run_package)

    s = ds.add_parser("submit", help="validate and queue one batched web-service submission "
                      "(results arrive with `smki portal poll`)")
    s.add_argument("path", type=Path)
    s.set_defaults(handler=run_submit)

    r = ds.add_parser("import-response", help="import the portal's .txt report and "
                      "<request>-response zip")
    r.add_argument("report", type=Path)
    r.add_argument("zip", type=Path, nargs="?")
    r.set_defaults(handler=run_import)

    st = ds.add_parser("status", help="batches, per-status counts and pick-up warnings (files "
                       "finished web-service results first)")
    st.set_defaults(handler=run_status)

    co = ds.add_parser("collect", help="file the results of finished web-service batches "
                       "(after `smki portal poll`)")
    co.set_defaults(handler=run_collect)

    ah = ds.add_parser("adhoc", help="check one Device CSR (device profile and batch rules) "
                                     "and send it on its own (ad hoc) over the web service")
    ah.add_argument("file", help="the Device CSR (PEM, DER or Base64)")
    ah.add_argument("--check-only", action="store_true", help="check it, send nothing")
    ah.set_defaults(handler=run_adhoc)
    rows = ds.add_parser("rows", help="list every Device CSR with its state")
    rows.add_argument("--batch", help="only this batch")
    rows.add_argument("--export", type=Path, metavar="FILE",
                      help="also write the rows as CSV (the Devices page's Export columns)")
    rows.add_argument("--replace", action="store_true",
                      help="with --export: replace an existing FILE")
    rows.set_defaults(handler=run_rows)

    g = ds.add_parser("generate-test", help="make test device keys and CSRs (Test only)")
    g.add_argument("--count", type=int, required=True)
    g.add_argument("--out", type=Path, required=True)
    g.add_argument("--discard-keys", action="store_true",
                   help="keep no private keys (otherwise one TEST-ONLY keys file beside them)")
    g.add_argument("--first-eui", help="first device EUI (default: the next free one in "
                   "00-DB-12-34-56-xx-xx-xx)")
    g.add_argument("--usage", default="both", choices=["both", "signing", "key-agreement"])
    g.add_argument("--format", dest="fmt", default="zip", choices=["zip", "csv", "folder"])
    g.set_defaults(handler=run_generate)


def _rejections_text(rejected: list[batch.Rejection]) -> str:
    return batch.reject_report_text(rejected, SHOWN_REJECTIONS)


def run_validate(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    res = svc.validate(ctx, args.path, progress=_StderrProgress())
    if args.report:
        svc.write_reject_report(args.report, res.rejected)
    summary = (f"{res.assessment.total:,} CSRs in {args.path}: {len(res.accepted):,} valid, "
               f"{len(res.rejected):,} rejected ({res.seconds:.1f} s).")
    text = summary if not res.rejected else _rejections_text(res.rejected) + "\n" + summary
    app.emit(res.as_dict(), text)
    return 1 if res.rejected else 0


def run_package(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    res = svc.package(ctx, args.path, args.out, batch_name=args.name,
                      max_per_zip=args.max_per_zip, progress=_StderrProgress())
    for batch_id, note in res.finished.items():
        app.warn(f"Batch {batch_id}: {note}")
    for note in res.cleared:  # packagings stopped before their record, cleared first
        app.warn(note[:1].upper() + note[1:])
    lines = []
    if res.validation.rejected:
        lines.append(_rejections_text(res.validation.rejected))
    for z, n in zip(res.files.zips, res.files.counts, strict=True):
        lines.append(f"{z}: {n:,} CSRs")
    if res.files.manifest:
        lines.append(f"{res.files.manifest}: manifest")
    if res.files.reject_report:
        lines.append(f"{res.files.reject_report}: {len(res.validation.rejected):,} rejected")
    lines.append(f"Batch {res.batch_id}: upload each zip to the SMKI Portal (Device CSR batch "
                 "upload), then import the report and response zip with "
                 "`smki devices import-response REPORT.txt REQUEST-response.zip` within 30 days.")
    app.emit(res.as_dict(), "\n".join(lines))
    return 0


def run_submit(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    res = svc.submit(ctx, args.path, progress=_StderrProgress())
    lines = []
    if res.validation.rejected:
        lines.append(_rejections_text(res.validation.rejected))
    lines.append(f"Batch {res.batch_id}: {len(res.validation.accepted):,} CSRs queued as "
                 f"{res.outbox_ref}; fetch results with `smki portal poll`, then "
                 "`smki devices status`.")
    if res.send_error:
        lines.append(f"Not sent yet ({res.send_error}); `smki portal poll` will send it.")
    app.emit(res.as_dict(), "\n".join(lines))
    return 0


def run_import(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    res = svc.import_response(ctx, args.report, args.zip, progress=_StderrProgress())
    lines = [f"{k}: {v:,}" for k, v in sorted(res.counts.items())]
    for p in res.problems[:SHOWN_REJECTIONS]:
        lines.append(f"PROBLEM {p}")
    for u in res.unmatched[:SHOWN_REJECTIONS]:
        lines.append(f"UNMATCHED {u}: no CSR of this environment has its public key")
    for name, found in list(res.findings.items())[:SHOWN_REJECTIONS]:
        lines.append(f"CHECK {name}: " + "; ".join(found))
    if res.not_in_report:
        lines.append(f"{res.not_in_report:,} CSRs of these batches are still pending.")
    if res.unchanged:
        lines.append(res.unchanged_text())
    app.emit(res.as_dict(), "\n".join(lines) or "Nothing in the report.")
    bad = res.counts.get("mismatch", 0) or res.unmatched or res.problems
    return 1 if bad else 0


def _collect_lines(results: list[svc.ImportResult]) -> list[str]:
    lines = []
    for r in results:
        counts = ", ".join(f"{k} {v:,}" for k, v in sorted(r.counts.items()))
        lines.append(f"Results filed for {', '.join(r.batch_ids)}: {counts}")
        for u in r.unmatched[:SHOWN_REJECTIONS]:
            lines.append(f"UNMATCHED {u}")
        for name, found in list(r.findings.items())[:SHOWN_REJECTIONS]:
            lines.append(f"CHECK {name}: " + "; ".join(found))
    return lines


def run_collect(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    results = svc.collect(ctx)
    app.emit({"collected": [r.as_dict() for r in results]},
             "\n".join(_collect_lines(results)) or "No finished web-service batch to file.")
    return 1 if any(r.counts.get("mismatch") or r.unmatched for r in results) else 0


def run_status(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    collected = svc.collect(ctx)
    for line in _collect_lines(collected):
        app.warn(line)
    batches = svc.status(ctx)
    data = {"environment": ctx.env.value, "batches": [asdict(b) for b in batches]}
    if not batches:
        app.emit(data, f"No device batches in the {ctx.env.label} environment.")
        return 0
    lines = []
    for b in batches:
        counts = ", ".join(f"{k} {v:,}" for k, v in sorted(b.counts.items()))
        name = "" if b.name == b.batch_id else f" {b.name}"  # the name defaults to the id
        lines.append(f"{b.batch_id}{name} [{b.channel}, {b.state}] {b.total:,} CSRs: {counts}"
                     + (f"\n  WARNING {b.warning}" if b.warning else ""))
    app.emit(data, "\n".join(lines))
    return 1 if any(b.warning for b in batches) else 0


def run_rows(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    rows = svc.csr_rows(ctx, args.batch)
    data: dict[str, object] = {"rows": [asdict(r) for r in rows]}
    text = "\n".join(f"{r.file_name}\t{r.device_eui}\t{r.usage}\t{r.status}\t{r.detail}"
                     for r in rows) or "No device CSRs."
    if args.export:
        out = svc.export_rows(ctx, args.export, [svc.view_row(r) for r in rows],
                              overwrite=args.replace)
        data["export"] = out.as_dict()
        text += f"\nExported {out.rows:,} rows to {out.path}."
    app.emit(data, text)
    return 0


def run_generate(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    res = svc.generate_test(ctx, args.count, args.out, discard_keys=args.discard_keys,
                            first_eui=args.first_eui, usage=args.usage, fmt=args.fmt,
                            progress=_StderrProgress())
    keys = (f"keys: {res.keys_file} (TEST ONLY)" if res.keys_file
            else "keys discarded")
    app.emit(res.as_dict(), f"{res.count:,} test device CSRs for {res.devices:,} devices "
             f"{res.first_eui}..{res.last_eui} in {res.out}; {keys} ({res.seconds:.1f} s).")
    return 0


def run_adhoc(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise InputError(f"{args.file}: cannot be read ({exc.strerror or exc}).") from None
    # about to send: the checks that must hold before anything is queued (other environment,
    # Party profile, device profile, batch rules); --check-only: the device profile and the
    # batch rules
    c = (device_adhoc.check(ctx, data, args.file) if args.check_only
         else device_adhoc.check_to_send(ctx, data, args.file))
    head = f"Device CSR for {c.device_eui} ({c.usage}): " + (
        "meets the device profile and the batch rules." if c.ok else f"fails {c.failed}:")
    if args.check_only or not c.ok:
        app.emit(c.as_dict(), "\n".join([head, *(f"  {x}" for x in c.findings)]))
        return 0 if c.ok else 1
    sent = device_adhoc.submit(ctx, data, args.file)
    app.emit({**sent.as_dict(), "failed": None},
             f"{head}\nSent as {sent.item.ref}: {sent.item.state}"
             + (f" ({sent.item.last_error})" if sent.item.last_error else "."))
    return 0 if sent.item.state != "failed" else 1
