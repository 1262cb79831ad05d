"""The welcome flow end to end in the GUI: the profiles filled in, then the walk in Test to a
first accepted certificate from the simulator and a signed sample ADT file; reopened from Help.
In Live the welcome saves the profiles and offers no walk."""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.core.environment import Environment
from smki_desktop.gui.first_run import DONE, TEST_AND_LIVE, FirstRunDialog
from smki_desktop.gui.main_window import MainWindow
from smki_desktop.services import certificates, simulator_control
from smki_desktop.services import first_run as walk_service


def _open_welcome(qtbot, data_root: Path, env: Environment):  # type: ignore[no-untyped-def]
    w = MainWindow(data_root, env, first_run=True)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: any(c.isVisible() for c in w.findChildren(FirstRunDialog)),
                    timeout=10000)
    dlg = next(c for c in w.findChildren(FirstRunDialog) if c.isVisible())
    return w, dlg


def _fill(dlg: FirstRunDialog) -> None:
    assert dlg.party_form is not None and dlg.officer_form is not None
    dlg.party_form.name.setText("Acme Energy Ltd")
    dlg.party_form.party_id.setText("ACME")
    dlg.party_form.ranges.setPlainText("90B3D51F30010000..90B3D51F3001FFFF")
    dlg.officer_form.name.setText("Ann Officer")


@pytest.mark.slow
def test_welcome_walks_to_a_first_accepted_test_certificate(qtbot, data_root: Path) -> None:  # type: ignore[no-untyped-def]
    w, dlg = _open_welcome(qtbot, data_root, Environment.TEST)
    assert "practice" in TEST_AND_LIVE and "real SMKI" in TEST_AND_LIVE
    _fill(dlg)
    dlg.save_button.click()
    qtbot.waitUntil(lambda: dlg.stack.currentWidget() is dlg.walk_page, timeout=10000)
    try:
        dlg.walk_button.click()
        qtbot.waitUntil(lambda: dlg.walk_result.text().startswith(("Done.", "Stopped.")),
                        timeout=180000)
        assert dlg.walk_result.text().startswith("Done."), [
            lbl.text() for lbl in dlg.step_labels.values()]
        assert all(lbl.text().startswith(DONE) for lbl in dlg.step_labels.values())
        assert w.ctx is not None
        rec = certificates.find_certificate(w.ctx, dlg.walk.certificate_serial)
        assert rec.status == "accepted" and rec.key_id == dlg.walk.key_id
        assert dlg.walk.sample_signature is not None and dlg.walk.sample_signature.is_file()
        done_steps = [e.details["step"] for e in w.ctx.audit.entries(action_prefix="first_run.")]
        assert sorted(done_steps) == sorted(name for name, _ in walk_service.STEPS)
        dlg.close_button.click()
        qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=10000)
        # reopened from Help: the profiles are there, the walk can be run again
        w.welcome_action.trigger()
        qtbot.waitUntil(lambda: getattr(w, "first_run_dialog", dlg) is not dlg,  # read first
                        timeout=10000)
        again = w.first_run_dialog
        qtbot.waitUntil(again.isVisible, timeout=10000)
        assert again.party_form is not None and again.party_form.name.text() == "Acme Energy Ltd"
        again.close()
    finally:
        if w.ctx is not None:
            w.jobs.wait(60000)
            simulator_control.stop(w.ctx)


def test_welcome_in_live_saves_profiles_and_offers_no_walk(qtbot, data_root: Path) -> None:  # type: ignore[no-untyped-def]
    w, dlg = _open_welcome(qtbot, data_root, Environment.LIVE)
    _fill(dlg)
    assert "continue" not in dlg.save_button.text()
    dlg.save_button.click()
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=10000)
    assert w.ctx is not None and w.ctx.party() is not None
    assert dlg.stack.currentWidget() is not dlg.walk_page
    w.jobs.wait(10000)


def test_welcome_shows_its_environment_and_the_party_id_rule_as_typed(qtbot, data_root: Path  # type: ignore[no-untyped-def]
                                                                     ) -> None:
    """Setting up Live looks like Live (the red banner in the dialog itself), and a Party ID
    in the wrong format is named under the field once it is left, before Save."""
    from smki_desktop.gui.qt import QLabel
    from smki_desktop.gui.texts import BANNER_STYLE

    w, dlg = _open_welcome(qtbot, data_root, Environment.LIVE)
    banner = dlg.findChild(QLabel, "welcomeBanner")
    assert banner is not None and banner.isVisible()
    assert "LIVE" in banner.text() and BANNER_STYLE[Environment.LIVE] in banner.styleSheet()
    _fill(dlg)
    form = dlg.party_form
    assert form is not None
    assert "upper-case" in form.party_id.placeholderText()
    form.party_id.setText("acme-1")
    form.party_id.editingFinished.emit()  # shown once the field is left
    assert "Party ID 'acme-1'" in form.error.text() and "upper-case" in form.error.text()
    dlg.save_button.click()  # refused inline: nothing saved, the dialog stays
    w.jobs.wait(10000)
    assert dlg.isVisible() and w.ctx is not None and w.ctx.party() is None
    form.party_id.setText("ACME")
    assert form.error.text() == ""
    dlg.save_button.click()
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=10000)
    assert w.ctx.party() is not None and w.ctx.party().party_id == "ACME"
    w.jobs.wait(10000)
