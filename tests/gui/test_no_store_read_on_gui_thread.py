"""No page reads the team store on the GUI thread, even while the store answers (issue 16,
partitions): until the banner's probe notices a loss, one such read could hold the window up
to the store's 10-s connect timeout. Every page is opened twice (built, then shown again) and
every Settings section is shown, on a real PostgreSQL team store; a connection asked for on the
GUI thread is recorded with the GUI code that asked. The pages still fill in (from the job
runner): the key and the certificate put in the store are listed and selected. The dialogs
opened from the window and the pages, and the ADT table's checks after an edit, read nothing
there either."""

from __future__ import annotations

import threading
import traceback
from pathlib import Path

import pytest

from tests.support.postgres import PostgresServer


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_no_page_reads_the_store_on_the_gui_thread(window, qtbot,  # type: ignore[no-untyped-def]
                                                   postgres_server: PostgresServer,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from smki_desktop.core.keys import KeyUsage
    from smki_desktop.gui.main_window import ErrorPage, WaitingPage
    from smki_desktop.services import certificates as cert_service
    from smki_desktop.services.keys import generate_key
    from smki_desktop.store import postgres

    assert window.ctx.team is not None
    # something to list and select: a key, a certificate (their details are read too)
    generate_key(window.ctx, KeyUsage.SIGNING, "listed")
    pem = (Path(__file__).resolve().parents[1] / "fixtures" / "dcc-test-pki" / "device"
           / "00db123456789004-ka.pem")
    cert_service.import_certificate(window.ctx, pem.read_bytes(), what="device cert")
    window.jobs.wait(20000)  # the start's own reads have ended
    asked: list[str] = []
    real_conn = postgres.PgDatabase.conn

    def conn(store: postgres.PgDatabase) -> postgres.Connection:  # observes, then the real one
        if threading.current_thread() is threading.main_thread():
            gui = [f"{f.filename.rsplit('smki_desktop/', 1)[-1]}:{f.lineno} {f.name}"
                   for f in traceback.extract_stack() if "/smki_desktop/gui/" in f.filename]
            asked.append(" < ".join(reversed(gui[-3:])))
        return real_conn(store)

    monkeypatch.setattr(postgres.PgDatabase, "conn", conn)
    for entry in [*window.entries, *window.entries]:  # each page twice: built, then shown
        page = window.go_to(entry.title)
        assert not isinstance(page, (ErrorPage, WaitingPage)), entry.title
        qtbot.wait(30)
        window.jobs.wait(20000)
        qtbot.wait(30)  # the reads' answers are shown
        tabs = getattr(page, "tabs", None)
        for i in range(tabs.count() if tabs is not None else 0):  # every Settings section
            tabs.setCurrentIndex(i)
            window._show_page(window.sidebar.currentRow())  # shown again on that section
            window.jobs.wait(20000)
            qtbot.wait(30)
    # the dialogs a page opens, and the ADT table's checks after an edit
    window.open_first_run()  # Help > Welcome
    qtbot.waitUntil(lambda: getattr(window, "first_run_dialog", None) is not None
                    and window.first_run_dialog.isVisible(), timeout=20000)
    window.first_run_dialog.close()
    keys = window.go_to("Keys")
    keys.table.selectRow(0)
    keys.ask_csr()
    qtbot.waitUntil(lambda: keys.csr_dialog is not None and keys.csr_dialog.isVisible(),
                    timeout=20000)
    window.jobs.wait(20000)
    keys.csr_dialog.close()
    adt = window.go_to("ADT")
    window.jobs.wait(20000)
    qtbot.wait(30)
    adt.new_from_template()
    adt.table.item(0, 0).setText("not an EUI")
    adt.validate_now()  # what an edit runs (a few ms later), on the GUI thread
    assert adt.report is not None and not adt.report.ok
    monkeypatch.undo()
    assert window.page("Keys").table.rowCount() == 1
    assert window.page("Certificates").table.rowCount() == 1
    assert not window.store_banner.isVisible()
    assert asked == [], "the store was read on the GUI thread:\n" + "\n".join(
        dict.fromkeys(asked))


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_pages_with_rows_read_nothing_on_the_gui_thread(window, qtbot, cli_run,  # type: ignore[no-untyped-def]
                                                        tmp_path: Path,
                                                        postgres_server: PostgresServer,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The pages whose rows open details or actions — Officers (a team: SRO and ARO),
    Approvals (a revocation request waiting), Incidents (one open), Certificates and Requests —
    selecting each row and building its actions read the team store only from the job runner."""
    from smki_desktop.gui.main_window import ErrorPage, WaitingPage
    from smki_desktop.services import incidents, revocation, simulator_control
    from smki_desktop.store import postgres
    from tests.integration.identity_helpers import issue_org, make_team, serial_of

    ctx = window.ctx
    assert ctx.team is not None
    team = make_team(ctx, cli_run, tmp_path)
    try:
        cert = issue_org(ctx, "90-B3-D5-1F-30-01-00-91")
        revocation.request(ctx, [serial_of(cert)], reason="keyCompromise",
                           justification="laptop stolen on the train", as_ref=team.aro,
                           key_ref=team.aro_key)
        incidents.open_incident(ctx, suspected_at="2026-12-01T09:00:00Z",
                                reported_by="Bob Aro", description="laptop stolen",
                                keys=[], certificates=[serial_of(cert)])
        window.jobs.wait(20000)
        asked: list[str] = []
        real_conn = postgres.PgDatabase.conn

        def conn(store: postgres.PgDatabase) -> postgres.Connection:
            if threading.current_thread() is threading.main_thread():
                gui = [f"{f.filename.rsplit('smki_desktop/', 1)[-1]}:{f.lineno} {f.name}"
                       for f in traceback.extract_stack() if "/smki_desktop/gui/" in f.filename]
                asked.append(" < ".join(reversed(gui[-3:])))
            return real_conn(store)

        monkeypatch.setattr(postgres.PgDatabase, "conn", conn)
        rows: dict[str, int] = {}
        for title in ("Officers", "Approvals", "Incidents", "Certificates", "Requests"):
            page = window.go_to(title)
            assert not isinstance(page, (ErrorPage, WaitingPage)), title
            window.jobs.wait(20000)
            qtbot.wait(30)
            rows[title] = page.table.rowCount()
            for row in range(page.table.rowCount()):
                page.table.selectRow(row)
                actions = getattr(page, "row_actions", None)
                if actions is not None:
                    actions()  # what a right click or the row's menu key builds
                window.jobs.wait(20000)
                qtbot.wait(30)  # the details' answer is shown
            details = getattr(page, "details", None)
            if details is not None and hasattr(details, "toPlainText"):
                assert details.toPlainText().strip(), f"{title}: no details shown"
        monkeypatch.undo()
    finally:
        simulator_control.stop(ctx)
    assert rows["Officers"] >= 2 and rows["Approvals"] >= 1 and rows["Incidents"] >= 1
    assert rows["Certificates"] >= 1 and rows["Requests"] >= 1
    assert asked == [], "the store was read on the GUI thread:\n" + "\n".join(
        dict.fromkeys(asked))
