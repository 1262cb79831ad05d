"""Shared steps of the ceremony GUI tests: the ceremony file on the media, ceremony mode
opened from the Key ceremony page, every step performed with every tick given."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.ceremony_support import prepare
from tests.integration.test_ceremony_service import CEREMONY


def ceremony_on_media(window: Any, tmp_path: Path, text: str = CEREMONY) -> Path:
    """The officers and keys a ceremony needs (`prepare`), and the reviewed ceremony file
    (`text`) written on the media: its path."""
    prepare(window.services.ctx, tmp_path)
    path = tmp_path / "media" / "c.toml"
    path.parent.mkdir()
    path.write_text(text)
    return path


def open_mode(window: Any, qtbot: Any, path: Path, *, rehearsal: bool = False) -> Any:
    """Ceremony mode for `path`, opened as the page's Start / Rehearse buttons open it."""
    page = window.go_to("Key ceremony")
    page.path.setText(str(path))
    (page.rehearse_button if rehearsal else page.start_button).click()
    qtbot.waitUntil(lambda: page.mode is not None or bool(page.failure), timeout=30000)
    assert page.mode is not None, page.failure
    return page.mode


def perform_one(mode: Any, qtbot: Any) -> None:
    """The current step, with all its ticks given; it must not fail."""
    for cb in mode.checks():
        if cb.isVisible():
            cb.setChecked(True)
    mode.perform_button.click()
    qtbot.waitUntil(lambda: not mode.busy, timeout=30000)
    assert not mode.failure, mode.failure


def perform_all(mode: Any, qtbot: Any) -> None:
    """Every remaining step, each with all its ticks given, none failing."""
    while mode.current is not None:
        perform_one(mode, qtbot)
