"""`smki lint FILE...`: check CSRs and certificates against this environment's SMKI profile."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from smki_desktop.cli.main import CliApp
from smki_desktop.services import file_lint
from smki_desktop.services.context import default_data_root


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("lint", help="check CSRs/certificates against the SMKI profile")
    p.add_argument("files", nargs="+", metavar="FILE", help="PEM, DER or bare Base64")
    p.set_defaults(handler=run_lint)


def run_lint(args: argparse.Namespace, app: CliApp) -> int:
    env = app.env
    root = Path(args.data_dir) if args.data_dir else default_data_root()
    profile, outcomes = file_lint.lint_files(env, root, args.files)
    results: list[dict[str, Any]] = []
    lines = []
    for o in outcomes:
        if o.error:
            results.append({"file": o.name, "error": o.error})
            lines.append(o.error_text)
            continue
        assert o.report is not None
        report = o.report
        if o.refused:
            results.append({**report.to_json(), "ok": False, "error": o.refused})
            lines.append(f"{o.name}: refused: {o.refused}")
            continue
        results.append(report.to_json())
        kind = f"{report.family} {'CSR' if report.kind == 'csr' else 'certificate'}"
        if not report.findings:
            lines.append(f"{o.name}: ok ({kind})")
        for f in report.findings:
            lines.append(f"{o.name}: {f.severity.value}: {f.rule_id}: {f.message}")
    app.emit({"environment": env.value, "profile": profile.version, "files": results},
             "\n".join(lines))
    return max((o.exit_code for o in outcomes), default=0)
