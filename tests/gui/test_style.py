"""One style: Fusion everywhere, light or dark colours following the desktop (forced here with
SMKI_COLOR_SCHEME), and the Test/Live banners readable in both."""

from __future__ import annotations

import pytest

from smki_desktop.core.environment import Environment
from smki_desktop.gui import style, texts
from smki_desktop.gui.qt import QApplication, QColor, QPalette, QPushButton, QVBoxLayout, QWidget


@pytest.fixture
def app_style(qapp):  # type: ignore[no-untyped-def]
    old_style, old_palette = qapp.style().name(), qapp.palette()
    yield qapp
    qapp.setStyle(old_style)
    qapp.setPalette(old_palette)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_scheme_sets_a_matching_palette(app_style, monkeypatch, scheme: str) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SMKI_COLOR_SCHEME", scheme)
    assert style.apply(app_style) == scheme
    assert app_style.style().name().lower() == "fusion"
    pal = QApplication.palette()
    window = pal.color(QPalette.ColorRole.Window).lightness()
    text = pal.color(QPalette.ColorRole.WindowText).lightness()
    if scheme == "dark":
        assert window < 80 and text > 180
    else:
        assert window > 180 and text < 80


def test_banners_set_their_own_background_and_text() -> None:
    for env in Environment:
        css = texts.BANNER_STYLE[env]
        assert "background:" in css and "color:" in css


def _contrast(a: QColor, b: QColor) -> float:
    def lum(c: QColor) -> float:
        def ch(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
        return 0.2126 * ch(c.redF()) + 0.7152 * ch(c.greenF()) + 0.0722 * ch(c.blueF())
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_palette_text_is_readable(scheme: str) -> None:
    pal = style.palette(scheme)
    r = QPalette.ColorRole
    for fg, bg in ((r.WindowText, r.Window), (r.Text, r.Base), (r.ButtonText, r.Button),
                   (r.HighlightedText, r.Highlight), (r.Link, r.Base)):
        assert _contrast(pal.color(fg), pal.color(bg)) >= 4.5, (scheme, fg, bg)


def test_banner_colours_are_readable_in_both_environments() -> None:
    for env in Environment:
        css = texts.BANNER_STYLE[env]
        bg = QColor(css.split("background:")[1].split(";")[0].strip())
        fg = QColor(css.split("color:")[1].split(";")[0].strip())
        assert _contrast(fg, bg) >= 4.5, env


def test_desktop_scheme_is_read_from_its_palette(app_style, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SMKI_COLOR_SCHEME", raising=False)
    app_style.setPalette(style.palette("dark"))
    assert style.color_scheme(app_style) == "dark"
    app_style.setPalette(style.palette("light"))
    assert style.color_scheme(app_style) == "light"


def test_main_actions_get_standard_icons(qtbot) -> None:  # type: ignore[no-untyped-def]
    assert style.icon_name_for("&Generate key…") == "SP_FileDialogNewFolder"
    assert style.icon_name_for("Export PEM") == "SP_DialogSaveButton"
    assert style.icon_name_for("Sign file…") == "SP_DialogApplyButton"
    assert style.icon_name_for("Party ID") is None
    page = QWidget()
    qtbot.addWidget(page)
    lay = QVBoxLayout(page)
    gen, other, keep = QPushButton("Generate key…"), QPushButton("Details"), QPushButton("Save")
    keep.setIcon(style.app_icon())
    for b in (gen, other, keep):
        lay.addWidget(b)
    kept = keep.icon().cacheKey()
    assert style.decorate(page) == 1
    assert not gen.icon().isNull() and other.icon().isNull()
    assert keep.icon().cacheKey() == kept


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_meaning_colours_are_readable_in_both_schemes(scheme: str) -> None:
    """An error, a success, a warning and a muted note read against the window and the fields;
    a tinted background (findings, the Live summary, the ceremony's focus) under the text."""
    from smki_desktop.gui.tones import TONES

    pal = style.palette(scheme)
    r = QPalette.ColorRole
    for name, shades in TONES.items():
        c = QColor(shades[scheme == "dark"])
        if name.endswith("_bg"):
            assert _contrast(pal.color(r.Text), c) >= 4.5, (scheme, name)
        elif name.endswith("_border"):  # not text: 3:1 (WCAG non-text contrast)
            assert _contrast(c, pal.color(r.Window)) >= 3, (scheme, name)
        else:
            for bg in (r.Window, r.Base):
                assert _contrast(c, pal.color(bg)) >= 4.5, (scheme, name, bg)


def test_an_error_and_the_live_summary_follow_the_dark_scheme(app_style, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Written once for the light palette, the error red (#B00020) was unreadable on the dark
    window, and the Live summary's pale pink put the dark scheme's light text on a light
    background."""
    from smki_desktop.gui.qt import QLineEdit
    from smki_desktop.gui.widgets.confirm import ConfirmDialog
    from smki_desktop.gui.widgets.field_check import FieldCheck

    def colour(css: str, prop: str) -> QColor:
        return QColor(css.split(f"{prop}:")[1].split(";")[0].strip())

    for scheme in ("light", "dark"):
        app_style.setPalette(style.palette(scheme))
        pal = QApplication.palette()
        window, text = pal.color(QPalette.ColorRole.Window), pal.color(QPalette.ColorRole.Text)
        dlg = ConfirmDialog(None, title="Revoke", what="Revoke a certificate.",
                            env=Environment.LIVE, warning="It cannot be undone.")
        qtbot.addWidget(dlg)
        frame = dlg.findChild(QWidget, "confirmSummary")
        assert _contrast(text, colour(frame.styleSheet(), "background")) >= 4.5, scheme
        assert _contrast(colour(dlg.warning.styleSheet(), "color"), window) >= 4.5, scheme
        field = QLineEdit()
        qtbot.addWidget(field)
        error = FieldCheck().label(field)
        assert _contrast(colour(error.styleSheet(), "color"), window) >= 4.5, scheme
