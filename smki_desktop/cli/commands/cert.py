"""`smki cert import|list|export|anchor`: the acceptance check of issued certificates."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from smki_desktop.cli.main import CliApp
from smki_desktop.core.errors import InputError
from smki_desktop.services import cert_rejection, cert_supersede, cert_view, renewal
from smki_desktop.services import certificates as cert_service


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("cert", help="import, check, list and export certificates")
    cs = p.add_subparsers(dest="cert_cmd", metavar="ACTION")
    cs.required = True
    i = cs.add_parser(
        "import", help="import a certificate and check it against its CSR",
        description="Import the certificates of FILE (PEM, DER or Base64) and run the "
                    "acceptance check on each. A file of several (PEM blocks, or DER "
                    "certificates one after another, e.g. a CA with your ds and ka "
                    "certificates) is read whole first, then each certificate is imported in "
                    "the file's order with its own verdict; a CA certificate among them is "
                    "named, not imported (add it with `smki cert anchor add`). Exit 0 only "
                    "when every certificate issued for a key here is accepted. --json: the "
                    "worst certificate's result at the top level, `accepted` for the whole "
                    "file, `count`, and each certificate's result in `certificates`.")
    i.add_argument("file", type=Path)
    i.add_argument("--at", default=None, help="check validity at this UTC time (ISO 8601)")
    i.set_defaults(handler=run_import)
    lst = cs.add_parser(
        "list", help="list certificates",
        description="List the certificates of this environment. --superseded lists instead "
                    "the superseded ones: a recorded certificate that did not verify under a "
                    "trust anchor, replaced by one with its issuer and serial that does (a "
                    "forgery imported first). They are kept for the audit trail, never used; "
                    "--json puts them under `superseded`, not `certificates`.")
    lst.add_argument("--role")
    lst.add_argument("--usage")
    lst.add_argument("--eui")
    lst.add_argument("--status", choices=cert_service.STATUSES)
    lst.add_argument("--superseded", action="store_true",
                     help="list the superseded certificates (kept, not in use) instead")
    lst.set_defaults(handler=run_list)
    e = cs.add_parser("export", help="write a certificate as PEM, DER or its chain (PEM)")
    e.add_argument("serial", help="serial in hex (colons allowed)")
    e.add_argument("--issuer", default=None, help="issuer name, e.g. 'OU=07,CN=Z1'")
    e.add_argument("--out", required=True)
    e.add_argument("--format", choices=cert_view.FORMATS, default="pem")
    e.add_argument("--force", action="store_true")
    e.set_defaults(handler=run_export)
    sh = cs.add_parser("show", help="a certificate in words: subject, validity, fingerprints, "
                                    "chain, acceptance findings, key and CSR")
    sh.add_argument("serial", help="serial in hex (colons allowed)")
    sh.add_argument("--issuer", default=None)
    sh.set_defaults(handler=run_show)
    rn = cs.add_parser("renew", help="a new key and an Organisation CSR for the same role, "
                                     "EUI and usage, linked to the certificate it replaces")
    rn.add_argument("serial", help="serial in hex (colons allowed)")
    rn.add_argument("--issuer", default=None)
    rn.set_defaults(handler=run_renew)
    rj = cs.add_parser("reject", help="record the rejection of a certificate that fails the "
                                      "acceptance check, and print the notice for the DCC")
    rj.add_argument("serial", help="serial in hex (colons allowed)")
    rj.add_argument("--issuer", default=None)
    rj.add_argument("--reason", required=True)
    rj.set_defaults(handler=run_reject)
    a = cs.add_parser("anchor", help="trust anchors of this environment")
    acts = a.add_subparsers(dest="anchor_cmd", metavar="ACTION")
    acts.required = True
    aa = acts.add_parser("add", help="trust a CA certificate (one per file)")
    aa.add_argument("file", type=Path)
    aa.set_defaults(handler=run_anchor_add)
    al = acts.add_parser("list", help="list trust anchors")
    al.set_defaults(handler=run_anchor_list)


def _read(path: Path) -> bytes:
    """At most a certificate file's limit, from a regular file (the service says why not)."""
    return cert_service.read_certificate_file(path)


def _at(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--at {text!r}: not an ISO 8601 time.") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def run_import(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    result = cert_service.import_certificates(ctx, _read(args.file), at=_at(args.at),
                                              what=str(args.file))
    text = result.message
    if any(r.status == cert_service.CA_CERTIFICATE for r in result.results):
        text += (f"\n  hint: to trust the CA, check its fingerprint, then: smki cert anchor "
                 f"add FILE (a file holding only the CA certificate); then import "
                 f"{args.file} again.")
    app.emit(result.to_json(), text)
    return 0 if result.accepted else 1


