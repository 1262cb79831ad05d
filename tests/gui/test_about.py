"""Help > About shows the one version of the app; the window carries the app's icon."""

from __future__ import annotations

from smki_desktop import __version__
from smki_desktop.gui.qt import QApplication


def test_help_about_shows_the_version(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    help_menu = [a for a in window.menuBar().actions() if a.text() == "&Help"]
    assert help_menu, "no Help menu"
    titles = [a.text() for a in help_menu[0].menu().actions()]
    assert "&About SMKI Desktop" in titles and "Welcome and first steps…" in titles
    window.about_action.trigger()
    dlg = window.about_dialog
    qtbot.waitExposed(dlg)
    text = dlg.text.text()
    assert f"SMKI Desktop {__version__}" in text
    assert "Test" in text and str(window.data_root) in text
    dlg.close()


def test_the_app_icon_has_every_size() -> None:
    from smki_desktop.gui.style import ICON_SIZES, app_icon

    sizes = {(s.width(), s.height()) for s in app_icon().availableSizes()}
    assert {(n, n) for n in ICON_SIZES} <= sizes
    assert QApplication.instance() is not None


def test_about_and_settings_name_the_same_folders_alike(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    """About said "Data folder: ROOT" and Settings > General "Data folder: ROOT/test": one name
    for two folders. Both now give the data folder (Test and Live) and this environment's."""
    from smki_desktop.gui.qt import QFormLayout, QLabel, QTabWidget

    root, env_dir = str(window.data_root), str(window.data_root / "test")
    window.about_action.trigger()
    dlg = window.about_dialog
    qtbot.waitExposed(dlg)
    text = dlg.text.text()
    assert f"Data folder (Test and Live): {root}<" in text
    assert f"Test environment's folder: {env_dir}<" in text
    dlg.close()
    page = window.go_to("Settings")
    general = page.findChild(QTabWidget).widget(0)
    form = general.findChild(QFormLayout)
    rows: dict[str, str] = {}
    for i in range(form.rowCount()):
        label = form.itemAt(i, QFormLayout.ItemRole.LabelRole)
        field = form.itemAt(i, QFormLayout.ItemRole.FieldRole)
        if label is not None and field is not None and isinstance(field.widget(), QLabel):
            rows[label.widget().text()] = field.widget().text()
    assert rows["Data folder (Test and Live)"] == root
    assert rows["Test environment's folder"] == env_dir
    assert "Data folder" not in rows
