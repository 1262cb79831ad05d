"""Requests, Repository and Settings > Portal against the simulator: submit an Organisation CSR
from the Requests page, poll it to complete, search the repository, fetch the CRL; all slow work
runs through the job runner."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from smki_desktop.gui.main_window import MainWindow
from smki_desktop.gui.pages.repository import Page as RepositoryPage
from smki_desktop.gui.pages.requests import Page as RequestsPage
from smki_desktop.gui.settings.portal import Section as PortalSection
from smki_desktop.services import simulator_control
from tests.integration.portal_helpers import enrolled, org_csr


@pytest.fixture
def sim_window(window: MainWindow):  # type: ignore[no-untyped-def]
    enrolled(window.services.ctx)
    yield window
    simulator_control.stop(window.services.ctx)


def test_requests_and_repository_pages(qtbot, sim_window: MainWindow,  # type: ignore[no-untyped-def]
                                       tmp_path: Path) -> None:
    page = sim_window.go_to("Requests")
    qtbot.waitUntil(sim_window.jobs.idle, timeout=30_000)  # its read
    assert isinstance(page, RequestsPage)
    assert page.summary.text() == "No requests yet."
    csr = tmp_path / "org.csr"
    csr.write_bytes(org_csr(page.ctx, "90-B3-D5-1F-30-01-00-21"))
    page.submit_file(csr)
    assert not page.submit_btn.isEnabled()  # busy while the job runs
    qtbot.waitUntil(lambda: page.job is None, timeout=30_000)
    qtbot.waitUntil(sim_window.jobs.idle, timeout=30_000)  # its read
    assert page.table.rowCount() == 1
    assert page.table.item(0, 2).text() == "with the DCC"
    time.sleep(0.3)
    page.poll_btn.click()
    qtbot.waitUntil(lambda: page.job is None, timeout=30_000)
    qtbot.waitUntil(sim_window.jobs.idle, timeout=30_000)  # its read
    assert page.table.item(0, 2).text() == "complete"
    assert "1 complete" in page.summary.text()
    page.table.selectRow(0)
    assert "Organisation CSR, complete" in page.details.toPlainText()

    repo = sim_window.go_to("Repository")
    assert isinstance(repo, RepositoryPage)
    repo.eui.setText("90-B3-D5-1F-30-01-00-21")
    repo.search_btn.click()
    qtbot.waitUntil(lambda: repo.job is None, timeout=30_000)
    assert repo.table.rowCount() == 1 and repo.table.item(0, 1).text() == "in use"
    repo.table.selectRow(0)
    assert "BEGIN CERTIFICATE" in repo.pem.toPlainText()
    repo.crl_btn.click()
    qtbot.waitUntil(lambda: repo.job is None, timeout=30_000)
    assert "signature verified" in repo.message.text()
    repo.eui.setText("not an eui")
    repo.search_btn.click()
    qtbot.waitUntil(lambda: repo.job is None, timeout=30_000)
    assert "EUI-64" in repo.message.text()


def _search(qtbot, repo: RepositoryPage) -> None:  # type: ignore[no-untyped-def]
    repo.search_btn.click()
    qtbot.waitUntil(lambda: repo.job is None, timeout=30_000)


def test_repository_search_one_criterion_and_failure_clears(  # type: ignore[no-untyped-def]
        qtbot, sim_window: MainWindow, tmp_path: Path) -> None:
    """Subject EUI and Device EUI both filled: refused naming both (the subject EUI alone was
    searched, the device EUI dropped); a failed search leaves no earlier rows or PEM behind."""
    from tests.integration.test_repository import _issue_org

    _issue_org(sim_window.services.ctx, "90-B3-D5-1F-30-01-00-22")
    repo = sim_window.go_to("Repository")
    assert isinstance(repo, RepositoryPage)
    repo.eui.setText("90-B3-D5-1F-30-01-00-22")
    _search(qtbot, repo)
    assert repo.table.rowCount() == 1
    repo.table.selectRow(0)
    assert "BEGIN CERTIFICATE" in repo.pem.toPlainText()

    repo.device.setText("00-DB-12-34-56-00-00-00")
    _search(qtbot, repo)
    text = repo.message.text()
    assert text.startswith("Failed:") and "Subject EUI" in text and "Device EUI" in text
    assert "found" not in text
    assert repo.table.rowCount() == 0 and repo.pem.toPlainText() == ""

    repo.device.clear()
    _search(qtbot, repo)
    assert repo.table.rowCount() == 1
    repo.table.selectRow(0)
    repo.eui.clear()
    repo.device.setText("00-DB-12-34-56")  # malformed: the old rows must not stay as its answer
    _search(qtbot, repo)
    assert "Device EUI" in repo.message.text() and "EUI-64" in repo.message.text()
    assert repo.table.rowCount() == 0 and repo.pem.toPlainText() == ""


def test_portal_settings_section(qtbot, sim_window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    section = PortalSection(sim_window.services)
    qtbot.addWidget(section)
    qtbot.waitUntil(sim_window.jobs.idle, timeout=30_000)  # its read
    assert "web-service — the organisation: serial" in section.creds.text()
    assert "Running on https://127.0.0.1:" in section.sim_state.text()
    assert "Simulator" in section.current.text()
    section.anchor.setText(str(Path("/nonexistent/anchor.pem")))
    section.save_endpoint()
    assert "Trust anchor: /nonexistent/anchor.pem: No such file" in section.message.text()
    section.anchor.setText("  ")  # none chosen: named as such, not read as the current folder
    section.save_endpoint()
    assert section.message.text().startswith(
        "Failed: Trust anchor: choose the DCC's root certificate file")


def test_live_request_shows_the_paste_text(qtbot, live_ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.gui.pages.requests import details_text
    from smki_desktop.services import portal
    from tests.integration.identity_helpers import sro_authorises

    der = org_csr(live_ctx, "90-B3-D5-1F-30-01-00-41")
    sro_authorises(live_ctx, cli_run, tmp_path, der)  # Live: an SRO authorises it first
    item = portal.submit_org_csr(live_ctx, der).item
    text = details_text(item)
    assert "Paste this into the SMKI Portal" in text
    assert "-----BEGIN CERTIFICATE REQUEST-----" in text


def test_credential_requests_from_settings_in_live(qtbot, data_root: Path) -> None:  # type: ignore[no-untyped-def]
    """Live: both credentials can be requested from Settings > Portal; the message gives the
    CSR file written; with no profile it says which profile to set, not a CLI option."""
    from smki_desktop.core.environment import Environment
    from smki_desktop.core.eui import EuiRange
    from smki_desktop.core.party import OfficerProfile, OfficerRole, PartyProfile, PartyType
    from smki_desktop.services.party import set_officer, set_party

    w = MainWindow(data_root, Environment.LIVE, first_run=False)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.ready, timeout=30000)
    try:
        section = PortalSection(w.services)
        qtbot.addWidget(section)
        ctx = w.services.ctx
        section.request_btn.click()
        qtbot.waitUntil(lambda: section.job is None, timeout=30_000)
        assert "Party profile" in section.message.text()
        assert "--" not in section.message.text()
        own = EuiRange.parse("90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF")
        set_party(ctx, PartyProfile(name="Acme Energy", party_id="ACME",
                                    party_type=PartyType("gas-supplier"), eui_ranges=(own,)))
        section.signing_btn.click()
        qtbot.waitUntil(lambda: section.job is None, timeout=30_000)
        assert "officer profile" in section.message.text()
        set_officer(ctx, OfficerProfile(name="Ann Officer", role=OfficerRole("aro")))
        for button, purpose in ((section.request_btn, "web-service"),
                                (section.signing_btn, "file-signing")):
            button.click()
            qtbot.waitUntil(lambda: section.job is None, timeout=60_000)
            text = section.message.text()
            assert f"The {purpose} credential request (CSR) is in " in text, text
            path = Path(text.split(" is in ", 1)[1].split(": send", 1)[0])
            assert path.exists() and path.name.startswith(f"credential-{purpose}-")
            assert b"BEGIN CERTIFICATE REQUEST" in path.read_bytes()
        requests = [e for e in ctx.audit.entries() if e.action == "credential.request"]
        assert sorted(e.details["purpose"] for e in requests) == ["file-signing", "web-service"]
    finally:
        w.jobs.wait(30000)


def test_portal_settings_web_service_options_and_http_warning(qtbot, sim_window: MainWindow,  # type: ignore[no-untyped-def]
                                                               tmp_path: Path) -> None:
    from smki_desktop.services import portal as portal_service

    section = PortalSection(sim_window.services)
    qtbot.addWidget(section)
    qtbot.waitUntil(sim_window.jobs.idle, timeout=30_000)  # its read
    assert section.deadline.text() == "60"
    section.deadline.setText("25")
    section.adhoc_path.setText("/1.0/Other/DeviceCertificateSigningRequest")
    section.save_options()
    qtbot.waitUntil(lambda: section.job is None, timeout=30_000)
    ctx = sim_window.services.ctx
    assert portal_service.deadline(ctx) == 25.0
    assert portal_service.adhoc_path(ctx) == "/1.0/Other/DeviceCertificateSigningRequest"
    section.deadline.setText("never")
    section.save_options()
    qtbot.waitUntil(lambda: section.job is None, timeout=30_000)
    assert "portal.deadline" in section.message.text() and portal_service.deadline(ctx) == 25.0
    info = simulator_control.running(ctx)
    assert info is not None
    portal_service.set_endpoint(ctx, info.portal_url, "http://127.0.0.1:8083",
                                info.trust_anchor_pem)
    section.refresh()
    qtbot.waitUntil(sim_window.jobs.idle, timeout=30_000)  # its read
    assert "plain HTTP" in section.current.text()
