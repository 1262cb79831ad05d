"""Child processes of the app (PDF layout, the Test simulator) start from a venv as
`python -m MODULE` and from a frozen bundle through the `smki` program's hidden sub-entry."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from smki_desktop import child_process
from smki_desktop.child_process import (
    RUN_MODULE_FLAG,
    module_command,
    run_child_module_if_asked,
)


def test_from_a_venv_a_child_is_python_dash_m() -> None:
    assert module_command("smki_desktop.simulator") == [sys.executable, "-m",
                                                         "smki_desktop.simulator"]


def test_from_a_bundle_a_child_runs_through_the_smki_program_beside_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gui = tmp_path / "smki-desktop"
    cli = tmp_path / "smki"
    gui.write_text("")
    cli.write_text("")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(gui))
    assert child_process.is_frozen()
    assert module_command("smki_desktop.render.isolated") == [
        str(cli), RUN_MODULE_FLAG, "smki_desktop.render.isolated"]


def test_only_the_app_s_child_modules_can_be_run() -> None:
    with pytest.raises(ValueError):
        module_command("os")
    assert run_child_module_if_asked(["smki", RUN_MODULE_FLAG, "os"]) == 2
    assert run_child_module_if_asked(["smki", "--version"]) is None
    assert run_child_module_if_asked(["smki"]) is None


def test_the_sub_entry_runs_the_module_as_main(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    code = run_child_module_if_asked(["smki", RUN_MODULE_FLAG, "smki_desktop.simulator",
                                      "--help"])
    assert code == 0
    assert "smki-simulator" in capsys.readouterr().out
