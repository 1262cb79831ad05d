"""The built wheel is a working installation: it carries the bundled data files (profiles, form
schemas, ADT layouts, DCC error codes) inside the package, and the app finds them there when no
checkout is beside it. Built from a copy of the tracked files, without network."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_carries_the_resources_and_they_are_found(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    # the tracked files as they are in the working tree (symlinks kept), nothing else
    files = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z"], check=True,
                           capture_output=True).stdout
    packed = subprocess.run(["tar", "-C", str(REPO), "-c", "--null", "-T", "-"], input=files,
                            check=True, capture_output=True, cwd=REPO).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=packed, check=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", str(tmp_path / "dist"), str(src)],
                   check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("smki_desktop-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / "site")
    expected = {f"smki_desktop/resources/{p.relative_to(REPO / 'resources').as_posix()}"
                for p in (REPO / "resources").rglob("*") if p.is_file()}
    assert expected and expected <= names, sorted(expected - names)
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); "
             "from smki_desktop.resources_path import resource; "
             "from smki_desktop.profile_data import load_profile; "
             "from smki_desktop.core.environment import Environment; "
             "print(resource('forms', 'sro-v1.json')); load_profile(Environment.TEST)")
    out = subprocess.run([sys.executable, "-I", "-c", probe, str(tmp_path / "site")],
                         check=True, capture_output=True, text=True, cwd=tmp_path).stdout
    assert out.strip() == str(tmp_path / "site" / "smki_desktop" / "resources" / "forms"
                              / "sro-v1.json")
