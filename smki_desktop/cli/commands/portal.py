"""`smki portal submit|send|poll|status|revoke|endpoint`: requests to the DCC through the
outbox (Test with no endpoint configured uses the simulator, started on demand)."""

from __future__ import annotations

import argparse
from pathlib import Path

from smki_desktop.cli.commands.revoke import add_actor, add_request_args
from smki_desktop.cli.commands.revoke import run_request as run_revoke_request
from smki_desktop.cli.main import CliApp
from smki_desktop.core.errors import InputError
from smki_desktop.services import portal as portal_service
from smki_desktop.services import portal_endpoint, portal_offline


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("portal", help="send requests to the DCC's SMKI portal and poll them")
    ps = p.add_subparsers(dest="portal_cmd", metavar="ACTION")
    ps.required = True
    s = ps.add_parser("submit", help="submit an Organisation CSR (PEM or DER file)")
    s.add_argument("file", type=Path)
    s.add_argument("--no-send", action="store_true", help="only store it in the outbox")
    s.set_defaults(handler=run_submit)
    st = ps.add_parser("status", help="show outbox requests (all, or one by id prefix)")
    st.add_argument("id", nargs="?")
    st.set_defaults(handler=run_status)
    sn = ps.add_parser("send", help="send queued requests now (re-sends are safe)")
    sn.add_argument("--force", action="store_true", help="also those waiting for a retry time")
    sn.set_defaults(handler=run_send)
    po = ps.add_parser("poll", help="send what is queued, fetch what is ready, import "
                                    "certificates through the acceptance check")
    po.add_argument("--force", action="store_true",
                    help="ask even before the planned time (the rate rules still apply)")
    po.set_defaults(handler=run_poll)
    rv = ps.add_parser("revoke", help="alias of `smki revoke request`: files a signed "
                                      "revocation request for an SRO's approval")
    add_request_args(rv)
    rv.set_defaults(handler=run_revoke_request)
    ox = ps.add_parser("offline-export", help="write waiting requests as a signed bundle "
                                              "(for a machine with no connection)")
    ox.add_argument("folder", type=Path)
    add_actor(ox)
    ox.set_defaults(handler=run_offline_export)
    orl = ps.add_parser("offline-relay", help="on a connected machine: send a bundle's "
                                              "requests and write the answers")
    orl.add_argument("bundle", type=Path)
    orl.add_argument("--out", type=Path, required=True)
    add_actor(orl)
    orl.set_defaults(handler=run_offline_relay)
    oi = ps.add_parser("offline-import", help="read an answers bundle back")
    oi.add_argument("folder", type=Path)
    oi.set_defaults(handler=run_offline_import)
    ep = ps.add_parser("endpoint", help="show or set this environment's DCC endpoint")
    eps = ep.add_subparsers(dest="endpoint_cmd", metavar="ACTION")
    eps.required = True
    es = eps.add_parser("set", help="configure the endpoint and pin its trust anchor")
    es.add_argument("--portal", required=True, help="https://... base of the SMKI web "
                    "services (Appendix M's paths are appended)")
    es.add_argument("--repository", required=True, help="https://... base of the repository "
                    "(http://... only in Test, for a DCC Boxed)")
    es.add_argument("--anchor", required=True, type=Path, help="the DCC's root (PEM/DER)")
    es.set_defaults(handler=run_endpoint_set)
    ak = eps.add_parser("api-key", help="store the repository API key (read from the terminal "
                                        "or standard input, never the command line)")
    ak.set_defaults(handler=run_api_key)
    esh = eps.add_parser("show", help="show the endpoint in use")
    esh.set_defaults(handler=run_endpoint_show)
    eo = eps.add_parser("option", help="show or set portal.deadline (seconds a call may "
                                       "take, default 60) or portal.adhoc_path")
    eo.add_argument("name", nargs="?", choices=[portal_service.DEADLINE_SETTING,
                                                portal_service.ADHOC_PATH_SETTING])
    eo.add_argument("value", nargs="?")
    eo.set_defaults(handler=run_endpoint_option)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{what} {path}: {exc.strerror or exc}.") from None


