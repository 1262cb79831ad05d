"""The desktop entry and the AppStream metadata pass the freedesktop validators (Debian's
desktop-file-utils and appstream, installed by `setup.sh --test`), and agree with the app: the
program they launch, the icon set, and the version."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

from PySide6.QtGui import QImage

from smki_desktop import __version__

REPO = Path(__file__).resolve().parents[2]
APP_ID = "uk.org.smki.SmkiDesktop"
DESKTOP = REPO / "packaging" / f"{APP_ID}.desktop"
METAINFO = REPO / "packaging" / f"{APP_ID}.metainfo.xml"
ICONS = REPO / "resources" / "icons"


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is not installed (bash packaging/setup.sh --test installs it)"
    return path


def test_desktop_entry_validates_and_launches_the_gui_script() -> None:
    done = subprocess.run([_tool("desktop-file-validate"), str(DESKTOP)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "error:" not in done.stdout + done.stderr
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(DESKTOP)
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["gui-scripts"]
    assert entry["Desktop Entry"]["Exec"].split()[0] in scripts
    assert entry["Desktop Entry"]["Icon"] == APP_ID
    assert entry["Desktop Action live"]["Exec"].endswith("--env live")


def test_metainfo_validates_offline_and_carries_this_version() -> None:
    done = subprocess.run([_tool("appstreamcli"), "validate", "--no-net", str(METAINFO)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == DESKTOP.name
    releases = [r.get("version") for r in root.iter("release")]
    assert releases and releases[0] == __version__, "the newest release must be this version"
    changelog = (REPO / "CHANGELOG.md").read_text()
    assert f"## [{__version__}]" in changelog


def test_icon_set_has_every_size_rendered_from_the_svg() -> None:
    assert (ICONS / "smki-desktop.svg").read_text().lstrip().startswith("<?xml")
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        img = QImage(str(ICONS / f"smki-desktop-{size}.png"))
        assert not img.isNull(), size
        assert (img.width(), img.height()) == (size, size)
        assert img.hasAlphaChannel()
    assert not QImage(str(ICONS / "smki-desktop.ico")).isNull()
