"""Loads the per-environment SMKI profile documents: the bundled `resources/profiles/<env>.json`,
or a user's override file (e.g. Live values configured by the Party) when one is given."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from smki_desktop.core.environment import Environment
from smki_desktop.core.profiles import SmkiProfile, parse_profile
from smki_desktop.resources_path import resource


def bundled_profile_path(env: Environment) -> Path:
    return resource("profiles", f"{env.value}.json")


@lru_cache(maxsize=8)
def _load(path: str, env: Environment) -> SmkiProfile:
    return parse_profile(Path(path).read_bytes(), expected=env)


def load_profile(env: Environment, override: Path | None = None) -> SmkiProfile:
    """The profile of `env`: the override file if it exists, else the bundled one."""
    path = override if override is not None and override.is_file() else bundled_profile_path(env)
    return _load(str(path), env)


def override_path(env_dir: Path, env: Environment) -> Path:
    """Where a user's profile override for an environment lives: ENV_DIR/profiles/<env>.json."""
    return env_dir / "profiles" / f"{env.value}.json"
