"""`smki officer template|nominate|verify|activate|suspend|revoke|list|show|link-key|
link-profile|pdf|drafts`: the officer register and nominations from the command line."""

from __future__ import annotations

import argparse
from pathlib import Path

from smki_desktop.cli.commands.revoke import add_actor
from smki_desktop.cli.main import CliApp
from smki_desktop.core.officers import Officer
from smki_desktop.services import form_record, officer_forms, register_view
from smki_desktop.services import nomination as nom
from smki_desktop.services import officers as svc
from smki_desktop.services import register as register_service


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("officer", help="SRO/ARO nominations and the officer register")
    ps = p.add_subparsers(dest="officer_cmd", metavar="ACTION")
    ps.required = True

    t = ps.add_parser("template", help="print a complete example nomination input file")
    t.add_argument("--form", required=True, choices=["sro", "aro"])
    t.add_argument("--format", default="json", choices=["json", "toml"])
    t.set_defaults(handler=run_template)

    n = ps.add_parser("nominate", help="validate a filled form, record it and write the PDF")
    n.add_argument("--form", required=True, choices=["sro", "aro"])
    n.add_argument("--from", dest="source", required=True, metavar="FILE",
                   help="filled JSON or TOML (see `smki officer template`)")
    n.add_argument("--pdf", metavar="OUT.pdf", help="also write the printable form here")
    n.add_argument("--overwrite", action="store_true", help="replace an existing --pdf file")
    add_actor(n)  # an ARO form: the nominating SRO signs its record (--as is that SRO)
    n.set_defaults(handler=run_nominate)

    v = ps.add_parser("verify", help="record the verification meeting (GPG45 Level 3)")
    v.add_argument("officer")
    v.add_argument("--date", required=True, help="meeting date YYYY-MM-DD")
    v.add_argument("--verifier", required=True, help="who ran the meeting")
    v.add_argument("--evidence", action="append", default=[],
                   help="evidence seen and checked (comma-separated or repeated): photo-id, "
                        "photo-id-validated, second-evidence, address-confirmed, face-match, "
                        "activity-history")
    v.add_argument("--outcome", default="passed", choices=["passed", "failed"])
    v.set_defaults(handler=run_verify)

    a = ps.add_parser("activate", help="activate a verified officer (an ARO, or a suspended "
                                       "SRO: signed by an active SRO with --as/--key)")
    a.add_argument("officer")
    add_actor(a)
    a.set_defaults(handler=run_activate)
    for name, helptext in (("suspend", "suspend an officer (keys are flagged)"),
                           ("revoke", "revoke an officer, e.g. a leaver (keys are flagged)")):
        s = ps.add_parser(name, help=helptext)
        s.add_argument("officer")
        s.add_argument("--reason", required=True)
        add_actor(s)
        s.set_defaults(handler=run_suspend if name == "suspend" else run_revoke)

    ls = ps.add_parser("list", help="the officer register with its warnings")
    ls.set_defaults(handler=run_list)
    sh = ps.add_parser("show", help="one register entry")
    sh.add_argument("officer")
    sh.set_defaults(handler=run_show)
    lk = ps.add_parser("link-key", help="record that an officer holds a key or token key")
    lk.add_argument("officer")
    lk.add_argument("key", help="key id or a prefix of 8+ hex digits")
    lk.set_defaults(handler=run_link_key)
    lp = ps.add_parser("link-profile", help="link the local officer profile to a register entry")
    lp.add_argument("officer")
    lp.set_defaults(handler=run_link_profile)
    pdf = ps.add_parser("pdf", help="print an officer's form again (with the verification record)")
    pdf.add_argument("officer")
    pdf.add_argument("--out", required=True)
    pdf.add_argument("--overwrite", action="store_true")
    pdf.set_defaults(handler=run_pdf)
    d = ps.add_parser("drafts", help="list saved nomination drafts")
    d.set_defaults(handler=run_drafts)


def _line(o: Officer) -> str:
    creds = len(o.credentials)
    return (f"{o.officer_id:<10} {o.role.label:<4} {o.status.value:<10} {o.name:<24} "
            f"{o.email:<32} {creds} credential{'s' if creds != 1 else ''}")


def run_template(args: argparse.Namespace, app: CliApp) -> int:
    text = nom.template_text(args.form, args.format)
    if app.json:
        app.emit(nom.get_form(args.form).template_document())
    else:
        app.emit(None, text)
    return 0


