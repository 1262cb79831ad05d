"""Which environment the GUI opens: the one last chosen in the GUI (Test on first run), kept in
a small file at the data root. Read by the start-up (`gui.app`), written by the window when it
opens an environment; kept apart from both so that neither imports the other."""

from __future__ import annotations

import json
from pathlib import Path

from smki_desktop.core.environment import Environment

GUI_STATE = "gui-state.json"


def remembered_environment(root: Path) -> Environment:
    try:
        data = json.loads((root / GUI_STATE).read_text())
        return Environment(data.get("environment", "test"))
    except (OSError, ValueError):
        return Environment.TEST


def remember_environment(root: Path, env: Environment) -> None:
    root.mkdir(parents=True, exist_ok=True)
    path = root / GUI_STATE
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    data["environment"] = env.value
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)
