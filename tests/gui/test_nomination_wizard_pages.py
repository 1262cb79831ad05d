"""The nomination wizard checks each page when it is left (with the nomination's own rules, in
the fields' words), is walked by keyboard (a form chosen, the focus on the first field and on
the first error, Alt letters), and signs an ARO's record with the key the nominating SRO
chooses, showing the service's warnings when done."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smki_desktop.core.eui import EuiRange
from smki_desktop.core.nomination_wizard import Step
from smki_desktop.core.party import PartyProfile, PartyType
from smki_desktop.gui.qt import QAbstractButton, QLabel, QLineEdit, Qt, QWidget
from smki_desktop.services import nomination as nom
from smki_desktop.services import officers as officer_service
from smki_desktop.services import register as register_service
from smki_desktop.services.party import set_party
from tests.gui.mnemonics import mnemonic
from tests.gui.test_nomination_wizard import GOOD, opened, set_field

SHOTS = Path(os.environ.get("SMKI_WIZARD_SHOTS", "")) if os.environ.get(
    "SMKI_WIZARD_SHOTS") else None


def shot(dlg, name: str) -> None:  # type: ignore[no-untyped-def]
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        dlg.grab().save(str(SHOTS / f"{name}.png"))


@pytest.fixture(autouse=True)
def _wait_jobs(window):  # type: ignore[no-untyped-def]
    yield
    window.jobs.wait(30000)


def active_sro(ctx) -> None:  # type: ignore[no-untyped-def]
    sro = nom.load_forms()["sro"]
    nom.nominate(ctx, sro, sro.example_values())
    officer_service.verify_officer(ctx, "SRO-0001", GOOD)
    register_service.activate(ctx, "SRO-0001")


def wizard(window, qtbot, form: str):  # type: ignore[no-untyped-def]
    from smki_desktop.gui.wizards.nomination import NominationWizardDialog

    dlg = NominationWizardDialog(window.services)
    qtbot.addWidget(dlg)
    dlg.resize(1024, 700)
    dlg.show()
    qtbot.waitExposed(dlg)
    opened(qtbot, dlg)
    dlg.findChild(QWidget, f"choose_{form}").click()
    qtbot.mouseClick(dlg.next_button, Qt.MouseButton.LeftButton)
    assert dlg.wiz.step is Step.PAGE
    return dlg


def next_page(qtbot, dlg) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(dlg.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dlg.busy(), timeout=20000)


def fill_to(qtbot, dlg, values: dict, page_id: str) -> None:  # type: ignore[no-untyped-def]
    """Fill and leave every page before `page_id`, then fill that one."""
    while True:
        page = dlg.wiz.page
        for f in page.fields:
            if not f.print_blank:
                set_field(qtbot, dlg, f.key, values[f.key])
        if page.id == page_id:
            return
        next_page(qtbot, dlg)
        assert dlg.wiz.page is not page, dlg.message.text()


def aro_values() -> dict:
    values = nom.load_forms()["aro"].example_values()
    values["nominator.officer_id"] = "SRO-0001"
    values["nominator.date"] = values["screening.date"] = datetime.now(UTC).date().isoformat()
    return values


# -- 1. each page checked when it is left ---------------------------------------------------
def test_environment_and_future_date_are_refused_on_their_own_page(window, qtbot):  # type: ignore[no-untyped-def]
    active_sro(window.ctx)
    dlg = wizard(window, qtbot, "aro")
    values = aro_values()
    values["environment.environment"] = "live"  # this is the Test application
    fill_to(qtbot, dlg, values, "environment")
    next_page(qtbot, dlg)
    assert dlg.wiz.step is Step.PAGE and dlg.wiz.page.id == "environment"
    err = dlg.findChild(QLabel, "error:environment.environment").text()
    assert "Test and Live nominations are separate" in err
    assert dlg.message.text() == "Correct the fields marked in red."
    assert dlg.focusWidget() is dlg.findChild(QWidget, "field:environment.environment")
    shot(dlg, "wizard-environment-refused")
    set_field(qtbot, dlg, "environment.environment", "test")
    values["environment.environment"] = "test"
    next_page(qtbot, dlg)
    assert dlg.wiz.page.id == "nominator"

    future = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    values["screening.date"] = future
    fill_to(qtbot, dlg, values, "screening")
    next_page(qtbot, dlg)
    assert dlg.wiz.page.id == "screening"  # not found out on the last page
    err = dlg.findChild(QLabel, "error:screening.date").text()
    assert f"{future} is in the future" in err and "screening.date" not in err
    assert dlg.focusWidget() is dlg.findChild(QWidget, "field:screening.date")
    shot(dlg, "wizard-future-screening")
    assert officer_service.list_officers(window.ctx)[-1].officer_id == "SRO-0001"


def test_the_nominating_sros_name_is_checked_on_its_page(window, qtbot):  # type: ignore[no-untyped-def]
    active_sro(window.ctx)
    dlg = wizard(window, qtbot, "aro")
    values = aro_values()
    values["nominator.name"] = "Somebody Else"  # not the register's name of SRO-0001
    fill_to(qtbot, dlg, values, "nominator")
    next_page(qtbot, dlg)
    assert dlg.wiz.step is Step.PAGE and dlg.wiz.page.id == "nominator"  # not at Produce
    err = dlg.findChild(QLabel, "error:nominator.name").text()
    assert err == "'Somebody Else' does not match the register entry SRO-0001 (Alice Example)."
    assert dlg.focusWidget() is dlg.findChild(QWidget, "field:nominator.name")
    set_field(qtbot, dlg, "nominator.name", "alice  EXAMPLE")  # spacing and case aside
    next_page(qtbot, dlg)
    assert dlg.wiz.page.id == "screening", dlg.message.text()


def test_a_produce_error_is_shown_on_its_fields_page_in_field_words(window, qtbot, tmp_path):  # type: ignore[no-untyped-def]
    active_sro(window.ctx)
    dlg = wizard(window, qtbot, "aro")
    values = aro_values()
    sro = nom.load_forms()["sro"].example_values()
    # the SRO nominates themselves without saying so: a rule across two pages, found when
    # the form is produced
    values["nominee.name"], values["nominee.email"] = sro["nominee.name"], sro["nominee.email"]
    fill_to(qtbot, dlg, values, "declarations")
    next_page(qtbot, dlg)
    assert dlg.wiz.step is Step.REVIEW, dlg.message.text()
    dlg.pdf_path.setText(str(tmp_path / "aro.pdf"))
    qtbot.mouseClick(dlg.produce_button, Qt.MouseButton.LeftButton)
    dlg.confirmation.confirm()
    qtbot.waitUntil(lambda: bool(dlg.failure), timeout=30000)
    assert "must record it as a self-nomination" in dlg.failure
    assert "nominator.self_nomination" not in dlg.failure
    # the officer is taken to the page of the answer, told under it, the focus in it
    assert dlg.wiz.step is Step.PAGE and dlg.wiz.page.id == "nominator"
    assert dlg.stack.currentWidget() is dlg.page_widgets[dlg.wiz.page_index]
    err = dlg.findChild(QLabel, "error:nominator.self_nomination").text()
    assert "must record it as a self-nomination" in err
    assert dlg.message.text().startswith("Not recorded: correct the field marked in red")
    editor = dlg.findChild(QWidget, "field:nominator.self_nomination")
    assert dlg.focusWidget() in (editor, *editor.findChildren(QWidget))
    shot(dlg, "wizard-produce-error-on-its-page")
    assert [o.officer_id for o in officer_service.list_officers(window.ctx)] == ["SRO-0001"]
    # corrected, the pages are left again up to the review
    set_field(qtbot, dlg, "nominator.self_nomination", True)
    while dlg.wiz.step is Step.PAGE:
        next_page(qtbot, dlg)
    assert dlg.wiz.step is Step.REVIEW, dlg.message.text()


def test_a_produce_error_of_no_field_stays_on_the_review(window, qtbot, tmp_path):  # type: ignore[no-untyped-def]
    active_sro(window.ctx)  # who holds no file-signing key here: a rule of the whole form
    dlg = wizard(window, qtbot, "aro")
    fill_to(qtbot, dlg, aro_values(), "declarations")
    next_page(qtbot, dlg)
    assert dlg.wiz.step is Step.REVIEW
    dlg.pdf_path.setText(str(tmp_path / "aro.pdf"))
    qtbot.mouseClick(dlg.produce_button, Qt.MouseButton.LeftButton)
    dlg.confirmation.confirm()
    qtbot.waitUntil(lambda: bool(dlg.failure), timeout=30000)
    assert dlg.wiz.step is Step.REVIEW
    assert dlg.message.text().startswith(
        "Rule: an ARO's nomination is signed by the nominating SRO")
    assert not (tmp_path / "aro.pdf").exists()
    qtbot.mouseClick(dlg.back_button, Qt.MouseButton.LeftButton)
    assert dlg.wiz.step is Step.PAGE and dlg.message.text() == ""


# -- 2. keyboard ----------------------------------------------------------------------------
def test_keyboard_choice_focus_party_id_and_alt_letters(window, qtbot):  # type: ignore[no-untyped-def]
    from smki_desktop.gui.wizards.nomination import NominationWizardDialog

    set_party(window.ctx, PartyProfile("Example Energy Ltd", "EXEN", PartyType.IMPORT_SUPPLIER, (
        EuiRange.parse("90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF"),)))
    dlg = NominationWizardDialog(window.services)
    qtbot.addWidget(dlg)
    dlg.resize(1024, 700)
    dlg.show()
    dlg.activateWindow()
    qtbot.waitActive(dlg)
    opened(qtbot, dlg)
    sro, aro = dlg.findChild(QWidget, "choose_sro"), dlg.findChild(QWidget, "choose_aro")
    assert sro.isChecked() and dlg.next_button.isEnabled()  # a form is always chosen
    assert dlg.focusWidget() is sro
    qtbot.keyClick(sro, Qt.Key.Key_Down)  # the arrow moves the choice
    assert aro.isChecked() and not sro.isChecked()
    shot(dlg, "wizard-choose")
    qtbot.keyClick(aro, Qt.Key.Key_Return)
    assert dlg.wiz.step is Step.PAGE
    assert dlg.focusWidget() is dlg.findChild(QWidget, "field:nominee.name")  # not the scroll
    party = dlg.findChild(QLineEdit, "field:nominee.party_id")
    assert party.text() == "EXEN"  # from the Party profile
    party.clear()
    qtbot.keyClicks(party, "exen")
    assert party.text() == "EXEN" and dlg.wiz.values["nominee.party_id"] == "EXEN"
    set_field(qtbot, dlg, "nominee.name", "Bob Example")
    set_field(qtbot, dlg, "nominee.email", "bob(at)example")
    qtbot.keyClick(dlg.focusWidget(), Qt.Key.Key_Return)
    assert dlg.message.text() == "Correct the fields marked in red."
    assert dlg.focusWidget() is dlg.findChild(QWidget, "field:nominee.job_title")  # 1st error
    shot(dlg, "wizard-first-error")

    # the review's Alt letters: Produce and Browse have theirs, none claimed twice
    values = aro_values()
    active_sro(window.ctx)
    dlg.close()
    dlg = wizard(window, qtbot, "aro")
    fill_to(qtbot, dlg, values, "declarations")
    next_page(qtbot, dlg)
    assert dlg.wiz.step is Step.REVIEW
    claimed: dict[str, list[str]] = {}
    for w in [*dlg.findChildren(QAbstractButton), *dlg.findChildren(QLabel)]:
        if w.isVisibleTo(dlg) and (k := mnemonic(w.text())) is not None:
            claimed.setdefault(k, []).append(w.text())
    assert claimed.get("p") == ["&Produce form"] and claimed.get("w") == ["Bro&wse…"]
    assert {k: v for k, v in claimed.items() if len(v) > 1} == {}
    shot(dlg, "wizard-review")


# -- 3. the nominating SRO's key, the service's warnings -------------------------------------
def test_sign_as_among_the_sros_keys_and_warnings_when_done(window, qtbot, tmp_path):  # type: ignore[no-untyped-def]
    from tests.integration.adt_support import officer_signing_key

    ctx = window.ctx
    active_sro(ctx)
    officer_signing_key(ctx, None, "SRO-0001")
    second = officer_signing_key(ctx, None, "SRO-0001")
    dlg = wizard(window, qtbot, "aro")
    values = aro_values()
    values["nominee.organisation"] = "Example Energy Trading"  # not the SRO's name for it
    fill_to(qtbot, dlg, values, "declarations")
    next_page(qtbot, dlg)
    assert dlg.wiz.step is Step.REVIEW
    qtbot.waitUntil(lambda: dlg.sign_as.isVisibleTo(dlg), timeout=20000)
    assert len(dlg.sign_as.choices) == 2
    assert {c.officer_id for c in dlg.sign_as.choices} == {"SRO-0001"}
    dlg.sign_as.select("SRO-0001", second)
    shot(dlg, "wizard-sign-as")
    dlg.pdf_path.setText(str(tmp_path / "aro.pdf"))
    qtbot.mouseClick(dlg.produce_button, Qt.MouseButton.LeftButton)
    dlg.confirmation.confirm()
    qtbot.waitUntil(lambda: dlg.result_value is not None or bool(dlg.failure), timeout=30000)
    res = dlg.result_value
    assert res is not None, dlg.failure
    assert res.signed_by == second and res.signed_by_officer == "SRO-0001"
    assert res.warnings  # the organisation's name differs
    done = dlg.findChild(QLabel, "done").text()
    assert "Record signed by SRO-0001" in done
    assert "Example Energy Trading" in done and "⚠ Organisation: the form says" in done
    assert "nominee.organisation" not in done  # the field's label, not its key
    shot(dlg, "wizard-done-warnings")


def test_sign_as_not_asked_with_one_key(window, qtbot):  # type: ignore[no-untyped-def]
    from tests.integration.adt_support import officer_signing_key

    active_sro(window.ctx)
    officer_signing_key(window.ctx, None, "SRO-0001")
    dlg = wizard(window, qtbot, "aro")
    fill_to(qtbot, dlg, aro_values(), "declarations")
    next_page(qtbot, dlg)
    assert dlg.wiz.step is Step.REVIEW
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    assert not dlg.sign_as.isVisibleTo(dlg)


def test_produce_asks_first_with_what_is_recorded_and_signed(window, qtbot, tmp_path):  # type: ignore[no-untyped-def]
    """Produce records and signs: the summary (nominee, nominating SRO, signing key, copy) comes
    first, as before every act that signs; cancelled, nothing is recorded."""
    from smki_desktop.core.environment import Environment
    from smki_desktop.gui.widgets.confirm import LIVE_FRAME

    active_sro(window.ctx)
    dlg = wizard(window, qtbot, "aro")
    values = aro_values()
    fill_to(qtbot, dlg, values, "declarations")
    next_page(qtbot, dlg)
    assert dlg.wiz.step is Step.REVIEW
    dlg.pdf_path.setText(str(tmp_path / "aro.pdf"))
    qtbot.mouseClick(dlg.produce_button, Qt.MouseButton.LeftButton)
    summary = dlg.confirmation
    text = summary.plain
    assert f"Nominee: {values['nominee.name']} <{values['nominee.email']}>" in text
    assert "Nominated by: Alice Example (SRO-0001)" in text
    assert "Record signed with: the nominating SRO's file-signing key held here" in text
    assert f"Copy of the form: {tmp_path / 'aro.pdf'}" in text
    assert (summary.env is Environment.LIVE) == (LIVE_FRAME in summary.findChild(
        QWidget, "confirmSummary").styleSheet())
    summary.reject()
    assert dlg.message.text() == "Not recorded: cancelled."
    assert dlg.wiz.step is Step.REVIEW and dlg.result_value is None
    assert [o.officer_id for o in officer_service.list_officers(window.ctx)] == ["SRO-0001"]
    assert not (tmp_path / "aro.pdf").exists()

