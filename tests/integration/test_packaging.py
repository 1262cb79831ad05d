"""Packaging: the lock files pin every dependency pyproject.toml names, with hashes, inside its
version range; the dependency audit never calls an unchecked run clean."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
PKG = REPO / "packaging"


def _pins(lock: Path) -> dict[str, str]:
    text = lock.read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
    pins = {}
    for block in blocks:
        m = re.match(r"([A-Za-z0-9_.\-]+)==([^\s\\;]+)", block)
        if m:
            assert "--hash=sha256:" in block, f"{lock.name}: {m.group(1)} has no hash"
            pins[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
    return pins


def test_lock_files_pin_every_declared_dependency_within_its_range() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = [Requirement(r) for r in project["dependencies"]]
    test = [Requirement(r) for r in project["optional-dependencies"]["test"]]
    for lock, reqs in ((PKG / "requirements.txt", runtime),
                       (PKG / "requirements-test.txt", runtime + test)):
        pins = _pins(lock)
        for req in reqs:
            name = re.sub(r"[-_.]+", "-", req.name).lower()
            assert name in pins, (f"{lock.name} lacks {req.name}: run bash packaging/lock.sh "
                                  "after changing dependencies")
            assert req.specifier.contains(pins[name], prereleases=True), (
                f"{lock.name} pins {req.name}=={pins[name]} outside {req.specifier}: "
                "run bash packaging/lock.sh")
    assert "pyinstaller" in _pins(PKG / "requirements-bundle.txt")


def _audit_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_deps", PKG / "audit_deps.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["audit_deps"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def test_audit_with_no_service_reachable_says_not_checked_and_passes() -> None:
    assert shutil.which("unshare"), "util-linux unshare is needed to cut the network"
    cut = ["unshare", "--net"]  # root; otherwise a user namespace of one's own
    if subprocess.run([*cut, "true"], capture_output=True).returncode != 0:
        cut = ["unshare", "--map-root-user", "--net"]
    done = subprocess.run([*cut, "bash", str(PKG / "audit-deps.sh")],
                          capture_output=True, text=True, timeout=300)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "NOT CHECKED" in out
    assert "no known vulnerabilities" not in out.lower()


def test_audit_summary_names_vulnerabilities_and_what_was_not_checked() -> None:
    audit = _audit_module()
    report = {"dependencies": [
        {"name": "httpx", "version": "0.28.1", "vulns": []},
        {"name": "cryptography", "version": "41.0.0",
         "vulns": [{"id": "GHSA-xxxx-yyyy-zzzz", "fix_versions": ["41.0.2"]}]},
        {"name": "segno", "skip_reason": "Dependency not found on PyPI"},
    ]}
    outcome = audit.read_report(report)
    lines, code = audit.summarise("req.txt", "pypi", outcome, report_only=False)
    text = "\n".join(lines)
    assert code == 1
    assert "cryptography 41.0.0: GHSA-xxxx-yyyy-zzzz (fixed in: 41.0.2)" in text
    assert "NOT CHECKED (1): segno" in text
    assert audit.summarise("req.txt", "pypi", outcome, report_only=True)[1] == 0
    clean = audit.read_report({"dependencies": [{"name": "httpx", "version": "1",
                                                 "vulns": []}]})
    assert "no known vulnerabilities in the 1 packages" in \
        audit.summarise("r", "osv", clean, report_only=False)[0][0]
    nothing = audit.read_report({"dependencies": [{"name": "a", "skip_reason": "x"}]})
    lines, code = audit.summarise("r", "pypi", nothing, report_only=False)
    assert code == 0 and "NOT CHECKED" in lines[0]
