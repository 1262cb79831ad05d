"""`smki adt validate|sign|verify|confirm|template|deliver|history|anchor|profiles`: ADT files
(and quarantine Action files) checked, signed with the ARO's file-signing credential, verified,
confirmed by the SRO and packaged for delivery."""

from __future__ import annotations

import argparse
from pathlib import Path

from smki_desktop.cli.main import CliApp
from smki_desktop.core.adt import KINDS
from smki_desktop.core.errors import InputError
from smki_desktop.services import adt as adt_service

SIGNABLE = ("adt-file", "quarantine-action")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("adt", help="Anomaly Detection Threshold files: validate, sign, verify, "
                                   "confirm, deliver")
    ps = p.add_subparsers(dest="adt_cmd", metavar="ACTION")
    ps.required = True

    v = ps.add_parser("validate", help="check a CSV file against its profile")
    v.add_argument("file", type=Path)
    v.add_argument("--kind", default="adt-file", choices=KINDS)
    v.add_argument("--profile", default=None, metavar="VERSION",
                   help="profile version (default: the active one)")
    v.set_defaults(handler=run_validate)

    s = ps.add_parser("sign", help="sign a file with the ARO's file-signing credential")
    s.add_argument("file", type=Path)
    s.add_argument("--key", required=True, help="key id (or a prefix of 8+ hex digits)")
    s.add_argument("--as", dest="as_officer", default=None, metavar="OFFICER",
                   help="the signing officer's register id (the key must be linked to them)")
    s.add_argument("--smsr", default=None, help="Service Management Service Request reference")
    s.add_argument("--out", type=Path, default=None, help="signature file (default FILE.p7s)")
    s.add_argument("--kind", default="adt-file", choices=SIGNABLE)
    s.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    s.add_argument("--expect-sha256", dest="expect_sha256", default=None, metavar="HEX",
                   help="sign only if the file's SHA-256 is this one (the bytes you reviewed); "
                        "otherwise refuse (exit 1), nothing signed")
    s.set_defaults(handler=run_sign)

    ve = ps.add_parser("verify", help="verify a detached signature over a file")
    ve.add_argument("file", type=Path)
    ve.add_argument("signature", type=Path, nargs="?", default=None,
                    help="signature (default FILE.p7s)")
    ve.add_argument("--manifest", type=Path, default=None,
                    help="manifest (default FILE.manifest.json when present)")
    ve.add_argument("--require-manifest", action="store_true")
    ve.set_defaults(handler=run_verify)

    c = ps.add_parser("confirm", help="SRO: sign the confirmation that submitted ADTs apply")
    c.add_argument("file", type=Path, help="the ADT file the confirmation is about")
    c.add_argument("--key", required=True)
    c.add_argument("--as", dest="as_officer", default=None, metavar="OFFICER",
                   help="the confirming SRO's register id (the key must be linked to them)")
    c.add_argument("--decision", default="apply", choices=["apply", "resubmit"])
    c.add_argument("--resubmitter", default="", help="who will resubmit (with --decision "
                                                      "resubmit)")
    c.add_argument("--note", default="")
    c.add_argument("--smsr", default=None)
    c.add_argument("--out-dir", type=Path, default=None)
    c.set_defaults(handler=run_confirm)

    t = ps.add_parser("template", help="write a valid example file for the active profile")
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--kind", default="adt-file", choices=SIGNABLE)
    t.add_argument("--overwrite", action="store_true")
    t.set_defaults(handler=run_template)

    d = ps.add_parser("deliver", help="write the delivery package (file, signature, manifest)")
    d.add_argument("file", type=Path)
    d.add_argument("--out", type=Path, default=None, help="package (default "
                                                          "FILE.delivery.zip)")
    d.add_argument("--send", action="store_true", help="also send it where an endpoint exists")
    d.add_argument("--signature", type=Path, default=None,
                   help="the signature, when not FILE.p7s (signed with --out)")
    d.add_argument("--overwrite", action="store_true")
    d.set_defaults(handler=run_deliver)

    h = ps.add_parser("history", help="signing, confirmation and delivery events of a file")
    h.add_argument("file", help="the file, or its SHA-256")
    h.set_defaults(handler=run_history)

    a = ps.add_parser("anchor", help="file-signing trust anchors of this environment")
    aa = a.add_subparsers(dest="anchor_cmd", metavar="ACTION")
    aa.required = True
    add = aa.add_parser("add", help="add a trust anchor certificate (PEM or DER)")
    add.add_argument("certificate", type=Path)
    add.set_defaults(handler=run_anchor_add)
    ls = aa.add_parser("list", help="list the trust anchors in use")
    ls.set_defaults(handler=run_anchor_list)

    pr = ps.add_parser("profiles", help="installed file profiles and the active versions")
    pr.add_argument("--use", nargs=2, metavar=("KIND", "VERSION"), default=None,
                    help="make an installed profile version the active one")
    pr.set_defaults(handler=run_profiles)


