"""The device-row export is one service call (`services.devices.export_rows`) used by both faces:
`smki devices rows --export` here, the Devices page's Export in tests/gui/test_devices_page.py.
The audit record is written by the service."""

from __future__ import annotations

import csv
from pathlib import Path

from smki_desktop.services import devices


def test_cli_rows_export_writes_the_view_csv_and_audits(cli_run, ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    gen = devices.generate_test(ctx, 6, tmp_path / "gen", processes=1)
    pkg = devices.package(ctx, gen.out, tmp_path / "out", processes=1)
    out = tmp_path / "rows.csv"
    r = cli_run("devices", "rows", "--export", str(out), "--json")
    assert r.code == 0, r.err
    assert r.json()["export"] == {"path": str(out), "rows": 6, "replaced": False}
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == list(devices.COLUMNS)
    stored = devices.csr_rows(ctx)
    assert rows[1:] == [[s.device_eui, s.usage, "packaged", s.detail, pkg.batch_id, s.file_name]
                        for s in stored]
    entry = [e for e in ctx.audit.entries(limit=5) if e.action == "devices.export"][-1]
    assert {k: entry.details[k] for k in ("path", "rows", "replaced")} == {
        "path": str(out), "rows": 6, "replaced": False}

    again = cli_run("devices", "rows", "--export", str(out))
    assert again.code == 1 and "already exists" in again.err
    replaced = cli_run("devices", "rows", "--export", str(out), "--replace", "--batch",
                       pkg.batch_id, "--json")
    assert replaced.code == 0, replaced.err
    assert replaced.json()["export"]["replaced"] is True


def test_service_export_of_a_given_view_neutralises_formulas(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    view = [("00-DB-12-34-56-00-00-01", "signing", "rejected", "=HYPERLINK(\"x\")", "a.zip",
             "f.csr")]
    res = devices.export_rows(ctx, tmp_path / "v.csv", view)
    assert res.rows == 1 and res.audit.action == "devices.export"
    [_, row] = list(csv.reader((tmp_path / "v.csv").open(encoding="utf-8")))
    assert row[3] != view[0][3] and row[3].endswith(view[0][3])  # not read as a formula


def test_cli_validate_report_goes_through_the_service(cli_run, ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    gen = devices.generate_test(ctx, 4, tmp_path / "gen", processes=1)
    devices.package(ctx, gen.out, tmp_path / "out", processes=1)
    report = tmp_path / "rejects.csv"
    r = cli_run("devices", "validate", str(gen.out), "--report", str(report))
    assert r.code == 1  # every key is now a duplicate of the packaged batch
    lines = report.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5 and "duplicate-key" in lines[1]
    again = cli_run("devices", "validate", str(gen.out), "--report", str(report))
    assert again.code == 1 and "already exists" in again.err
