"""Where the application keeps its data when no folder is given: `SMKI_DATA_DIR`, else the
platform's user data folder. Apart from `services.context` so that the desktop start can find
the folder (and the environment remembered in it) without loading the store and key store,
which the environment's opening job loads (gui/main_window.py)."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "smki-desktop"


def default_data_root() -> Path:
    env = os.environ.get("SMKI_DATA_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs  # only without a folder given: `smki --data-dir` never needs it

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
