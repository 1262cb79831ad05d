"""`smki lint FILE...`: check CSRs and certificates against this environment's SMKI profile."""

from __future__ import annotations

import argparse
from pathlib import Path

from smki_desktop.cli.main import CliApp
from smki_desktop.core.errors import InputError
from smki_desktop.crypto.lint import lint_bytes
from smki_desktop.profile_data import load_profile, override_path
from smki_desktop.services import crossing
from smki_desktop.services.context import EnvPaths, default_data_root


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("lint", help="check CSRs/certificates against the SMKI profile")
    p.add_argument("files", nargs="+", metavar="FILE", help="PEM, DER or bare Base64")
    p.set_defaults(handler=run_lint)


def run_lint(args: argparse.Namespace, app: CliApp) -> int:
    env = app.env
    root = Path(args.data_dir) if args.data_dir else default_data_root()
    profile = load_profile(env, override_path(EnvPaths.for_env(root, env).env_dir, env))
    results = []
    lines = []
    worst = 0
    for name in args.files:
        try:
            data = Path(name).read_bytes()
        except OSError as exc:
            results.append({"file": name, "error": f"cannot read: {exc.strerror or exc}"})
            lines.append(f"{name}: cannot read: {exc.strerror or exc}")
            worst = 2
            continue
        try:
            report = lint_bytes(data, profile, name)
        except InputError as exc:
            results.append({"file": name, "error": exc.message})
            lines.append(exc.message)
            worst = 2
            continue
        mismatch = crossing.certificate_environment_problem(env, root, data) \
            if report.kind != "csr" else None
        if mismatch:
            # a certificate of the other environment is a refusal, not a profile warning
            results.append({**report.to_json(), "ok": False, "error": mismatch})
            lines.append(f"{name}: refused: {mismatch}")
            worst = max(worst, 1)
            continue
        results.append(report.to_json())
        kind = f"{report.family} {'CSR' if report.kind == 'csr' else 'certificate'}"
        if not report.findings:
            lines.append(f"{name}: ok ({kind})")
        for f in report.findings:
            lines.append(f"{name}: {f.severity.value}: {f.rule_id}: {f.message}")
        if not report.ok:
            worst = max(worst, 1)
    app.emit({"environment": env.value, "profile": profile.version, "files": results},
             "\n".join(lines))
    return worst
