"""Regenerate docs/screenshots/: every main page at 1024x700 and 1400x900 (Test), and the
Dashboard, Keys, Certificates and Approvals in Live, drawn offscreen from a fresh data folder
seeded with a Party, an officer register, keys, an Organisation CSR, an imported certificate, a
packaged device batch and (Test, with the bundled simulator) an SRO and an ARO with credentials,
an issued Organisation certificate, one revocation request waiting for approval and one open
incident. Uses a private, unlocked Secret Service (as the tests do) so the user's own keyring and
data are never touched.

    .venv/bin/python packaging/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import smki_desktop  # noqa: E402,F401  (sets the PySide6 options before Qt loads)
from smki_desktop.core.environment import Environment  # noqa: E402
from smki_desktop.core.eui import EuiRange  # noqa: E402
from smki_desktop.core.keys import KeyUsage  # noqa: E402
from smki_desktop.core.party import (  # noqa: E402
    OfficerProfile,
    OfficerRole,
    PartyProfile,
    PartyType,
)
from smki_desktop.services import certificates as cert_service  # noqa: E402
from smki_desktop.services import (  # noqa: E402
    devices,
    incidents,
    keys,
    nomination,
    officers,
    party,
    revocation,
    simulator_control,
)
from smki_desktop.services.context import open_context  # noqa: E402
from smki_desktop.services.csr import create_org_csr  # noqa: E402
from tests.conftest import CliResult  # noqa: E402
from tests.integration.identity_helpers import issue_org, make_team, serial_of  # noqa: E402
from tests.support.secret_service import secret_service_env  # noqa: E402

SIZES = ((1024, 700), (1400, 900))
OWN = "90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF"


def seed(data_root: Path, env: Environment, work: Path) -> None:
    ctx = open_context(env, data_root)
    try:
        party.set_party(ctx, PartyProfile("Example Energy", "EXEN", PartyType.IMPORT_SUPPLIER,
                                          (EuiRange.parse(OWN),)))
        party.set_officer(ctx, OfficerProfile("Ada Aro", OfficerRole.ARO, "ada@example.com"))
        if env is not Environment.TEST:  # in Test the team below nominates the same SRO
            schema = nomination.load_forms()["sro"]
            values = schema.example_values()
            values["environment.environment"] = env.value
            values["nominee.organisation"] = "Example Energy"  # as the Party profile names it
            nomination.nominate(ctx, schema, values)
        keys.generate_key(ctx, KeyUsage.FILE_SIGNING, "ARO file signing")
        k = keys.generate_key(ctx, KeyUsage.SIGNING, "supplier DS 2026").key
        create_org_csr(ctx, k.key_id, "supplier", "90-B3-D5-1F-30-01-00-10")
        if env is Environment.TEST:
            pki = ROOT / "tests" / "fixtures" / "dcc-test-pki" / "device"
            cert_service.import_certificate(
                ctx, (pki / "00db123456789004-ka.pem").read_bytes(), what="device cert")
            gen = devices.generate_test(ctx, 40, work / "gen", processes=1)
            devices.package(ctx, gen.out, work / "out")
            seed_approvals(ctx, data_root, work)
    finally:
        ctx.close()


def cli(data_root: Path):  # type: ignore[no-untyped-def]
    """`smki` run in-process against `data_root` (as the tests' cli_run fixture)."""
    from smki_desktop.cli.main import main as cli_main

    def run(*args: str, env: str = "test", stdin: str | None = None,
            root: Path | None = None) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        old = sys.stdin
        if stdin is not None:
            sys.stdin = io.StringIO(stdin)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = cli_main(["--env", env, "--data-dir", str(root or data_root), *args])
                except SystemExit as exc:
                    code = int(exc.code or 0)
        finally:
            sys.stdin = old
        return CliResult(code, out.getvalue(), err.getvalue())
    run.data_root = data_root  # type: ignore[attr-defined]  # as the tests' fixture
    return run


def seed_approvals(ctx, data_root: Path, work: Path) -> None:  # type: ignore[no-untyped-def]
    """An SRO and an ARO with credentials (from the simulator), two issued Organisation
    certificates, one revocation request waiting for the SRO, one open incident."""
    work.mkdir(parents=True, exist_ok=True)
    team = make_team(ctx, cli(data_root), work)
    # this desk is the ARO's, linked to their register entry (as "This is me" does)
    party.set_officer(ctx, OfficerProfile("Bob Aro", OfficerRole.ARO,
                                          "bob.aro@example-energy.co.uk"))
    officers.link_profile(ctx, team.aro)
    lost = issue_org(ctx, "90-B3-D5-1F-30-01-00-91")
    suspect = issue_org(ctx, "90-B3-D5-1F-30-01-00-92")
    revocation.request(ctx, [serial_of(lost)], reason="keyCompromise",
                       justification="Laptop holding the key stolen on the train",
                       as_ref=team.aro, key_ref=team.aro_key)
    incidents.open_incident(
        ctx, suspected_at=ctx.clock.now().replace(microsecond=0).isoformat(),
        reported_by="Ada Aro", description="Signing key may have been copied from the "
        "build server", keys=[], certificates=[serial_of(suspect)])


def shoot(data_root: Path, env: Environment, out: Path, pages: list[str] | None) -> list[Path]:
    from smki_desktop.gui.main_window import MainWindow
    from smki_desktop.gui.qt import QApplication

    app = QApplication.instance() or QApplication([])
    w = MainWindow(data_root, env, first_run=False)
    w.show()
    deadline = time.monotonic() + 60  # the environment opens on the job runner
    while not (w.ready or w.open_error) and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)
    if not w.ready:
        raise SystemExit(f"the {env.label} environment did not open: {w.open_error}")
    written = []
    titles = [e.title for e in w.entries] if pages is None else pages
    for width, height in SIZES:
        w.resize(width, height)
        for title in titles:
            w.go_to(title)
            deadline = time.monotonic() + 30
            while (w.jobs.running or time.monotonic() < deadline - 29.7) \
                    and time.monotonic() < deadline:
                app.processEvents()
                time.sleep(0.02)
            w.go_to(title)  # shown again with what the background loads brought
            for _ in range(5):
                app.processEvents()
            name = f"{env.value}-{title.lower().replace(' ', '-')}-{width}x{height}.png"
            path = out / name
            w.grab().save(str(path))
            written.append(path)
    w.close()
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="smki-shots-") as tmp, \
            secret_service_env(Path(tmp) / "home"):
        data_root = Path(tmp) / "data"
        written = []
        for env, pages in ((Environment.TEST, None),
                           (Environment.LIVE, ["Dashboard", "Keys", "Certificates",
                                               "Approvals"])):
            try:
                seed(data_root, env, Path(tmp) / env.value)
                written += shoot(data_root, env, out, pages)
            finally:
                ctx = open_context(env, data_root)
                try:
                    simulator_control.stop(ctx)
                finally:
                    ctx.close()
    for path in written:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