def run_submit(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    res = portal_service.submit_org_csr(ctx, _read(args.file, "CSR file"), source=str(args.file),
                                        send_now=not args.no_send)
    text = portal_service.describe(res.item)
    paste = res.item.meta.get("paste_text")
    if paste:  # the DCC takes Organisation CSRs in the SMKI Portal's form: show what to paste
        text += "\nPaste this into the SMKI Portal's Organisation CSR form:\n" + paste.rstrip()
    app.emit(res.item.as_dict(), text)
    return 0


def _imported_text(imp: dict[str, object]) -> str:
    """An imported certificate's outcome in words (not the dict)."""
    if not imp.get("imported"):
        return f"not imported: {imp.get('why') or 'no reason given'}"
    verdict = imp.get("status") or imp.get("verdict")
    if not verdict and "accepted" in imp:
        verdict = "accepted" if imp["accepted"] else "to be rejected"
    text = "imported certificate" + (f" ({verdict})" if verdict else "")
    if imp.get("message"):
        text += f": {imp['message']}"
    elif imp.get("serial"):
        text += f": serial {imp['serial']}"
    return text


def run_status(args: argparse.Namespace, app: CliApp) -> int:
    items = portal_service.status(app.context(), args.id)
    if not items:
        app.emit({"requests": []}, "The outbox is empty.")
        return 0
    app.emit({"requests": [i.as_dict() for i in items]},
             "\n".join(portal_service.describe(i) for i in items))
    return 0


def run_send(args: argparse.Namespace, app: CliApp) -> int:
    items = portal_service.send_pending(app.context(), force=args.force)
    app.emit({"sent": [i.as_dict() for i in items]},
             "\n".join(portal_service.describe(i) for i in items) or "Nothing to send.")
    if items and not any(i.state in ("submitted", "done") for i in items):
        app.warn(f"Every send failed ({len(items)} request(s)): "
                 + "; ".join(f"{i.ref}: {i.last_error or i.state}" for i in items))
        return 1
    return 0


def run_poll(args: argparse.Namespace, app: CliApp) -> int:
    rep = portal_service.poll(app.context(), force=args.force)
    lines = [f"sent {len(rep.sent)}, polled {len(rep.polled)}, completed "
             f"{len(rep.completed)}, deferred {len(rep.deferred)}"]
    lines += ["  " + portal_service.describe(i) for i in rep.polled]
    lines += [f"  {i.ref}: deferred: {why}" for i, why in rep.deferred]
    lines += [f"  {_imported_text(imp)}" for imp in rep.imported]
    app.emit(rep.as_dict(), "\n".join(lines))
    if rep.malformed:  # bad input from the other side: said, and exit 2 (kept to ask again)
        for m in rep.malformed:
            app.warn(f"{m['ref']}: {m['why']}")
        return 2
    return 0


def run_endpoint_set(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    portal_service.set_endpoint(ctx, args.portal, args.repository,
                                _read(args.anchor, "Trust anchor"))
    app.emit({"portal_url": args.portal, "repository_url": args.repository},
             f"{ctx.env.label} endpoint set; trust anchor pinned.")
    warning = portal_service.repository_warning(ctx)
    if warning:
        app.warn(warning)
    return 0


def run_endpoint_show(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    rec = portal_service.configured_endpoint(ctx)
    if rec is None:
        app.emit({"configured": False}, "No endpoint configured" + (
            " (Test uses the simulator, started on demand)." if ctx.env.value == "test"
            else "."))
        return 0
    refused = (portal_endpoint.endpoint_problem(ctx, rec) if rec.source == "configured"
               else None)
    data = {"configured": True, "source": rec.source, "portal_url": rec.endpoint.portal_url,
            "repository_url": rec.endpoint.repository_url, "refused": refused}
    app.emit(data, f"{rec.source}: portal {rec.endpoint.portal_url}, repository "
                   f"{rec.endpoint.repository_url}")
    if refused:
        app.warn(refused)
    return 0


def run_endpoint_option(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    if args.name and args.value is not None:
        portal_service.set_portal_setting(ctx, args.name, args.value)
    data = {portal_service.DEADLINE_SETTING: portal_service.deadline(ctx),
            portal_service.ADHOC_PATH_SETTING: portal_service.adhoc_path(ctx)}
    if args.name:
        data = {args.name: data[args.name]}
    app.emit(data, "\n".join(f"{k} = {v}" for k, v in data.items()))
    return 0


def run_offline_export(args: argparse.Namespace, app: CliApp) -> int:
    path = portal_offline.export_offline(app.context(), args.folder, as_ref=args.as_officer,
                                         key_ref=args.key)
    app.emit({"bundle": str(path)}, f"Wrote the signed request bundle {path}")
    return 0


def run_offline_relay(args: argparse.Namespace, app: CliApp) -> int:
    path = portal_offline.relay_offline(app.context(), args.bundle, args.out,
                                        as_ref=args.as_officer, key_ref=args.key)
    app.emit({"answers": str(path)}, f"Wrote the answers bundle {path}")
    return 0


def run_offline_import(args: argparse.Namespace, app: CliApp) -> int:
    items = portal_offline.import_offline(app.context(), args.folder)
    app.emit({"changed": [i.as_dict() for i in items]},
             "\n".join(portal_service.describe(i) for i in items) or "Nothing changed.")
    return 0


def run_api_key(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    key = ctx.passphrases.ask("Repository API key")
    portal_service.set_api_key(ctx, key)
    app.emit({"stored": True}, f"Repository API key stored in the {ctx.env.label} keyring.")
    return 0
