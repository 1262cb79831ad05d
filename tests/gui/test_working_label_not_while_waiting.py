"""The status line says "Working: …" only while work runs: the read before the New Organisation
key and CSR wizard opens ended when the wizard opened, yet "Working: New Organisation key and
CSR…" stayed the whole time the wizard waited for the officer."""

from __future__ import annotations

import pytest

from smki_desktop.gui.wizards import org_csr


def test_no_working_label_while_the_wizard_waits(  # type: ignore[no-untyped-def]
        window, qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def waiting_for_the_officer(self) -> int:  # type: ignore[no-untyped-def]
        seen.append(window.job_label.text())
        return 0

    monkeypatch.setattr(org_csr.OrgCsrWizard, "exec", waiting_for_the_officer)
    page = window.go_to("Certificates")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    page.open_wizard()
    assert window.job_label.text() == "Working: New Organisation key and CSR…"  # the read
    qtbot.waitUntil(lambda: bool(seen), timeout=20000)
    assert seen == [""], seen
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
