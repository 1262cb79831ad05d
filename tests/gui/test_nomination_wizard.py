"""Both nomination wizards driven from start to PDF with pytest-qt; the PDF is read back page by
page with pdftotext (every field, the environment on each page), rendered to PNG, and compared
with the PDF the CLI produces from the same answers. Also drafts, refusals, the Officers and
Forecast pages and the Dashboard's readiness widget."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from smki_desktop.core.forms import FormSchema, display_value
from smki_desktop.core.nomination_wizard import Step
from smki_desktop.core.officers import Verification
from smki_desktop.gui.qt import (
    QCheckBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    Qt,
    QWidget,
)
from smki_desktop.services import nomination as nom
from smki_desktop.services import officers as officer_service
from smki_desktop.services import register as register_service

# the meeting is held on or after the nomination date and not in the future: today
TODAY = datetime.now(UTC).date().isoformat()
GOOD = Verification(TODAY, "Vera Verifier",
                    ("photo-id", "photo-id-validated", "second-evidence", "face-match"),
                    "passed")


def open_page(window, title: str):  # type: ignore[no-untyped-def]
    """Show a sidebar page (pages are built when first shown) and return it."""
    for row in range(window.sidebar.count()):
        if window.sidebar.item(row).text() == title:
            window.sidebar.setCurrentRow(row)
            page = window.pages[row]
            assert getattr(page, "title", "") == title, page
            return page
    raise AssertionError(f"no page {title!r}")


def pdf_pages(path: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                         capture_output=True, text=True).stdout
    return [p for p in out.split("\f") if p.strip()]


def flat(text: str) -> str:
    return " ".join(text.split())


def set_field(qtbot, dlg, key: str, value) -> None:  # type: ignore[no-untyped-def]
    ed = dlg.findChild(QWidget, f"field:{key}")
    assert ed is not None, key
    if isinstance(ed, QLineEdit):
        ed.clear()
        qtbot.keyClicks(ed, str(value))
    elif isinstance(ed, QPlainTextEdit):
        ed.setPlainText(str(value))
    elif isinstance(ed, QCheckBox):
        ed.setChecked(bool(value))
    elif isinstance(ed, QComboBox):
        # the nominating SRO's picker is filled in from the job runner: once it can be used
        qtbot.waitUntil(ed.isEnabled, timeout=20000)
        idx = ed.findData(value)
        assert idx >= 0, (key, value)
        ed.setCurrentIndex(idx)
    else:  # pragma: no cover
        raise AssertionError(type(ed))


def opened(qtbot, dlg) -> None:  # type: ignore[no-untyped-def]
    """The wizard opens on "Loading…", Next disabled, while its draft or defaults are read on
    the job runner: wait until it can go on."""
    qtbot.waitUntil(dlg.next_button.isEnabled, timeout=20000)


def saved(qtbot, dlg) -> None:  # type: ignore[no-untyped-def]
    """Save draft writes on the job runner ("Saving…", the button disabled): wait for it."""
    qtbot.waitUntil(dlg.save_button.isEnabled, timeout=20000)


def drive(qtbot, dlg, form: str, values: dict) -> None:  # type: ignore[no-untyped-def]
    dlg.show()
    opened(qtbot, dlg)
    assert dlg.wiz.step is Step.CHOOSE
    dlg.findChild(QWidget, f"choose_{form}").click()
    qtbot.mouseClick(dlg.next_button, Qt.MouseButton.LeftButton)
    while dlg.wiz.step is Step.PAGE:
        page = dlg.wiz.page
        for f in page.fields:
            if not f.print_blank:
                set_field(qtbot, dlg, f.key, values[f.key])
        qtbot.mouseClick(dlg.next_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not dlg.busy(), timeout=20000)  # the page's check
        if dlg.wiz.step is Step.PAGE and dlg.wiz.page is page:
            raise AssertionError(f"stuck on {page.id}: {dlg.message.text()}")
    assert dlg.wiz.step is Step.REVIEW
    review = dlg.review_label.text()
    assert values["nominee.email"] in review


def produce(qtbot, dlg, pdf: Path) -> None:  # type: ignore[no-untyped-def]
    dlg.pdf_path.setText(str(pdf))
    qtbot.mouseClick(dlg.produce_button, Qt.MouseButton.LeftButton)
    dlg.confirmation.confirm()  # the summary of what is recorded and signed comes first
    qtbot.waitUntil(lambda: dlg.result_value is not None or bool(dlg.failure), timeout=30000)


def check_pdf(pdf: Path, schema: FormSchema, values: dict, env_label: str) -> list[str]:
    pages = pdf_pages(pdf)
    assert len(pages) >= 2
    for i, p in enumerate(pages, start=1):
        assert f"{env_label.upper()} ENVIRONMENT" in p, f"page {i}"
        assert f"Environment: {env_label}" in p and f"Page {i} of {len(pages)}" in p
    text = flat("\n".join(pages))
    for f in schema.fields():
        assert flat(f.label) in text, f.key
        shown = display_value(f, values.get(f.key))
        if f.type not in ("bool", "checklist") and shown:
            assert flat(shown) in text, f.key
    return pages


def cli_document(schema: FormSchema, values: dict) -> str:
    doc: dict = {"form": schema.form, "version": schema.version}
    for p in schema.pages:
        doc[p.id] = {f.id: values[f.key] for f in p.fields if not f.print_blank}
    return json.dumps(doc)


def test_both_wizards_from_start_to_pdf_and_cli_gives_the_same(window, qtbot, tmp_path,
                                                                  cli_run):  # type: ignore[no-untyped-def]
    from smki_desktop.gui.wizards.nomination import NominationWizardDialog

    services = window.services
    forms = nom.load_forms()
    cli_root = tmp_path / "cli-root"
    cli_root.mkdir()

    # --- SRO --------------------------------------------------------------------------
    sro_schema = forms["sro"]
    sro_values = sro_schema.example_values()
    dlg = NominationWizardDialog(services)
    qtbot.addWidget(dlg)
    dlg.show()
    opened(qtbot, dlg)
    assert dlg.next_button.isEnabled()  # the first form is chosen (arrows move the choice)
    # validation as typed: a bad email shows its error at once and blocks Next
    dlg.findChild(QWidget, "choose_sro").click()
    qtbot.mouseClick(dlg.next_button, Qt.MouseButton.LeftButton)
    set_field(qtbot, dlg, "nominee.email", "alice(at)example")
    assert "not a valid email" in dlg.findChild(QWidget, "error:nominee.email").text()
    qtbot.mouseClick(dlg.next_button, Qt.MouseButton.LeftButton)
    assert dlg.wiz.step is Step.PAGE and dlg.wiz.page.id == "nominee"
    qtbot.mouseClick(dlg.back_button, Qt.MouseButton.LeftButton)
    drive(qtbot, dlg, "sro", sro_values)
    gui_sro_pdf = tmp_path / "gui-sro.pdf"
    produce(qtbot, dlg, gui_sro_pdf)
    assert dlg.result_value is not None, dlg.failure
    assert dlg.result_value.officer.officer_id == "SRO-0001"
    assert "SRO-0001" in dlg.findChild(QWidget, "done").text()
    gui_pages = check_pdf(gui_sro_pdf, sro_schema, sro_values, "Test")

    src = tmp_path / "sro.json"
    src.write_text(cli_document(sro_schema, sro_values))
    cli_sro_pdf = tmp_path / "cli-sro.pdf"
    res = cli_run("officer", "nominate", "--form", "sro", "--from", str(src), "--pdf",
                  str(cli_sro_pdf), root=cli_root)
    assert res.code == 0, res.err
    assert pdf_pages(cli_sro_pdf) == gui_pages

    # the register entry becomes an active SRO (verification meeting, then activation)
    officer_service.verify_officer(window.ctx, "SRO-0001", GOOD)
    register_service.activate(window.ctx, "SRO-0001")
    assert cli_run("officer", "verify", "SRO-0001", "--date", GOOD.date, "--verifier",
                   GOOD.verifier, "--evidence", ",".join(GOOD.evidence), root=cli_root).code == 0
    assert cli_run("officer", "activate", "SRO-0001", root=cli_root).code == 0

    # the nominating SRO signs an ARO's nomination: a linked signing key on each side
    from smki_desktop.core.environment import Environment
    from smki_desktop.services.context import open_context
    from tests.integration.adt_support import officer_signing_key

    officer_signing_key(window.ctx, None, "SRO-0001")  # the wizard signs with the SRO's one key
    cli_ctx = open_context(Environment.TEST, cli_root)
    try:
        cli_sro_key = officer_signing_key(cli_ctx, None, "SRO-0001")
    finally:
        cli_ctx.close()

    # --- ARO --------------------------------------------------------------------------
    aro_schema = forms["aro"]
    aro_values = aro_schema.example_values()
    aro_values["nominator.officer_id"] = "SRO-0001"
    dlg2 = NominationWizardDialog(services)
    qtbot.addWidget(dlg2)
    drive(qtbot, dlg2, "aro", aro_values)
    gui_aro_pdf = tmp_path / "gui-aro.pdf"
    produce(qtbot, dlg2, gui_aro_pdf)
    assert dlg2.result_value is not None, dlg2.failure
    assert dlg2.result_value.officer.nominated_by == "SRO-0001"
    assert dlg2.result_value.signed_by_officer == "SRO-0001"
    gui_aro_pages = check_pdf(gui_aro_pdf, aro_schema, aro_values, "Test")
    assert "BS7858/2026/0042" in flat("\n".join(gui_aro_pages))

    src = tmp_path / "aro.json"
    src.write_text(cli_document(aro_schema, aro_values))
    cli_aro_pdf = tmp_path / "cli-aro.pdf"
    res = cli_run("officer", "nominate", "--form", "aro", "--from", str(src), "--pdf",
                  str(cli_aro_pdf), "--as", "SRO-0001", "--key", cli_sro_key, root=cli_root)
    assert res.code == 0, res.err
    assert pdf_pages(cli_aro_pdf) == gui_aro_pages

    # rendered to PNG for a look (one image per page, not blank)
    for pdf in (gui_sro_pdf, gui_aro_pdf):
        prefix = tmp_path / pdf.stem
        subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(prefix)], check=True)
        pngs = sorted(tmp_path.glob(pdf.stem + "-*.png"))
        assert len(pngs) == len(pdf_pages(pdf))
        assert all(p.stat().st_size > 5000 for p in pngs)

    # the Officers page shows both, the Dashboard's readiness widget counts the active SRO
    page = open_page(window, "Officers")
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    ids = [page.table.item(r, 0).text() for r in range(page.table.rowCount())]
    assert ids == ["SRO-0001", "ARO-0001"]
    from smki_desktop.gui.widgets.readiness import ReadinessWidget

    rw = ReadinessWidget(services)
    qtbot.addWidget(rw)
    qtbot.waitUntil(lambda: "✔" in rw.findChild(QWidget, "readiness:organisation").text(),
                    timeout=10000)  # read on the job runner
    org = rw.findChild(QWidget, "readiness:organisation").text()
    assert "✔</span> At least one SRO active" in org and "Alice Example" in org
    assert "✘</span> At least one ARO active" in org


def test_refusal_is_shown_in_the_wizard_and_nothing_recorded(window, qtbot):  # type: ignore[no-untyped-def]
    from smki_desktop.gui.wizards.nomination import NominationWizardDialog

    ctx = window.ctx
    sro_schema = nom.load_forms()["sro"]
    nom.nominate(ctx, sro_schema, sro_schema.example_values())
    officer_service.verify_officer(ctx, "SRO-0001", GOOD)
    register_service.activate(ctx, "SRO-0001")
    # a second SRO, with a signing key, to suspend the first (no one changes their own standing)
    second = sro_schema.example_values()
    second["nominee.name"], second["nominee.email"] = "Sid Signer", "sid@example-energy.co.uk"
    nom.nominate(ctx, sro_schema, second)
    officer_service.verify_officer(ctx, "SRO-0002", GOOD)
    register_service.activate(ctx, "SRO-0002")
    from tests.integration.adt_support import officer_signing_key

    sid_key = officer_signing_key(ctx, None, "SRO-0002")
    aro_values = nom.load_forms()["aro"].example_values()
    aro_values["nominator.officer_id"] = "SRO-0001"
    dlg = NominationWizardDialog(window.services)
    qtbot.addWidget(dlg)
    drive(qtbot, dlg, "aro", aro_values)
    register_service.suspend(ctx, "SRO-0001", "investigation", as_ref="SRO-0002",
                             key_ref=sid_key)  # meanwhile
    produce(qtbot, dlg, Path(ctx.paths.env_dir) / "never.pdf")
    assert dlg.result_value is None
    assert "Rule: an ARO is nominated by an active SRO" in dlg.message.text()
    assert not (Path(ctx.paths.env_dir) / "never.pdf").exists()
    assert [o.officer_id for o in officer_service.list_officers(ctx)] == ["SRO-0001",
                                                                          "SRO-0002"]


def test_draft_saved_and_resumed(window, qtbot):  # type: ignore[no-untyped-def]
    from smki_desktop.gui.wizards.nomination import NominationWizardDialog

    dlg = NominationWizardDialog(window.services)
    qtbot.addWidget(dlg)
    dlg.show()
    opened(qtbot, dlg)
    dlg.findChild(QWidget, "choose_sro").click()
    qtbot.mouseClick(dlg.next_button, Qt.MouseButton.LeftButton)
    set_field(qtbot, dlg, "nominee.name", "Half Done")
    set_field(qtbot, dlg, "nominee.email", "half.done@example.com")
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    saved(qtbot, dlg)
    assert "saved" in dlg.message.text()
    dlg.close()
    drafts = nom.list_drafts(window.ctx)
    assert len(drafts) == 1 and drafts[0]["nominee"] == "Half Done"
    page = open_page(window, "Officers")
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.drafts.setCurrentIndex(1)
    page.resume_draft()
    again = page.wizard
    qtbot.addWidget(again)
    opened(qtbot, again)
    assert again.wiz.step is Step.PAGE
    ed = again.findChild(QWidget, "field:nominee.name")
    assert isinstance(ed, QLineEdit) and ed.text() == "Half Done"


def test_officers_page_actions_and_forecast_page(window, qtbot, tmp_path):  # type: ignore[no-untyped-def]
    ctx = window.ctx
    sro_schema = nom.load_forms()["sro"]
    nom.nominate(ctx, sro_schema, sro_schema.example_values())
    page = open_page(window, "Officers")
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.select("SRO-0001")
    page.activate()
    # a signed change: the summary first; cancelling it signs nothing
    summary = page.confirmation
    assert "SRO-0001" in summary.text() and "Signed by" in summary.text()
    summary.reject()
    assert "activation cancelled; nothing was signed" in page.message.text()
    page.activate()
    page.confirmation.confirm()
    qtbot.waitUntil(lambda: "cannot be activated" in page.message.text(), timeout=10000)
    page.verify()
    dlg = page.verify_dialog
    dlg.date.setText(TODAY)
    dlg.verifier.setText("Vera")
    for _v, cb in dlg.evidence:
        cb.setChecked(True)
    dlg.outcome.setCurrentIndex(dlg.outcome.findData("passed"))  # no default outcome
    dlg.accept()
    qtbot.waitUntil(lambda: "verification meeting recorded" in page.message.text(),
                    timeout=10000)
    page.select("SRO-0001")
    page.activate()
    page.confirmation.confirm()
    qtbot.waitUntil(lambda: page.table.item(0, 2).text() == "active", timeout=10000)
    page.select("SRO-0001")
    page.revoke()
    page.text_dialog.edit.setText("leaver")
    page.text_dialog.accept()
    # revoking an officer is signed by another active SRO: this workstation's user is not
    # linked to one, so the page says what is needed (in the desktop's words: the 'Sign as'
    # choice, never a command-line option) and nothing changes
    qtbot.waitUntil(lambda: "'Sign as' choice" in page.message.text(), timeout=10000)
    assert "Signer: name the officer" in page.message.text()
    assert "--" not in page.message.text()
    assert page.table.item(0, 2).text() == "active"
    warnings = [page.warnings.item(i).text() for i in range(page.warnings.count())]
    assert any("Only 1 active SRO in Test: nominate at least 2" in w for w in warnings)
    page.select("SRO-0001")
    form_pdf = tmp_path / "sro-again.pdf"
    page.print_form(str(form_pdf))
    qtbot.waitUntil(lambda: form_pdf.exists(), timeout=20000)
    assert "Vera" in flat("\n".join(pdf_pages(form_pdf)))

    # the Dashboard's readiness widget records milestones as `smki readiness set` does
    from smki_desktop.gui.widgets.readiness import ReadinessWidget

    rw = ReadinessWidget(window.services)
    qtbot.addWidget(rw)
    rw.record()
    rw.dialog.srept_date.setText("2026-11-10")  # no reference: refused, naming the field
    rw.dialog.accept()
    qtbot.waitUntil(lambda: "SREPT reference" in rw.message.text(), timeout=10000)
    assert "--" not in rw.message.text()  # the desktop never names command-line options
    rw.record()
    rw.dialog.org_date.setText("2026-10-01")
    rw.dialog.srept_date.setText("2026-11-10")
    rw.dialog.srept_ref.setText("SREPT-7")
    rw.dialog.types[next(iter(rw.dialog.types))].setChecked(True)  # Organisation only
    rw.dialog.accept()
    qtbot.waitUntil(lambda: rw.message.text() == "Recorded.", timeout=10000)
    qtbot.waitUntil(lambda: "SREPT-7" in rw.findChild(QWidget, "readiness:organisation").text(),
                    timeout=10000)  # the checklists are read again on the job runner
    org = rw.findChild(QWidget, "readiness:organisation").text()
    dev = rw.findChild(QWidget, "readiness:device").text()
    assert "✔</span> Organisation identity verified" in org and "SREPT-7" in org
    assert "✘</span> SREPT passed for Device" in dev

    fpage = open_page(window, "Forecast")
    fpage.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    first = fpage.first_forecast_row  # history rows above the forecast
    assert fpage.table.rowCount() == first + 8
    fpage.table.item(first + 2, 2).setText("700")  # batched, third month
    qtbot.waitUntil(lambda: fpage.warnings.count() > 0, timeout=10000)
    assert fpage.table.item(first + 2, 2).font().bold()
    out = tmp_path / "forecast.pdf"
    fpage.export(out)
    qtbot.waitUntil(lambda: out.exists(), timeout=20000)
    assert all("TEST ENVIRONMENT" in p for p in pdf_pages(out))


@pytest.fixture(autouse=True)
def _wait_jobs(window):  # type: ignore[no-untyped-def]
    yield
    window.jobs.wait(30000)


def test_choosing_the_form_then_enter_goes_on(window, qtbot):  # type: ignore[no-untyped-def]
    """Keyboard only: Tab to the form, Space to choose it, Enter = Next (Enter did nothing on
    the first page); Alt+N and Alt+B are Next and Back."""
    from smki_desktop.gui.wizards.nomination import NominationWizardDialog

    dlg = NominationWizardDialog(window.services)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    opened(qtbot, dlg)
    radio = dlg.findChild(QWidget, "choose_sro")
    radio.setFocus()
    qtbot.keyClick(radio, Qt.Key.Key_Space)
    assert dlg.wiz.step is Step.CHOOSE and dlg.next_button.isDefault()
    qtbot.keyClick(radio, Qt.Key.Key_Return)
    assert dlg.wiz.step is Step.PAGE
    assert dlg.next_button.text() == "&Next >" and dlg.back_button.text() == "< &Back"
    assert dlg.next_button.accessibleName() == "Next"
    dlg.close()
