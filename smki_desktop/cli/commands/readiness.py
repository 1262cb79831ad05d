"""`smki readiness [set ...]`: the Authorised Subscriber checklist per certificate type, and
recording the organisation's milestones. Exit 1 while a checklist is not complete."""

from __future__ import annotations

import argparse

from smki_desktop.cli.hints import cli_hint
from smki_desktop.cli.main import CliApp
from smki_desktop.core.readiness import CertType, Checklist, Item
from smki_desktop.services import readiness as svc


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("readiness", help="what stands between you and Authorised Subscriber")
    p.set_defaults(handler=run_show)
    ps = p.add_subparsers(dest="readiness_cmd", metavar="ACTION")
    s = ps.add_parser("set", help="record identity verification / SREPT results")
    s.add_argument("--org-verified", metavar="DATE", help="organisation identity verified on")
    s.add_argument("--org-ref", default="", help="reference of the identity verification")
    s.add_argument("--srept-passed", metavar="DATE", help="SREPT passed on")
    s.add_argument("--ref", default="", help="SREPT reference")
    s.add_argument("--type", action="append", choices=[t.value for t in CertType],
                   help="certificate type the SREPT covers (default: both; repeatable)")
    s.set_defaults(handler=run_set)


def _command(i: Item, cl: Checklist) -> str:
    """The command that does an item's next step, in this checklist's environment."""
    key = f"{i.hint}.{cl.cert_type.value}" if i.hint == "readiness.srept" else i.hint
    return cli_hint(key, cl.environment)


def _as_dict(cl: Checklist) -> dict[str, object]:
    d = svc.checklist_as_dict(cl)
    for item, i in zip(d["items"], cl.items, strict=True):  # type: ignore[call-overload]
        item["command"] = _command(i, cl) if not i.ok else ""
    return d


def _text(cls: list[Checklist]) -> str:
    lines: list[str] = []
    for cl in cls:
        state = "READY" if cl.ready else "not ready"
        lines.append(f"{cl.cert_type.label} certificates ({cl.environment.label}): {state}")
        for i in cl.items:
            lines.append(f"  [{'x' if i.ok else ' '}] {i.label}: {i.detail}")
            if not i.ok:
                lines.append(f"      next: {i.next_step} `{_command(i, cl)}`")
    return "\n".join(lines)


def run_show(args: argparse.Namespace, app: CliApp) -> int:
    cls = svc.checklists(app.context())
    app.emit({"checklists": [_as_dict(c) for c in cls],
              "ready": all(c.ready for c in cls)}, _text(cls))
    return 0 if all(c.ready for c in cls) else 1


def run_set(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    types = [CertType(t) for t in args.type] if args.type else None
    svc.set_facts(ctx, org_verified=args.org_verified, org_ref=args.org_ref,
                  srept_passed=args.srept_passed, srept_ref=args.ref, cert_types=types)
    cls = svc.checklists(ctx)
    app.emit({"checklists": [_as_dict(c) for c in cls],
              "ready": all(c.ready for c in cls)}, "Recorded.\n" + _text(cls))
    return 0
