"""Linting CSR and certificate files against this environment's SMKI profile (`smki lint`):
each file read, linted (PEM, DER or bare Base64) and, for a certificate, checked against the
other environment's marks. Needs no context (no keyring, no database): the profile is the
environment's own, or the user's override file in the environment's folder."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError
from smki_desktop.core.profiles import SmkiProfile
from smki_desktop.crypto.lint import LintReport, lint_bytes
from smki_desktop.profile_data import load_profile, override_path
from smki_desktop.services import crossing
from smki_desktop.services.context import EnvPaths


@dataclass(frozen=True)
class FileLint:
    """One file's outcome: a lint report, or why it could not be linted (`error`: unreadable,
    neither a CSR nor a certificate), or why it is refused (`refused`: the other
    environment's certificate)."""

    name: str
    report: LintReport | None = None
    error: str = ""
    refused: str = ""
    unreadable: bool = False  # `error` is the reason the file could not be read

    @property
    def error_text(self) -> str:
        """The error in a sentence that names the file."""
        return f"{self.name}: {self.error}" if self.unreadable else self.error

    @property
    def exit_code(self) -> int:
        """2 bad input, 1 a finding or refusal, 0 clean."""
        if self.error:
            return 2
        if self.refused or (self.report is not None and not self.report.ok):
            return 1
        return 0


def lint_profile(env: Environment, root: Path) -> SmkiProfile:
    """The profile files are linted against (an override under ROOT/<env>/profiles/ wins)."""
    return load_profile(env, override_path(EnvPaths.for_env(root, env).env_dir, env))


def lint_file(env: Environment, root: Path, name: str, profile: SmkiProfile) -> FileLint:
    try:
        data = Path(name).read_bytes()
    except OSError as exc:
        return FileLint(name, error=f"cannot read: {exc.strerror or exc}", unreadable=True)
    try:
        report = lint_bytes(data, profile, name)
    except InputError as exc:
        return FileLint(name, error=exc.message)
    mismatch = crossing.certificate_environment_problem(env, root, data) \
        if report.kind != "csr" else None
    # a certificate of the other environment is a refusal, not a profile warning
    return FileLint(name, report, refused=mismatch or "")


def lint_files(env: Environment, root: Path, names: Iterable[str]
               ) -> tuple[SmkiProfile, list[FileLint]]:
    profile = lint_profile(env, root)
    return profile, [lint_file(env, root, n, profile) for n in names]
