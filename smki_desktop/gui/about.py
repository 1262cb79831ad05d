"""Help > About: the app's version (its one source, `smki_desktop.__version__`), the versions of
Python and Qt it runs on, the environment, the data folder and the environment's own folder in
it (named as Settings > General names them: `folder_rows`)."""

from __future__ import annotations

import html
import platform
import sys
from pathlib import Path

import PySide6

from smki_desktop import __version__
from smki_desktop.core.environment import Environment
from smki_desktop.gui.qt import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    Qt,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.style import app_icon
from smki_desktop.services.context import EnvPaths


def about_text(env: Environment, data_root: Path) -> str:
    frozen = " (bundle)" if getattr(sys, "frozen", False) else ""
    return (f"<h3>SMKI Desktop {__version__}</h3>"
            "<p>For the security officers (AROs and SROs) of GB smart-metering Parties who use "
            "the DCC's Smart Metering Key Infrastructure.</p>"
            f"<p>Version {__version__}{frozen}<br>"
            f"Python {platform.python_version()}, PySide6 {PySide6.__version__}<br>"
            f"Environment: {env.label}<br>"
            + "<br>".join(f"{k}: {html.escape(v)}" for k, v in folder_rows(env, data_root))
            + "</p>")


def folder_rows(env: Environment, data_root: Path) -> list[tuple[str, str]]:
    """The data folder (both environments' folders are in it) and the environment's own, named
    alike here and in Settings > General: About said "Data folder: ROOT" and General
    "Data folder: ROOT/test", one name for two folders."""
    return [("Data folder (Test and Live)", str(data_root)),
            (f"{env.label} environment's folder", str(EnvPaths.for_env(data_root, env).env_dir))]


class AboutDialog(QDialog):
    def __init__(self, env: Environment, data_root: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle("About SMKI Desktop")
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(64, 64))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        row.addWidget(icon)
        self.text = QLabel(about_text(env, data_root))
        self.text.setObjectName("aboutText")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.text, 1)
        lay.addLayout(row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.setMinimumWidth(560)  # the folders' paths on a line each