def run_nominate(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    schema, values = nom.read_input(Path(args.source), args.form)
    res = nom.nominate(ctx, schema, values, pdf_out=Path(args.pdf) if args.pdf else None,
                       overwrite=args.overwrite, as_ref=args.as_officer, key_ref=args.key)
    data = {"officer": svc.officer_as_dict(res.officer), "pdf": str(res.extra_pdf or res.pdf_path),
            "register_pdf": str(res.pdf_path), "record": str(res.record_path),
            "signature": str(res.signature_path) if res.signature_path else None,
            "signed_by": res.signed_by, "signed_by_officer": res.signed_by_officer,
            "audit_seq": res.audit.seq,
            "warnings": list(res.warnings)}
    text = (f"Nominated {res.officer.role.label} {res.officer.name} as {res.officer.officer_id} "
            f"({ctx.env.label}).\nPDF for signatures: {res.extra_pdf or res.pdf_path}\n"
            f"Record: {res.record_path}")
    if res.signed_by:
        by = f"{res.signed_by_officer}'s key" if res.signed_by_officer else "key"
        text += f"\nSigned by {by} {res.signed_by[:16]}: {res.signature_path}"
    for w in res.warnings:
        app.warn(w)
    if res.officer.self_nominated:
        text += "\nRecorded as a self-nomination by the SRO."
    app.emit(data, text)
    return 0


def run_verify(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    v = svc.parse_verification(args.date, args.verifier, args.evidence, args.outcome)
    res = svc.verify_officer(ctx, args.officer, v)
    app.emit(svc.officer_as_dict(res.officer),
             f"{res.officer.officer_id}: verification meeting recorded ({v.outcome}); status "
             f"{res.officer.status.value}.")
    return 0


def run_activate(args: argparse.Namespace, app: CliApp) -> int:
    res = register_service.activate(app.context(), args.officer, as_ref=args.as_officer,
                                    key_ref=args.key)
    app.emit(svc.officer_as_dict(res.officer), f"{res.officer.officer_id} is active.")
    return 0


def _flag_text(o: Officer) -> str:
    if not o.credentials:
        return ""
    return f"; {len(o.credentials)} credential(s) flagged"


def run_suspend(args: argparse.Namespace, app: CliApp) -> int:
    res = register_service.suspend(app.context(), args.officer, args.reason,
                                   as_ref=args.as_officer, key_ref=args.key)
    app.emit(svc.officer_as_dict(res.officer),
             f"{res.officer.officer_id} suspended: {args.reason}{_flag_text(res.officer)}.")
    return 0


def run_revoke(args: argparse.Namespace, app: CliApp) -> int:
    res = register_service.revoke(app.context(), args.officer, args.reason,
                                  as_ref=args.as_officer, key_ref=args.key)
    creds = register_service.credentials_to_revoke(app.context(), res.officer.officer_id)
    text = f"{res.officer.officer_id} revoked: {args.reason}{_flag_text(res.officer)}."
    if creds:
        text += ("\nAsk the DCC to revoke their IKI credential(s) too: " + "; ".join(creds)
                 + ".")
    data = svc.officer_as_dict(res.officer)
    data["credentials_to_revoke"] = creds
    app.emit(data, text)
    return 0


def run_list(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    reg = register_view.register(ctx)
    lines = [f"Officer register ({ctx.env.label}): {len(reg.officers)} entr"
             f"{'y' if len(reg.officers) == 1 else 'ies'}"]
    lines += [_line(o) for o in reg.officers]
    drafts = nom.list_drafts(ctx)
    if drafts:
        lines.append("Drafts (not yet nominated):")
        lines += [f"  {d['draft_id']}  {d['form'].upper()}  {d['nominee'] or '-'}  draft"
                  for d in drafts]
    if reg.warnings:
        lines.append("Warnings:")
        lines += [f"  [{w.code}] {w.message}" for w in reg.warnings]
    data = reg.to_dict()
    data["drafts"] = [dict(d, status="draft") for d in drafts]
    app.emit(data, "\n".join(lines))
    return 0


def run_show(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    o = svc.get_officer(ctx, args.officer)
    d = svc.officer_as_dict(o)
    d["ignored_changes"] = svc.ignored_changes(ctx, o.officer_id)
    d["stored_form_problem"] = form_record.stored_form_problem(ctx, o)
    text = "\n".join(f"{k + ':':<20}{v}" for k, v in d.items()
                     if k not in ("ignored_changes", "stored_form_problem"))
    for p in d["ignored_changes"]:
        text += f"\nIgnored: {p}"
    if d["stored_form_problem"]:
        text += f"\nWarning: {d['stored_form_problem']}"
    app.emit(d, text)
    return 0


def run_link_key(args: argparse.Namespace, app: CliApp) -> int:
    res = svc.link_key(app.context(), args.officer, args.key)
    app.emit(svc.officer_as_dict(res.officer),
             f"{res.officer.officer_id} now holds key {args.key}.")
    return 0


def run_link_profile(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    res = svc.link_profile(ctx, args.officer)
    prof = ctx.officer()
    app.emit({"profile": prof.to_dict() if prof else None, "officer_id": res.officer.officer_id},
             f"The local officer profile now links to {res.officer.officer_id}.")
    return 0


def run_pdf(args: argparse.Namespace, app: CliApp) -> int:
    res = officer_forms.write_officer_form(app.context(), args.officer, Path(args.out),
                                           overwrite=args.overwrite)
    app.emit({"pdf": str(res.path)}, f"Wrote {res.path}")
    return 0


def run_drafts(args: argparse.Namespace, app: CliApp) -> int:
    drafts = nom.list_drafts(app.context())
    text = "\n".join(f"{d['draft_id']}  {d['form']}-v{d['version']}  {d['nominee'] or '-'}  "
                     f"{d['updated']}" for d in drafts) or "No drafts."
    app.emit({"drafts": drafts}, text)
    return 0
