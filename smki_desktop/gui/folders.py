"""Remembered folders: a file dialog opens in the folder last used for the same purpose in the
same environment (Test and Live apart, in each environment's own gui-state.ini, where the
window's UI state is kept), else in the home folder; its title names the environment."""

from __future__ import annotations

from pathlib import Path

from smki_desktop.core.environment import Environment
from smki_desktop.gui.qt import QSettings
from smki_desktop.gui.tables import STATE_FILE


def _settings(env_dir: Path) -> QSettings:
    return QSettings(str(Path(env_dir) / STATE_FILE), QSettings.Format.IniFormat)


def last_folder(env_dir: Path, purpose: str) -> Path:
    """The folder last used for `purpose` here, while it exists; else the home folder."""
    kept = _settings(env_dir).value(f"folders/{purpose}", "")
    folder = Path(str(kept)) if kept else None
    return folder if folder is not None and folder.is_dir() else Path.home()


def remember_folder(env_dir: Path, purpose: str, folder: Path) -> None:
    settings = _settings(env_dir)
    settings.setValue(f"folders/{purpose}", str(folder))
    settings.sync()


def titled(title: str, env: Environment) -> str:
    """A dialog's title naming the environment it acts in: "… — Live"."""
    return f"{title} — {env.label}"
