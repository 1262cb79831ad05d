"""Expiry watch: the Dashboard lists credentials expiring within the window (default 90 days,
changeable and kept per environment) and expired ones in red; `smki expiry` gives the same
from the same service (exit 1 when something has expired)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from smki_desktop.core.ports import FixedClock
from smki_desktop.gui.main_window import MainWindow
from smki_desktop.services import expiry
from tests.integration.adt_support import make_aro


def test_dashboard_expiry_watch(qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ctx = window.ctx
    aro = make_aro(ctx, tmp_path / "pki")
    na = aro.certificate.not_valid_after_utc
    page = window.go_to("Dashboard")
    w = page.expiry
    assert w.days.value() == 90
    ctx.clock = FixedClock(na - timedelta(days=200))
    w.refresh()  # read on the job runner: the summary follows
    qtbot.waitUntil(lambda: "Nothing expires within 90 days" in w.summary.text(), timeout=10000)
    assert w.table.isHidden()

    ctx.clock = FixedClock(na - timedelta(days=30, hours=1))
    w.refresh()
    qtbot.waitUntil(lambda: "0 expired, 1 expiring within 90 days" in w.summary.text(),
                    timeout=10000)
    assert w.table.item(0, 1).text() == "30"
    w.chart_btn.click()  # the chart, built on demand, draws the same report
    assert w.chart.isVisible()
    assert w.chart.values[0] == ("expired", 0)
    assert sum(n for _m, n in w.chart.values[1:]) == 1
    w.chart_btn.click()
    assert not w.chart.isVisible()
    assert w.table.item(0, 2).text() == "credential"
    assert "file-signing credential" in w.table.item(0, 4).text()

    w.days.setValue(20)  # a narrower window, kept for this environment
    w.days.editingFinished.emit()
    qtbot.waitUntil(lambda: expiry.window_days(ctx) == 20, timeout=10000)
    qtbot.waitUntil(lambda: "Nothing expires within 20 days" in w.summary.text(), timeout=5000)

    ctx.clock = FixedClock(na + timedelta(days=2))
    w.refresh()
    qtbot.waitUntil(lambda: "1 expired" in w.summary.text(), timeout=10000)
    assert w.table.item(0, 1).text() == "expired"
    assert w.table.item(0, 0).foreground().color().name().upper() == "#B00020"


def test_cli_expiry_uses_the_same_service(cli_run, ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    aro = make_aro(ctx, tmp_path / "pki")
    res = cli_run("--json", "expiry", "--days", "100000")
    assert res.code == 0, res.err
    data = json.loads(res.out)
    assert [e["serial"] for e in data["expiring"]] == [f"{aro.certificate.serial_number:X}"] \
        or len(data["expiring"]) == 1
    assert data["expired"] == []
    assert cli_run("expiry", "--set-window", "0").code == 2
    assert cli_run("expiry", "--set-window", "30").code == 0
    assert expiry.window_days(ctx) == 30