def run_validate(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    profile = adt_service.load_profile(args.kind, args.profile) if args.profile else None
    report = adt_service.validate_file(ctx, args.file, args.kind, profile)
    lines = [str(i) + (" (warning)" if i.severity == "warning" else "") for i in report.issues]
    if report.truncated:
        lines.append(f"… {report.omitted:,} more finding(s) not listed (see the summary)")
    if ctx.party() is None:
        lines.append("Note: no Party profile is set, so User IDs were not checked against the "
                     "Party's EUI-64 ranges.")
    text = "\n".join([*lines, report.summary()])
    app.emit({"file": str(args.file), "profile": report.profile.ref, "valid": report.ok,
              "rows": report.row_count, "errors": report.error_count,
              "warnings": report.warning_count, "counts_by_rule": report.rule_counts,
              "not_listed": report.omitted, "issues": [i.as_dict() for i in report.issues]},
             text)
    return 0 if report.ok else 1


def _sha256_option(value: str | None) -> str | None:
    """--expect-sha256 as 64 lower-case hex digits; bad input (exit 2) naming the option."""
    if value is None:
        return None
    v = value.strip().lower()
    if len(v) != 64 or any(ch not in "0123456789abcdef" for ch in v):
        raise InputError(f"--expect-sha256: {value!r} is not a SHA-256 (64 hexadecimal "
                         "digits). Nothing was signed.")
    return v


def run_sign(args: argparse.Namespace, app: CliApp) -> int:
    expect = _sha256_option(args.expect_sha256)  # before anything is opened or read
    ctx = app.context()
    res = adt_service.sign_file(ctx, args.file, args.key, smsr=args.smsr, out=args.out,
                                kind=args.kind, overwrite=args.overwrite,
                                as_ref=args.as_officer, expect_sha256=expect)
    for w in res.warnings:
        app.warn(f"warning: {w}")
    app.emit(res.as_dict(), "\n".join([
        f"Signed {res.file} ({res.size} bytes) in the {ctx.env.label} environment.",
        f"SHA-256:   {res.sha256}",
        f"Signature: {res.signature}",
        f"Manifest:  {res.manifest} (signed: {res.manifest_signature.name})",
        f"Signer:    {res.manifest_data.signer_subject} (serial {res.manifest_data.signer_serial})",
        "Verified at once by the independent verifier"
        + (" including the chain to the trust anchor." if res.verified.trusted else "."),
    ]))
    return 0


def run_verify(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    res = adt_service.verify_file(ctx, args.file, args.signature, manifest_path=args.manifest,
                                  require_manifest=args.require_manifest)
    for w in res.warnings:
        app.warn(f"warning: {w}")
    d = res.as_dict()
    # loaded here: `adt sign` and the other commands need none of it (issue 15: lean start)
    from smki_desktop.crypto.describe import certificate_summary

    lines = [f"Signature valid over {res.file}.", f"SHA-256:      {res.sha256}",
             f"Signer:       {certificate_summary(res.verified.signer_certificate)}",
             f"Subject:      {d['signer_subject']}", f"Signed at:    {d['signing_time']}",
             "Chain:        " + ("checked to a " + ctx.env.label + " trust anchor"
                                 if res.verified.trusted else "not checked")]
    if res.manifest:
        lines += [f"Environment:  {res.manifest.environment.label}",
                  f"SMSR ref:     {res.manifest.smsr_reference or '-'}"]
    app.emit(d, "\n".join(lines))
    return 0


def run_confirm(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    res = adt_service.confirm(ctx, args.file, args.key, decision=args.decision,
                              resubmitter=args.resubmitter, note=args.note, smsr=args.smsr,
                              out_dir=args.out_dir, as_ref=args.as_officer)
    for w in res.warnings:
        app.warn(f"warning: {w}")
    app.emit(res.as_dict(), f"Confirmation ({res.confirmation.decision}) signed: "
                            f"{res.document} and {res.signature.name}.")
    return 0


def run_template(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    res = adt_service.write_template(ctx, args.out, kind=args.kind, overwrite=args.overwrite)
    app.emit({"file": str(res.path), "sha256": res.sha256},
             f"Wrote {res.path} (a valid example for profile "
             f"{adt_service.active_profile(ctx, args.kind).ref}).")
    return 0


def run_deliver(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    res = adt_service.deliver(ctx, args.file, out=args.out, send=args.send,
                              overwrite=args.overwrite, signature=args.signature)
    members = "\n".join(f"  {sha}  {name}" for name, sha in res.members.items())
    sent = f"\nSent to {res.sent_to} (reference {res.remote_ref})." if res.sent_to else ""
    app.emit(res.as_dict(), f"Delivery package {res.package}\nSHA-256 {res.sha256}\n"
                            f"{members}{sent}")
    return 0


def run_history(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    events = adt_service.history(ctx, args.file)
    text = "\n".join(f"{e['at']}  {e['event']}  " +
                     ", ".join(f"{k}={v}" for k, v in e.items()
                               if k not in ("at", "event") and v) for e in events)
    app.emit({"events": events}, text or "No signing, confirmation or delivery recorded.")
    return 0


def run_anchor_add(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    try:
        data = args.certificate.read_bytes()
    except OSError as exc:
        raise InputError(f"{args.certificate}: cannot be read ({exc.strerror}).") from None
    res = adt_service.add_trust_anchor(ctx, data)
    app.emit({"sha256": res.sha256, "environment": ctx.env.value},
             f"Trust anchor added to the {ctx.env.label} environment (SHA-256 {res.sha256}).")
    return 0


def run_anchor_list(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    anchors = adt_service.trust_anchors(ctx)
    rows = [{"subject": a.subject.rfc4514_string(),
             "not_after": a.not_valid_after_utc.isoformat()} for a in anchors]
    app.emit({"anchors": rows}, "\n".join(f"{r['subject']}  (until {r['not_after']})"
                                          for r in rows) or "No trust anchors.")
    return 0


def run_profiles(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    if args.use:
        kind, version = args.use
        if kind not in KINDS:
            raise InputError(f"--use: kind {kind!r} is not one of {', '.join(KINDS)}.")
        adt_service.use_profile(ctx, kind, version)
    out = {}
    for kind in KINDS:
        out[kind] = {"versions": adt_service.profile_versions(kind),
                     "active": adt_service.active_profile(ctx, kind).version}
    app.emit(out, "\n".join(f"{k}: versions {', '.join(v['versions'])}; active {v['active']}"
                            for k, v in out.items()))
    return 0
