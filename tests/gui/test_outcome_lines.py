"""A failure never looks like a success (fresh-eyes walk): Settings > Portal said "Failed: This
trust anchor belongs to … simulator" and the status line said a refusal in the same plain black
text as a success. A failure now has the word "Failed", the style's warning icon and the error
tone of the scheme in use (light and dark); a success its tick and the ok tone; a screen reader
hears "Failed" first."""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.gui import style, tones
from smki_desktop.gui.main_window import MainWindow
from smki_desktop.gui.qt import QColor
from smki_desktop.gui.settings.portal import Section as PortalSection
from smki_desktop.gui.widgets.outcome import OutcomeLine


@pytest.fixture
def app_style(qapp):  # type: ignore[no-untyped-def]
    old_palette = qapp.palette()
    yield qapp
    qapp.setPalette(old_palette)


def _colour(css: str) -> QColor:
    return QColor(css.split("color:")[1].split(";")[0].strip())


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_portal_failure_and_success_look_different(app_style, qtbot, window: MainWindow,
                                                   scheme: str) -> None:  # type: ignore[no-untyped-def]
    app_style.setPalette(style.palette(scheme))
    section = PortalSection(window.services)
    qtbot.addWidget(section)
    qtbot.waitUntil(window.jobs.idle, timeout=30_000)  # its read
    section.anchor.setText(str(Path("/nonexistent/anchor.pem")))
    section.save_endpoint()
    line = section.message
    assert line.text().startswith("Failed: Trust anchor: /nonexistent/anchor.pem")
    assert line.kind == "failed" and line.icon.isVisibleTo(section)
    assert not line.icon.pixmap().isNull()
    assert _colour(line.label.styleSheet()) == QColor(tones.tone("error"))
    assert tones.tone("error") == tones.TONES["error"][scheme == "dark"]
    assert line.label.accessibleDescription().startswith("Failed:")
    section._done(None)  # a finished action: plainly done, not in the failure's look
    assert line.kind == "ok" and line.text() == "Done."
    assert _colour(line.label.styleSheet()) == QColor(tones.tone("ok"))
    assert line.label.accessibleDescription() == "Done."  # says it already


def test_an_outcome_note_is_plain(qtbot) -> None:  # type: ignore[no-untyped-def]
    line = OutcomeLine()
    qtbot.addWidget(line)
    line.failed("Could not read the file.")  # already says it failed: no second "Failed:"
    assert line.text() == "Could not read the file." and line.kind == "failed"
    line.setText("Saving…")
    assert line.kind == "" and line.label.styleSheet() == "" and not line.icon.isVisibleTo(line)


def test_the_status_line_shows_a_failure_as_one(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    bar = window.status_line
    window.services.failed("This trust anchor belongs to the Test simulator.")
    assert bar.currentMessage() == "Failed: This trust anchor belongs to the Test simulator."
    assert bar.icon.isVisibleTo(window) and not bar.icon.pixmap().isNull()
    assert bar.icon.contentsRect().width() == 16  # not squeezed by the line's label padding
    assert _colour(bar.message.styleSheet()) == QColor(tones.tone("error"))
    assert bar.message.accessibleDescription().startswith("Failed: This trust anchor")
    window.say("Could not open the file: not PEM, DER or Base64.")  # an error box's title
    assert bar.icon.isVisibleTo(window)
    assert bar.message.accessibleDescription().startswith("Failed: Could not open")
    window.say("Signed: sample.csv.p7s.")  # a success: no warning icon, no error tone
    assert not bar.icon.isVisibleTo(window) and bar.message.styleSheet() == ""
    bar.clearMessage()
    assert not bar.icon.isVisibleTo(window)
