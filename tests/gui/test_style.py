"""One style: Fusion everywhere, light or dark colours following the desktop (forced here with
SMKI_COLOR_SCHEME), and the Test/Live banners readable in both."""

from __future__ import annotations

import pytest

from smki_desktop.core.environment import Environment
from smki_desktop.gui import style, texts
from smki_desktop.gui.qt import QApplication, QPalette


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
