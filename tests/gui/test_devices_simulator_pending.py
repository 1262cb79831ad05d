"""Submitted Device CSRs in Test, answered by the bundled simulator, said "waiting for the DCC":
they wait for the simulator, and say so; in Live the words are unchanged."""

from __future__ import annotations

import pytest

from smki_desktop.gui.pages.devices import Page
from smki_desktop.services import devices
from smki_desktop.services.devices.overview import CsrRow


def _details(qtbot, win, monkeypatch: pytest.MonkeyPatch) -> list[str]:  # type: ignore[no-untyped-def]
    rows = [CsrRow("a.csr", "00-DB-12-34-56-00-00-00", "signing", "pending", "",
                   "submitted, waiting for the DCC", "DB1", "", "k1"),
            CsrRow("b.csr", "00-DB-12-34-56-00-00-01", "signing", "error", "E1",
                   "refused by the DCC", "DB1", "", "k2")]
    monkeypatch.setattr(devices, "csr_rows", lambda ctx, batch_id=None: rows)
    monkeypatch.setattr(devices, "collect", lambda ctx: None)
    page = win.go_to("Devices")
    assert isinstance(page, Page)
    qtbot.waitUntil(lambda: page.job is None, timeout=60_000)
    page.show_all()
    qtbot.waitUntil(lambda: page.job is None and len(page.model.rows) == 2, timeout=60_000)
    return [r[3] for r in page.model.rows]


def test_test_rows_wait_for_the_simulator(qtbot, window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert _details(qtbot, window, monkeypatch) == [
        "submitted, waiting for the simulator (Test)", "refused by the DCC"]


def test_live_rows_still_wait_for_the_dcc(qtbot, live_window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert _details(qtbot, live_window, monkeypatch) == [
        "submitted, waiting for the DCC", "refused by the DCC"]
