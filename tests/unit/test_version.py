"""One version source: `smki_desktop.__version__` is what the installed package, `smki
--version` and the changelog say; `--version` answers without importing every command."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

from smki_desktop import __version__

REPO = Path(__file__).resolve().parents[2]


def test_installed_metadata_and_changelog_carry_the_version() -> None:
    assert importlib.metadata.version("smki-desktop") == __version__
    assert f"## [{__version__}]" in (REPO / "CHANGELOG.md").read_text()


def test_smki_version_is_quick_and_exact() -> None:
    probe = ("import sys; from smki_desktop.cli.main import main; rc = main(['--version']); "
             "print(rc, any(m.startswith('smki_desktop.cli.commands.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out == [f"smki {__version__}", "0 False"]