def run_list(args: argparse.Namespace, app: CliApp) -> int:
    if args.superseded:
        return _list_superseded(args, app)
    ctx = app.context()
    recs = cert_service.list_certificates(ctx, role=args.role, usage=args.usage, eui=args.eui,
                                          status=args.status)
    lines = [f"{'SERIAL':<34}{'ROLE':<6}{'EUI':<25}{'USAGE':<15}{'STATUS':<16}ISSUER"]
    lines += [f"{r.serial:<34}{r.role or '-':<6}{r.eui or r.device_eui or '-':<25}"
              f"{r.usage or '-':<15}{r.status:<16}{r.issuer}" for r in recs]
    app.emit({"environment": ctx.env.value, "certificates": [r.to_json() for r in recs]},
             "\n".join(lines) if recs else f"No certificates in the {ctx.env.label} environment.")
    return 0


def _list_superseded(args: argparse.Namespace, app: CliApp) -> int:
    given = [f"--{n}" for n in ("role", "usage", "eui", "status") if getattr(args, n)]
    if given:
        raise InputError(f"--superseded lists every superseded certificate; it takes no "
                         f"{', '.join(given)}.")
    ctx = app.context()
    recs = cert_supersede.list_superseded(ctx)
    lines = [f"Superseded certificates of the {ctx.env.label} environment (kept for the audit "
             "trail; NOT in use):",
             f"{'SERIAL':<34}{'SUPERSEDED AT (UTC)':<21}{'STATUS THEN':<16}ISSUER"]
    for r in recs:
        audit = f"audit record {r.audit_record}" if r.audit_record is not None \
            else "no audit record the log proves"
        lines += [f"{r.serial:<34}{r.superseded_at[:19].replace('T', ' '):<21}"
                  f"{r.previous_status:<16}{r.issuer}",
                  f"  replaced by: {r.replaced_by_words()}; subject {r.subject or '-'}; "
                  f"{audit}; why: {r.reason}"]
    app.emit({"environment": ctx.env.value, "superseded": [r.to_json() for r in recs]},
             "\n".join(lines) if recs
             else f"No superseded certificates in the {ctx.env.label} environment.")
    return 0


def run_export(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    rec = cert_service.find_certificate(ctx, args.serial, args.issuer)
    cert_view.export_certificate(ctx, rec, Path(args.out), args.format, overwrite=args.force)
    app.emit({"serial": rec.serial, "issuer": rec.issuer, "path": args.out,
              "format": args.format},
             f"Wrote certificate {rec.serial} ({rec.issuer}) to {args.out} "
             f"({args.format.upper()}).")
    return 0


def run_reject(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    res = cert_rejection.reject(ctx, args.serial, args.reason, args.issuer)
    app.emit(res.as_dict(), res.notice + "\n\nRecorded; send this notice to the DCC.")
    return 0


def run_renew(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    res = renewal.renew(ctx, args.serial, args.issuer)
    app.emit(res.as_dict(), f"Renewal of {res.old_serial}: new key {res.new_key_id[:16]} and "
                            f"Organisation CSR {res.csr.csr_id} ({ctx.env.label}). Submit the "
                            "CSR, then import the certificate the DCC issues.")
    return 0


def run_show(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    rec = cert_service.find_certificate(ctx, args.serial, args.issuer)
    sections = cert_view.certificate_view(ctx, rec)
    app.emit({"serial": rec.serial, "sections": [
        {"title": s.title, "rows": [{"label": r.label, "value": r.value, "problem": r.problem}
                                    for r in s.rows]} for s in sections]},
        cert_view.view_as_text(sections))
    return 0


def run_anchor_add(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    fp, entry = cert_service.add_trust_anchor(ctx, _read(args.file))
    app.emit({"fingerprint": fp, "added": entry is not None},
             f"{'Added' if entry else 'Already a'} trust anchor of the {ctx.env.label} "
             f"environment: SHA-256 {fp}.")
    return 0


def run_anchor_list(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    rows = cert_service.list_trust_anchors(ctx)
    app.emit({"anchors": rows}, "\n".join(f"{r['fingerprint'][:16]}  {r['source']:<10} "
                                          f"{r['subject']}" for r in rows)
             or f"No trust anchors in the {ctx.env.label} environment.")
    return 0
